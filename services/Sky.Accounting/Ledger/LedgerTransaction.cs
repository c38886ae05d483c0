using System.Security.Cryptography;
using System.Text;
using Sky.Accounting.V1;

namespace Sky.Accounting.Ledger;

/// <summary>One leg of a transaction: credit positive, debit negative, in integer nanos of USD.</summary>
public sealed record LedgerEntry(string Account, long AmountNanos);

/// <summary>
/// A balanced posting and the rated usage it records. Its id follows from its idempotency key (client-chosen ids, as in
/// TigerBeetle), so a retry names the same transaction and is recognised as a duplicate. Posted transactions never
/// change: a correction or credit is a new transaction whose <see cref="Corrects"/> names the one it corrects.
/// </summary>
public sealed record LedgerTransaction
{
    /// <summary>1 to 200 characters, unique across the ledger; the same key twice is posted once.</summary>
    public required string IdempotencyKey { get; init; }

    /// <summary>Billing period posted to; a closed period takes no more postings.</summary>
    public required string PeriodId { get; init; }

    /// <summary>At least two entries summing to exactly zero.</summary>
    public required IReadOnlyList<LedgerEntry> Entries { get; init; }

    /// <summary>Id of the transaction this one corrects or credits, posted by an earlier call; null for an ordinary posting.</summary>
    public string? Corrects { get; init; }

    /// <summary>
    /// The usage record. The ledger stores a copy with <c>usage_id</c> set to <see cref="Id"/>, and <c>idempotency_key</c>
    /// and <c>period_id</c> filled from this transaction when empty (a different non-empty value is refused).
    /// </summary>
    public required RatedUsage Usage { get; init; }

    /// <summary>When the ledger stored it, from its <see cref="TimeProvider"/>; what a caller sets here is ignored on posting.</summary>
    public DateTimeOffset PostedAt { get; init; }

    /// <summary>Posting order across the whole ledger (1, 2, ...), set by the ledger; 0 on a transaction not read from one.</summary>
    public long Sequence { get; init; }

    /// <summary>The transaction id, <see cref="IdFor"/> of the idempotency key.</summary>
    public string Id => IdFor(IdempotencyKey);

    public const string IdPrefix = "tx-";
    private const int IdHexLength = 24;

    /// <summary>"tx-" and the first 24 hex digits (96 bits) of the SHA-256 of the key's UTF-8 bytes.</summary>
    public static string IdFor(string idempotencyKey)
    {
        ArgumentNullException.ThrowIfNull(idempotencyKey);
        Span<byte> text = stackalloc byte[Encoding.UTF8.GetMaxByteCount(Math.Min(idempotencyKey.Length, 256))];
        var bytes = idempotencyKey.Length <= 256 ? text[..Encoding.UTF8.GetBytes(idempotencyKey, text)] : Encoding.UTF8.GetBytes(idempotencyKey);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(bytes, hash);
        return IdPrefix + Convert.ToHexStringLower(hash[..(IdHexLength / 2)]);
    }

    /// <summary>True for a string shaped like an id <see cref="IdFor"/> makes.</summary>
    public static bool IsId(string? id) =>
        id?.Length == IdPrefix.Length + IdHexLength && id.StartsWith(IdPrefix, StringComparison.Ordinal) && id.AsSpan(IdPrefix.Length).IndexOfAnyExcept("0123456789abcdef") < 0;
}

/// <summary>What became of one transaction of a batch.</summary>
public enum PostOutcome
{
    /// <summary>Written, with its entries applied to the balances.</summary>
    Posted,
    /// <summary>Its key was posted before (or earlier in the same batch); nothing was written.</summary>
    Duplicate,
    /// <summary>Its period is closed; nothing was written. Rate it into the next period.</summary>
    PeriodClosed,
}

/// <summary>The id of a transaction and what became of it.</summary>
public sealed record PostResult(string TransactionId, PostOutcome Outcome);
