using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging.Abstractions;
using Sky.Accounting.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Hosting.Options;
using Sky.Testing;
using Sky.Transfer.Jobs;
using Sky.Transfer.V1;
using StackExchange.Redis;

namespace Sky.Transfer.Tests.Jobs;

/// <summary>
/// Plans keep their quote, and the plan commits with its transfer.quote.issued event (in Redis: in the same script, into
/// the transfer outbox); a started transfer's quote is kept on its own, as long as the transfer.
/// </summary>
public sealed class TransferStoreQuoteTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly DateTimeOffset Now = new(2026, 11, 3, 10, 0, 0, TimeSpan.Zero);

    // Expiring from the real clock: Redis expires the key by its own.
    private static StoredTransferPlan Plan(string planId, Quote? quote) => new(planId, "acme",
        new TransferSpec { SourceUri = "file:///a/", DestinationUri = "file:///b/", TenantId = "acme" },
        new PlanTransferResponse { PlanId = planId, QuoteId = quote?.QuoteId ?? "", Bytes = 10 }, DateTimeOffset.UtcNow.AddHours(1), quote);

    private static Quote Quote(string planId) => new()
    {
        QuoteId = "q-" + planId, TenantId = "acme", PlanId = planId, SubjectKind = QuoteSubjectKind.Transfer, PriceBookRevision = 7,
        Lines = { new QuoteLine { LineId = "egress:aws/us-east-1->azure/eastus", Service = "egress", Quantity = "10", Unit = "byte" } },
        CreatedAt = Timestamp.FromDateTimeOffset(Now),
    };

    private static async Task RoundTripsAsync(ITransferStore store, EventOutbox outbox, int expectedEntries)
    {
        var quote = Quote("tplan-1");
        PendingEvent[] events = [TransferRunner.QuoteIssued(outbox, quote, Now)];
        var entries = await store.PutPlanAsync(Plan("tplan-1", quote), events, CancellationToken.None);
        Assert.Equal(expectedEntries, entries.Count);

        var read = await store.GetPlanAsync("tplan-1", CancellationToken.None);
        Assert.NotNull(read);
        Assert.Equal(quote, read.Quote);
        Assert.Equal("q-tplan-1", read.Response.QuoteId);

        // A plan stored without a quote (as before quotes) reads back without one.
        await store.PutPlanAsync(Plan("tplan-old", null), [], CancellationToken.None);
        Assert.Null((await store.GetPlanAsync("tplan-old", CancellationToken.None))!.Quote);

        Assert.Null(await store.GetQuoteAsync("q-tplan-1", CancellationToken.None));
        var started = quote.Clone();
        started.SubjectId = "xfer-1";
        await store.KeepQuoteAsync(started, CancellationToken.None);
        Assert.Equal(started, await store.GetQuoteAsync("q-tplan-1", CancellationToken.None));
        Assert.Null(await store.GetQuoteAsync("q-nope", CancellationToken.None));
    }

    [Fact]
    public async Task Memory_store_keeps_plan_quotes_and_started_quotes()
    {
        var bus = new InProcEventBus(TimeProvider.System, NullLogger<InProcEventBus>.Instance);
        var outbox = new EventOutbox(bus, TimeProvider.System, MeshService.Transfer, NullLogger<EventOutbox>.Instance);
        await RoundTripsAsync(new MemoryTransferStore(TimeProvider.System, TransferInstance.New()), outbox, expectedEntries: 0);
    }

    [Fact]
    public async Task Memory_store_drops_a_plan_a_day_after_it_expired_as_redis_expires_its_key()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now);
        var store = new MemoryTransferStore(clock, TransferInstance.New());
        await store.PutPlanAsync(Plan("tplan-a", null) with { ExpiresAt = Now.AddMinutes(30) }, [], CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(31));
        // Expired but kept: StartTransfer answers PLAN_EXPIRED rather than an unknown plan.
        Assert.NotNull(await store.GetPlanAsync("tplan-a", CancellationToken.None));
        await store.PutPlanAsync(Plan("tplan-b", null) with { ExpiresAt = clock.GetUtcNow().AddMinutes(30) }, [], CancellationToken.None);
        clock.Advance(StoredTransferPlan.KeptAfterExpiry);
        Assert.Null(await store.GetPlanAsync("tplan-a", CancellationToken.None));
        Assert.NotNull(await store.GetPlanAsync("tplan-b", CancellationToken.None));
        clock.Advance(TimeSpan.FromMinutes(31));
        Assert.Null(await store.GetPlanAsync("tplan-b", CancellationToken.None));
    }

    [SkippableFact]
    public async Task Redis_store_commits_the_plan_its_quote_and_the_event_together()
    {
        var uri = new Uri(await redis.NewDatabaseAsync());
        await using var connection = await ConnectionMultiplexer.ConnectAsync($"{uri.Host}:{uri.Port},defaultDatabase={uri.AbsolutePath.Trim('/')}");
        var bus = new InProcEventBus(TimeProvider.System, NullLogger<InProcEventBus>.Instance);
        var outbox = new EventOutbox(bus, TimeProvider.System, MeshService.Transfer, NullLogger<EventOutbox>.Instance, connection);
        await RoundTripsAsync(new RedisTransferStore(connection, TransferInstance.New()), outbox, expectedEntries: 1);

        // The event sits in the transfer outbox (for the sweeper should this host die) as the quote it announced.
        var entries = await connection.GetDatabase().StreamRangeAsync(outbox.StreamKey);
        var entry = Assert.Single(entries);
        var published = CloudEventCodec.Decode((byte[])entry["e"]!);
        Assert.Equal(("transfer.quote.issued", "q-tplan-1"), (published.Type, published.Subject));
        Assert.Equal("tplan-1", ((TransferQuoteIssued)published.Data).Quote.PlanId);
        Assert.Equal(Topics.Transfer, (string?)entry["t"]);
        var ttl = await connection.GetDatabase().KeyTimeToLiveAsync("sky:transfer:plan:tplan-1");
        Assert.NotNull(ttl);
    }
}
