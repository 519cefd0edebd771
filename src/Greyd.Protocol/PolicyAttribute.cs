namespace Greyd.Protocol;

/// <summary>The request attributes greyd reads; every other attribute is skipped.</summary>
public enum PolicyAttribute
{
    Request,
    ClientAddress,
    ClientName,
    Sender,
    Recipient,
    Instance,
    EtrnDomain,
    QueueId,
    /// <summary>The HELO/EHLO name, for SPF's %{h} macro.</summary>
    HeloName,
    PolicyTestTime,
}
