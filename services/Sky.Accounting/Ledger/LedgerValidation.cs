namespace Sky.Accounting.Ledger;

/// <summary>
/// A transaction of a batch the ledger refuses: malformed, unbalanced, or correcting one never posted.
/// Nothing of the batch was written. <see cref="Index"/> is its position in the batch, so a caller can name the record
/// (<c>records[3]</c>) in its own error.
/// </summary>
public sealed class InvalidTransactionException(int index, string? idempotencyKey, string reason)
    : ArgumentException($"transaction {index}{(idempotencyKey is null ? "" : $" (key '{idempotencyKey}')")}: {reason}", "transactions")
{
    public int Index { get; } = index;
    public string? IdempotencyKey { get; } = idempotencyKey;
    public string Reason { get; } = reason;
}

/// <summary>A transaction checked and ready to store: its id, and the copy the ledger keeps (stamped, usage completed).</summary>
internal sealed record PreparedTransaction(string Id, LedgerTransaction Stored);

/// <summary>The checks both stores run on a whole batch before writing any of it.</summary>
internal static class LedgerValidation
{
    public const int MaxKeyLength = 200;
    public const int MaxPeriodLength = 64;

    public static IReadOnlyList<PreparedTransaction> Prepare(IReadOnlyList<LedgerTransaction> batch, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var prepared = new PreparedTransaction[batch.Count];
        for (var i = 0; i < batch.Count; i++) prepared[i] = Prepare(i, batch[i], now);
        return prepared;
    }

    private static PreparedTransaction Prepare(int index, LedgerTransaction? tx, DateTimeOffset now)
    {
        if (tx is null) throw new InvalidTransactionException(index, null, "is null");
        var key = tx.IdempotencyKey;
        InvalidTransactionException Fail(string reason) => new(index, key, reason);

        if (string.IsNullOrEmpty(key) || key.Length > MaxKeyLength)
            throw new InvalidTransactionException(index, null, $"the idempotency key must have 1 to {MaxKeyLength} characters");
        CheckPeriod(tx.PeriodId, Fail);
        if (tx.Entries is null || tx.Entries.Count < 2) throw Fail("needs at least two entries");
        Int128 sum = 0;
        var entries = new LedgerEntry[tx.Entries.Count];
        for (var e = 0; e < entries.Length; e++)
        {
            var entry = tx.Entries[e] ?? throw Fail($"entry {e} is null");
            if (string.IsNullOrEmpty(entry.Account)) throw Fail($"entry {e} has no account");
            sum += entry.AmountNanos;
            entries[e] = entry;
        }
        if (sum != 0) throw Fail($"entries sum to {sum} nanos, not 0: a transaction must balance");

        var id = LedgerTransaction.IdFor(key);
        if (tx.Corrects is { } corrected && (!LedgerTransaction.IsId(corrected) || corrected == id))
            throw Fail($"corrects '{corrected}', which is not the id of another transaction");
        if (tx.Usage is null) throw Fail("has no usage record");
        var usage = tx.Usage.Clone();
        if (usage.UsageId.Length > 0 && usage.UsageId != id) throw Fail($"its usage_id '{usage.UsageId}' is not its transaction id {id}");
        if (usage.IdempotencyKey.Length > 0 && usage.IdempotencyKey != key) throw Fail($"its usage was posted under another key '{usage.IdempotencyKey}'");
        if (usage.PeriodId.Length > 0 && usage.PeriodId != tx.PeriodId) throw Fail($"its usage names period '{usage.PeriodId}', not '{tx.PeriodId}'");
        usage.UsageId = id;
        usage.IdempotencyKey = key;
        usage.PeriodId = tx.PeriodId;
        return new PreparedTransaction(id, tx with { Entries = Array.AsReadOnly(entries), Usage = usage, PostedAt = now, Sequence = 0 });
    }

    /// <summary>A period id is non-empty, at most 64 characters, without white space or control characters.</summary>
    public static void CheckPeriod(string? periodId, Func<string, Exception> fail)
    {
        if (string.IsNullOrEmpty(periodId) || periodId.Length > MaxPeriodLength || periodId.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            throw fail($"period '{periodId}' must have 1 to {MaxPeriodLength} characters and no white space");
    }

    public static void CheckPeriod(string? periodId) => CheckPeriod(periodId, reason => new ArgumentException(reason, nameof(periodId)));
}
