namespace Greyd.Policy.Whitelists;

/// <summary>
/// The client and recipient whitelists in force. A reload builds a new set and swaps it in whole, so a request
/// sees either the old set or the new one, never a mix.
/// </summary>
public sealed class WhitelistSet(ClientWhitelist clients, RecipientWhitelist recipients)
{
    public static readonly WhitelistSet Empty = new(ClientWhitelist.Empty, RecipientWhitelist.Empty);

    public ClientWhitelist Clients { get; } = clients;

    public RecipientWhitelist Recipients { get; } = recipients;
}
