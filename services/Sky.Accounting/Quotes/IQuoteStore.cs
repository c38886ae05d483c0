using Sky.Accounting.V1;

namespace Sky.Accounting.Quotes;

/// <summary>
/// Where accounting keeps the quotes placement and transfer issue, and when their subjects (jobs, transfers) ended.
/// A quote is issued at least twice (when planned, then with its subject id when launched or started) and events may
/// arrive late or twice, so a put is a merge: the version issued latest wins, an older one changes nothing, and a
/// subject id once known is never dropped. <see cref="MemoryQuoteStore"/> lives in the process; <see cref="RedisQuoteStore"/>
/// is shared by every host on the same Redis and survives restarts.
/// </summary>
public interface IQuoteStore
{
    /// <summary>
    /// Stores <paramref name="quote"/> as issued at <paramref name="issuedAt"/> unless a version issued later is stored
    /// (equal times: the newer put wins). Its subject id, when set, finds the quote from then on, whichever version wins.
    /// </summary>
    /// <exception cref="ArgumentException">The quote has no id.</exception>
    Task PutAsync(Quote quote, DateTimeOffset issuedAt, CancellationToken ct);

    /// <summary>The latest version of a quote (with the subject id it was given, if any), or null.</summary>
    Task<Quote?> GetAsync(string quoteId, CancellationToken ct);

    /// <summary>The latest version of the quote a job or transfer ran under, or null when none was issued for it.</summary>
    Task<Quote?> FindBySubjectAsync(string subjectId, CancellationToken ct);

    /// <summary>Records that a job or transfer has ended with all its usage published; the first time recorded is kept.</summary>
    Task MarkEndedAsync(string subjectId, DateTimeOffset at, CancellationToken ct);

    /// <summary>When the subject ended (<see cref="MarkEndedAsync"/>), or null while it runs or is unknown.</summary>
    Task<DateTimeOffset?> EndedAsync(string subjectId, CancellationToken ct);
}
