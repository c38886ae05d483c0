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
        await using var back = await TestMesh.StartAsync("placement,transfer,accounting", events: events,
            peers: new Dictionary<string, TestMesh> { ["naming"] = front, ["directory"] = front });

        var got = new ConcurrentQueue<(string Subscriber, SkyEvent Event)>();
        var bus = back.Services.GetRequiredService<IEventBus>();
        Assert.IsType<RedisStreamsEventBus>(bus);
        await using var placement = bus.Subscribe(Topics.Directory, "placement", (e, _) => { got.Enqueue(("placement", e)); return Task.CompletedTask; });
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
        while (got.Count(g => g.Event.Type == "directory.offer.registered") < 2 && DateTime.UtcNow < until) await Task.Delay(20);
        var deliveries = got.Where(g => g.Event.Type == "directory.offer.registered").ToList();
        Assert.Equal(["placement", "transfer"], deliveries.Select(d => d.Subscriber).Order());
        Assert.All(deliveries, d => Assert.Equal(registered.Offer.OfferId, ((DirectoryOfferRegistered)d.Event.Data).OfferId));
        Assert.Equal(deliveries[0].Event.Id, deliveries[1].Event.Id);
    }
}
