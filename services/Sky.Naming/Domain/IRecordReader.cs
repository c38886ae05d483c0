using Sky.Naming.V1;

namespace Sky.Naming.Domain;

/// <summary>
/// The read side of the naming store that resolvers need (the gRPC Resolve/Lookup handlers and the
/// DNS front-end). Implemented by every naming store; records come back in canonical form.
/// </summary>
public interface IRecordReader
{
    /// <summary>The record stored at exactly <paramref name="name"/>, or null when there is none.</summary>
    ValueTask<Record?> GetRecordAsync(SkyName name, CancellationToken ct = default);

    /// <summary>
    /// The instance records (five-label names) directly under the service name
    /// <c>&lt;service&gt;.&lt;region&gt;.&lt;provider&gt;.sky</c> that the lookup name
    /// <c>_&lt;service&gt;._tcp.&lt;region&gt;.&lt;provider&gt;.sky</c> stands for, in any order.
    /// </summary>
    ValueTask<IReadOnlyList<Record>> ListInstancesAsync(SkyName lookupName, CancellationToken ct = default);
}
