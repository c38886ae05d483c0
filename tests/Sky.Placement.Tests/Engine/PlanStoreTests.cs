using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Time.Testing;
using Sky.Accounting.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Hosting.Options;
using Sky.Placement.Engine;
using Sky.Placement.V1;
using Sky.Queues.Redis;
using Sky.Testing;
using StackExchange.Redis;

namespace Sky.Placement.Tests.Engine;

/// <summary>Plans with their quotes, and the quote's announcement committed with them on Redis (the placement outbox).</summary>
public sealed class PlanStoreTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 9, 0, 0, TimeSpan.Zero);

    private static StoredPlan Plan(string id) => new(id, "acme", new JobSpec { TaskYaml = "run: echo hi" }, new PlanResponse { PlanId = id, QuoteId = "q-" + id },
        Now.AddHours(1), new Quote { QuoteId = "q-" + id, TenantId = "acme", PlanId = id, PriceBookRevision = 7 });

    private static PendingEvent Issued(Quote quote) => new(Topics.Placement,
        new SkyEvent(Guid.NewGuid().ToString("N"), "sky-placement", "placement.quote.issued", Now, quote.QuoteId,
            new PlacementQuoteIssued { Quote = quote, Time = Timestamp.FromDateTimeOffset(Now) }));

    [SkippableFact]
    public async Task On_redis_the_plan_and_its_quote_event_commit_together_and_the_plan_reads_back_whole()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(RedisUri.ToConfiguration(new Uri(await redis.NewDatabaseAsync())));
        var store = new RedisPlanStore(connection);
        var plan = Plan("plan-1");
        var entries = await store.PutAsync(plan, [Issued(plan.Quote!)], default);

        var outbox = await connection.GetDatabase().StreamRangeAsync(EventOutbox.Key(MeshService.Placement.Name));
        Assert.Equal(entries, outbox.Select(e => e.Id).ToList());
        Assert.Equal(Topics.Placement, (string)outbox.Single()["t"]!);
        var read = await store.GetAsync("plan-1", default);
        Assert.NotNull(read);
        Assert.Equal((plan.TenantId, plan.Spec, plan.Response, plan.Quote), (read.TenantId, read.Spec, read.Response, read.Quote));
        Assert.Equal(plan.ExpiresAt, read.ExpiresAt);
        Assert.Null(await store.GetAsync("plan-2", default));
    }

    [Fact]
    public async Task In_memory_there_is_no_outbox_and_expired_plans_are_dropped_as_new_ones_arrive()
    {
        var time = new FakeTimeProvider(Now);
        var store = new MemoryPlanStore(time);
        Assert.Empty(await store.PutAsync(Plan("plan-1"), [Issued(Plan("plan-1").Quote!)], default));
        time.Advance(TimeSpan.FromHours(2));
        await store.PutAsync(Plan("plan-2"), [], default);
        Assert.Null(await store.GetAsync("plan-1", default));
        Assert.Equal("q-plan-2", (await store.GetAsync("plan-2", default))!.Quote!.QuoteId);
    }
}
