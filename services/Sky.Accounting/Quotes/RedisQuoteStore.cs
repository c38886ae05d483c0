using System.Globalization;
using Google.Protobuf;
using Sky.Accounting.V1;
using Sky.Hosting.Errors;
using StackExchange.Redis;

namespace Sky.Accounting.Quotes;

/// <summary>
/// Quotes in Redis, shared by every host on the same store; nothing is cached in-process. Keys (under
/// "&lt;prefix&gt;quotes:"): <c>body</c> (hash quote id -> Quote JSON, the version issued latest), <c>issued</c> (hash
/// quote id -> when that version was issued, in microseconds since 1970), <c>subject</c> (hash quote id -> its subject id,
/// kept apart so an older version without one can never drop it), <c>by-subject</c> (hash subject id -> quote id) and
/// <c>ended</c> (hash subject id -> when it ended). A put is one Lua script, so two hosts merging versions of one quote
/// at once end with the same answer as one host doing both.
/// </summary>
public sealed class RedisQuoteStore(IConnectionMultiplexer redis, string prefix = "sky:accounting:") : IQuoteStore
{
    private readonly RedisKey _body = prefix + "quotes:body";
    private readonly RedisKey _issued = prefix + "quotes:issued";
    private readonly RedisKey _subject = prefix + "quotes:subject";
    private readonly RedisKey _bySubject = prefix + "quotes:by-subject";
    private readonly RedisKey _ended = prefix + "quotes:ended";

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default);
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    // KEYS: body, issued, subject, by-subject. ARGV: quote id, JSON, issued (µs), subject id or ''. Returns 1 when this
    // version is now the stored one. The same rule as QuoteVersions.Merge.
    private const string PutScript = """
        local prev = redis.call('HGET', KEYS[2], ARGV[1])
        local newer = (not prev) or tonumber(ARGV[3]) >= tonumber(prev)
        if newer then
          redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
          redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
        end
        if ARGV[4] ~= '' then
          if newer or redis.call('HEXISTS', KEYS[3], ARGV[1]) == 0 then redis.call('HSET', KEYS[3], ARGV[1], ARGV[4]) end
          redis.call('HSET', KEYS[4], ARGV[4], ARGV[1])
        end
        if newer then return 1 end
        return 0
        """;

    // KEYS: body, subject. ARGV: quote id. Returns {JSON, subject} or {}.
    private const string GetScript = """
        local body = redis.call('HGET', KEYS[1], ARGV[1])
        if not body then return {} end
        return {body, redis.call('HGET', KEYS[2], ARGV[1]) or ''}
        """;

    // KEYS: by-subject, body, subject. ARGV: subject id. Returns {JSON, subject} or {}.
    private const string FindScript = """
        local id = redis.call('HGET', KEYS[1], ARGV[1])
        if not id then return {} end
        local body = redis.call('HGET', KEYS[2], id)
        if not body then return {} end
        return {body, redis.call('HGET', KEYS[3], id) or ''}
        """;

    private IDatabase Db => redis.GetDatabase();

    public async Task PutAsync(Quote quote, DateTimeOffset issuedAt, CancellationToken ct)
    {
        QuoteVersions.Check(quote);
        await RunAsync(() => Db.ScriptEvaluateAsync(PutScript, [_body, _issued, _subject, _bySubject],
            [quote.QuoteId, Formatter.Format(quote), Micros(issuedAt), quote.SubjectId]));
    }

    public async Task<Quote?> GetAsync(string quoteId, CancellationToken ct)
    {
        var result = (RedisResult[])(await RunAsync(() => Db.ScriptEvaluateAsync(GetScript, [_body, _subject], [quoteId])))!;
        return result.Length == 0 ? null : Parse((string)result[0]!, (string)result[1]!);
    }

    public async Task<Quote?> FindBySubjectAsync(string subjectId, CancellationToken ct)
    {
        var result = (RedisResult[])(await RunAsync(() => Db.ScriptEvaluateAsync(FindScript, [_bySubject, _body, _subject], [subjectId])))!;
        return result.Length == 0 ? null : Parse((string)result[0]!, (string)result[1]!);
    }

    public async Task MarkEndedAsync(string subjectId, DateTimeOffset at, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(subjectId);
        await RunAsync(() => Db.HashSetAsync(_ended, subjectId, Micros(at), When.NotExists));
    }

    public async Task<DateTimeOffset?> EndedAsync(string subjectId, CancellationToken ct)
    {
        var value = await RunAsync(() => Db.HashGetAsync(_ended, subjectId));
        return value.IsNull ? null : DateTimeOffset.UnixEpoch.AddTicks(long.Parse((string)value!, CultureInfo.InvariantCulture) * 10);
    }

    private static Quote Parse(string json, RedisValue subject)
    {
        var quote = Parser.Parse<Quote>(json);
        if (!subject.IsNullOrEmpty) quote.SubjectId = (string)subject!;
        return quote;
    }

    private static string Micros(DateTimeOffset at) =>
        ((at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10).ToString(CultureInfo.InvariantCulture);

    /// <summary>An unreachable Redis is UNAVAILABLE to the caller (retryable), not an internal error.</summary>
    private static async Task<T> RunAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
        {
            throw RpcErrors.Unavailable($"quote store unreachable: {ex.Message}");
        }
    }
}
