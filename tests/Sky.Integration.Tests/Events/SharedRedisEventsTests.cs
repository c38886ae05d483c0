using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Testing;

namespace Sky.Integration.Tests.Events;

/// <summary>
/// Two hosts with the services split between them and one Redis for events (<c>--events redis://…</c>): what one host's
/// services publish reaches the other's subscribers, once per subscribing service, through the host's own wiring.
/// </summary>
public sealed class SharedRedisEventsTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [SkippableFact]
    public async Task A_directory_change_on_one_host_reaches_subscribers_on_the_other()
    {
        var events = await redis.NewDatabaseAsync();
        await using var front = await TestMesh.StartAsync("naming,directory", events: events);
        await using var back = await TestMesh.StartAsync("placement,transfer,accounting", events: events, operatorToken: front.OperatorToken,
            peers: new Dictionary<string, TestMesh> { ["naming"] = front, ["directory"] = front });

        // Placement's own subscriber is its directory feed (the "placement" group); transfer has none yet, so the test
        // stands in for it (the "transfer" group).
        var got = new ConcurrentQueue<(string Subscriber, SkyEvent Event)>();
        var bus = back.Services.GetRequiredService<IEventBus>();
        Assert.IsType<RedisStreamsEventBus>(bus);
        var feed = back.Services.GetRequiredService<Sky.Placement.Catalog.DirectoryFeed>();
        await feed.ReadyAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        await using var transfer = bus.Subscribe(Topics.Directory, "transfer", (e, _) => { got.Enqueue(("transfer", e)); return Task.CompletedTask; });

        var offer = new Offer
        {
            Key = "m5.large/us-east-1", Kind = OfferKind.Compute, Location = new Location { Provider = "aws", Region = "us-east-1" },
            InstanceType = "m5.large", Hardware = new Hardware { Vcpus = 2, MemoryGib = 8 },
            Price = new Price { OnDemandHourly = Money.FromDecimal(0.096m, "USD") },
        };
        var registered = await front.Client<Sky.Directory.V1.Directory.DirectoryClient>()
            .RegisterAsync(new RegisterRequest { Offer = offer, Ttl = Duration.FromTimeSpan(TimeSpan.FromMinutes(5)) });

        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((got.IsEmpty || feed.Current.Get(registered.Offer.OfferId) is null) && DateTime.UtcNow < until) await Task.Delay(20);
        var delivery = Assert.Single(got, g => g.Event.Type == "directory.offer.registered");
        Assert.Equal(registered.Offer.OfferId, ((DirectoryOfferRegistered)delivery.Event.Data).OfferId);
        // Placement on the other host has the new offer among its candidates, at the offer's revision.
        var held = feed.Current.Get(registered.Offer.OfferId);
        Assert.NotNull(held);
        Assert.Equal(("m5.large", registered.Offer.Revision), (held.InstanceType, held.Revision));
    }

    [SkippableFact]
    public async Task A_job_launched_on_one_host_is_billed_by_accounting_on_the_other()
    {
        var events = await redis.NewDatabaseAsync();
        await using var front = await TestMesh.StartAsync("naming,directory,placement", events: events);
        await using var back = await TestMesh.StartAsync("accounting", events: events, operatorToken: front.OperatorToken,
            peers: new Dictionary<string, TestMesh> { ["directory"] = front });

        var placement = front.Client<Sky.Placement.V1.Placement.PlacementClient>();
        var launched = await placement.LaunchAsync(new Sky.Placement.V1.LaunchRequest
        {
            Spec = new Sky.Placement.V1.JobSpec { TaskYaml = "name: train\nresources:\n  cpus: 4+\nrun: echo trained\n", FileName = "train.yaml", TenantId = "acme" },
        });
        var accounting = back.Client<Sky.Accounting.V1.Accounting.AccountingClient>();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        Sky.Accounting.V1.ListUsageResponse usage;
        while ((usage = await accounting.ListUsageAsync(new Sky.Accounting.V1.ListUsageRequest { SubjectId = launched.JobId })).Usage.Count == 0 && DateTime.UtcNow < until)
            await Task.Delay(100);
        var billed = Assert.Single(usage.Usage);
        Assert.Equal(("acme", "compute", launched.JobId), (billed.TenantId, billed.Service, billed.SubjectId));
        Assert.Equal($"placement:{launched.JobId}:train:1:0", billed.IdempotencyKey);
        Assert.True(billed.Amount.ToDecimal() > 0m);
        Assert.Equal(billed.ListAmount.ToDecimal() + billed.Margin.ToDecimal(), billed.Amount.ToDecimal());
    }
}
