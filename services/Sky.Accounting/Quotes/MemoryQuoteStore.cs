using Sky.Accounting.V1;

namespace Sky.Accounting.Quotes;

/// <summary>Quotes in this process (the embedded mesh, tests). One lock; quotes are cloned in and out.</summary>
public sealed class MemoryQuoteStore : IQuoteStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (Quote Quote, DateTimeOffset IssuedAt)> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _bySubject = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _ended = new(StringComparer.Ordinal);

    public Task PutAsync(Quote quote, DateTimeOffset issuedAt, CancellationToken ct)
    {
        QuoteVersions.Check(quote);
        lock (_gate)
        {
            var stored = _byId.TryGetValue(quote.QuoteId, out var current) ? current : ((Quote, DateTimeOffset)?)null;
            var winner = QuoteVersions.Merge(stored?.Item1, stored?.Item2, quote, issuedAt);
            _byId[quote.QuoteId] = (winner.Quote.Clone(), winner.IssuedAt);
            if (quote.SubjectId.Length > 0) _bySubject[quote.SubjectId] = quote.QuoteId;
        }
        return Task.CompletedTask;
    }

    public Task<Quote?> GetAsync(string quoteId, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_byId.TryGetValue(quoteId, out var stored) ? stored.Quote.Clone() : null);
    }

    public Task<Quote?> FindBySubjectAsync(string subjectId, CancellationToken ct)
    {
        lock (_gate)
            return Task.FromResult(_bySubject.TryGetValue(subjectId, out var id) && _byId.TryGetValue(id, out var stored) ? stored.Quote.Clone() : null);
    }

    public Task MarkEndedAsync(string subjectId, DateTimeOffset at, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(subjectId);
        lock (_gate) _ended.TryAdd(subjectId, at);
        return Task.CompletedTask;
    }

    public Task<DateTimeOffset?> EndedAsync(string subjectId, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_ended.TryGetValue(subjectId, out var at) ? at : (DateTimeOffset?)null);
    }
}

/// <summary>The merge rule every quote store applies, in one place.</summary>
internal static class QuoteVersions
{
    public static void Check(Quote quote)
    {
        ArgumentNullException.ThrowIfNull(quote);
        if (quote.QuoteId.Length == 0) throw new ArgumentException("a quote needs a quote_id", nameof(quote));
    }

    /// <summary>
    /// The version to keep: <paramref name="incoming"/> unless <paramref name="stored"/> was issued later; the kept one
    /// carries a subject id if either has one (the later version's when both do).
    /// </summary>
    public static (Quote Quote, DateTimeOffset IssuedAt) Merge(Quote? stored, DateTimeOffset? storedAt, Quote incoming, DateTimeOffset incomingAt)
    {
        if (stored is null || storedAt is not { } before) return (incoming, incomingAt);
        var (winner, loser, at) = incomingAt >= before ? (incoming, stored, incomingAt) : (stored, incoming, before);
        if (winner.SubjectId.Length > 0 || loser.SubjectId.Length == 0) return (winner, at);
        var kept = winner.Clone();
        kept.SubjectId = loser.SubjectId;
        return (kept, at);
    }
}
