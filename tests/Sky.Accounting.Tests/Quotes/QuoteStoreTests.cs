using Google.Protobuf.WellKnownTypes;
using Sky.Accounting.Quotes;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Testing;
using StackExchange.Redis;

namespace Sky.Accounting.Tests.Quotes;

/// <summary>What every quote store must do: versions merge (latest issued wins, a subject id is never lost), lookups by id and subject, ends kept.</summary>
public abstract class QuoteStoreContract
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 10, 12, 0, 0, TimeSpan.Zero);
    private static readonly CancellationToken None = CancellationToken.None;

    protected abstract Task<IQuoteStore> NewStoreAsync();

    internal static Quote Quote(string id, string subject = "", decimal total = 1.05m) => new()
    {
        QuoteId = id, TenantId = "acme", SubjectKind = QuoteSubjectKind.Job, PlanId = id[2..], SubjectId = subject, PriceBookRevision = 7,
        Total = Money.FromDecimal(total, "USD"), CreatedAt = Timestamp.FromDateTimeOffset(T0),
        Lines = { new QuoteLine { LineId = "compute:train", Service = "compute", Quantity = "3600", Unit = "second", Amount = Money.FromDecimal(total, "USD"), Nodes = 1 } },
    };

    [SkippableFact]
    public async Task A_quote_is_read_back_by_id_and_once_launched_by_its_subject()
    {
        var store = await NewStoreAsync();
        await store.PutAsync(Quote("q-p1"), T0, None);
        Assert.Equal(Quote("q-p1"), await store.GetAsync("q-p1", None));
        Assert.Null(await store.FindBySubjectAsync("job-1", None));
        await store.PutAsync(Quote("q-p1", subject: "job-1"), T0.AddSeconds(5), None);
        Assert.Equal(Quote("q-p1", subject: "job-1"), await store.FindBySubjectAsync("job-1", None));
        Assert.Equal("job-1", (await store.GetAsync("q-p1", None))!.SubjectId);
        Assert.Null(await store.GetAsync("q-unknown", None));
        Assert.Null(await store.FindBySubjectAsync("job-unknown", None));
    }

    [SkippableFact]
    public async Task The_version_issued_latest_wins_whatever_order_they_arrive_in()
    {
        var store = await NewStoreAsync();
        await store.PutAsync(Quote("q-p1", total: 2m), T0.AddSeconds(10), None);
        await store.PutAsync(Quote("q-p1", total: 1m), T0, None);   // an older version delivered late
        Assert.Equal(2m, (await store.GetAsync("q-p1", None))!.Total.ToDecimal());
        await store.PutAsync(Quote("q-p1", total: 3m), T0.AddSeconds(10), None);   // same time: the later put wins
        Assert.Equal(3m, (await store.GetAsync("q-p1", None))!.Total.ToDecimal());
    }

    [SkippableFact]
    public async Task A_subject_id_once_set_is_never_lost()
    {
        var store = await NewStoreAsync();
        await store.PutAsync(Quote("q-p1", subject: "job-1", total: 1m), T0.AddSeconds(5), None);
        await store.PutAsync(Quote("q-p1", total: 2m), T0.AddSeconds(9), None);   // newer, without a subject
        var kept = (await store.GetAsync("q-p1", None))!;
        Assert.Equal(("job-1", 2m), (kept.SubjectId, kept.Total.ToDecimal()));

        // The launch version arriving after a newer re-issue without subject still names its subject.
        await store.PutAsync(Quote("q-p2", total: 2m), T0.AddSeconds(9), None);
        await store.PutAsync(Quote("q-p2", subject: "job-2", total: 1m), T0.AddSeconds(5), None);
        var adopted = (await store.FindBySubjectAsync("job-2", None))!;
        Assert.Equal(("q-p2", "job-2", 2m), (adopted.QuoteId, adopted.SubjectId, adopted.Total.ToDecimal()));
    }

    [SkippableFact]
    public async Task The_first_end_of_a_subject_is_kept()
    {
        var store = await NewStoreAsync();
        Assert.Null(await store.EndedAsync("job-1", None));
        await store.MarkEndedAsync("job-1", T0.AddMinutes(70), None);
        await store.MarkEndedAsync("job-1", T0.AddMinutes(90), None);   // a redelivered or later end
        Assert.Equal(T0.AddMinutes(70), await store.EndedAsync("job-1", None));
    }

    [SkippableFact]
    public async Task A_quote_without_an_id_is_refused()
    {
        var store = await NewStoreAsync();
        var nameless = Quote("q-p1");
        nameless.QuoteId = "";
        await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync(nameless, T0, None));
    }
}

public sealed class MemoryQuoteStoreTests : QuoteStoreContract
{
    protected override Task<IQuoteStore> NewStoreAsync() => Task.FromResult<IQuoteStore>(new MemoryQuoteStore());
}

/// <summary>The contract on a real Redis (a fresh database per test), plus: a write outlives the connection and process state that made it.</summary>
public sealed class RedisQuoteStoreTests(RedisServer redis) : QuoteStoreContract, IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly List<IConnectionMultiplexer> _connections = [];

    protected override async Task<IQuoteStore> NewStoreAsync() => new RedisQuoteStore(await ConnectAsync(await redis.NewDatabaseAsync()));

    private async Task<IConnectionMultiplexer> ConnectAsync(string store)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(Config(store));
        _connections.Add(connection);
        return connection;
    }

    [SkippableFact]
    public async Task An_accepted_write_is_read_by_a_new_store_on_a_new_connection()
    {
        var store = await redis.NewDatabaseAsync();
        await using (var first = await ConnectionMultiplexer.ConnectAsync(Config(store)))
        {
            var quotes = new RedisQuoteStore(first);
            await quotes.PutAsync(Quote("q-p1", subject: "job-1"), DateTimeOffset.UnixEpoch.AddYears(57), CancellationToken.None);
            await quotes.MarkEndedAsync("job-1", DateTimeOffset.UnixEpoch.AddYears(57).AddHours(1), CancellationToken.None);
        }
        var again = new RedisQuoteStore(await ConnectAsync(store));
        Assert.Equal(Quote("q-p1", subject: "job-1"), await again.FindBySubjectAsync("job-1", CancellationToken.None));
        Assert.Equal(DateTimeOffset.UnixEpoch.AddYears(57).AddHours(1), await again.EndedAsync("job-1", CancellationToken.None));
    }

    private static string Config(string store)
    {
        var uri = new Uri(store);
        return $"{uri.Host}:{uri.Port},defaultDatabase={uri.AbsolutePath.Trim('/')}";
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections) await connection.DisposeAsync();
    }
}
