namespace Greyd.Storage;

/// <summary>A store that can report its <see cref="StoreHealth"/>.</summary>
public interface IStoreHealth
{
    StoreHealth GetHealth();
}
