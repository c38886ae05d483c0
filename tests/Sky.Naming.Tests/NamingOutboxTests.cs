using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Sky.Common.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Naming.V1;
using Sky.Testing;
using StackExchange.Redis;
using static Sky.Naming.Tests.NamingAssert;
using NamingClient = Sky.Naming.V1.Naming.NamingClient;

namespace Sky.Naming.Tests;

/// <summary>
/// On Redis, every accepted naming write is announced even when publishing fails right after it: the event was stored
/// in the outbox with the write, and the sweeper publishes it under the same id with the same content.
/// </summary>
public sealed class NamingOutboxTests(RedisServer redis) : IClassFixture<RedisServer>
{
    /// <summary>A bus whose first publication of each event id fails, as if the host died between its write and its publish.</summary>
    private sealed class FirstPublishFails(IEventBus inner) : IEventBus
    {
        private readonly ConcurrentDictionary<string, bool> _failed = new();

        public Task PublishAsync(string topic, string type, IMessage data, string? subject = null, CancellationToken ct = default) =>
            inner.PublishAsync(topic, type, data, subject, ct);

        public Task PublishAsync(string topic, SkyEvent evt, CancellationToken ct = default) =>
            topic == Topics.Naming && _failed.TryAdd(evt.Id, true)
                ? Task.FromException(new InvalidOperationException("broker down"))
                : inner.PublishAsync(topic, evt, ct);

        public IAsyncDisposable Subscribe(string topic, string subscriber, Func<SkyEvent, CancellationToken, Task> handler) =>
            inner.Subscribe(topic, subscriber, handler);
    }

    [SkippableFact]
    public async Task Writes_whose_publish_fails_are_announced_by_the_sweeper_with_what_the_store_kept()
    {
        var store = await redis.NewDatabaseAsync();
        await using var mesh = await TestMesh.StartAsync("naming", store, configure: b => b.Services.AddSingleton<IEventBus>(sp =>
            new FirstPublishFails(new InProcEventBus(sp.GetRequiredService<TimeProvider>(), NullLogger<InProcEventBus>.Instance))));
        var seen = new ConcurrentQueue<SkyEvent>();
        await using var _ = mesh.Services.GetRequiredService<IEventBus>().Subscribe(Topics.Naming, "outbox-test", (e, _) =>
        {
            seen.Enqueue(e);
            return Task.CompletedTask;
        });
        var db = mesh.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        var outbox = EventOutbox.Key("naming");
        var client = mesh.Client<NamingClient>();

        // Every write is accepted although its publish failed; its event waits in the outbox.
        await NamingScenarios.CreateZoneAsync(client, "aws.sky", "aws");
        var created = await NamingScenarios.CreateRecordAsync(client, NamingScenarios.Instance("pg-1.postgres.us-east-1.aws.sky", NamingScenarios.Endpoint("10.0.0.1")));
        var updated = (await client.UpdateRecordAsync(new UpdateRecordRequest
        {
            Record = NamingScenarios.Instance(created.Name, NamingScenarios.Endpoint("10.0.0.2")), ExpectedRevision = created.Revision,
        })).Record;
        var deleted = await client.DeleteRecordAsync(new DeleteRecordRequest { Name = created.Name, ExpectedRevision = updated.Revision });
        Assert.Equal(4, await db.StreamLengthAsync(outbox));
        Assert.Empty(seen);

        var until = DateTime.UtcNow + EventOutbox.Grace + TimeSpan.FromSeconds(15);
        while (seen.Count < 4 && DateTime.UtcNow < until) await Task.Delay(100);
        var events = seen.ToArray();
        Assert.Equal(4, events.Length);
        Assert.Equal(0, await db.StreamLengthAsync(outbox));

        var zone = (NamingZoneChanged)events[0].Data;
        Assert.Equal(("aws.sky", NamingChangeType.Created, "aws.sky"), (zone.Zone.Name, zone.Change, events[0].Subject));
        var records = events.Skip(1).Select(e => (NamingRecordChanged)e.Data).ToArray();
        // The prepared events carry exactly what the store kept, revisions included.
        Assert.Equal((NamingChangeType.Created, created.Revision, 0L, created), (records[0].Change, records[0].Revision, records[0].PreviousRevision, records[0].Record));
        Assert.Equal((NamingChangeType.Updated, updated.Revision, created.Revision, updated), (records[1].Change, records[1].Revision, records[1].PreviousRevision, records[1].Record));
        Assert.Equal((NamingChangeType.Deleted, deleted.Revision, updated.Revision, updated), (records[2].Change, records[2].Revision, records[2].PreviousRevision, records[2].Record));
        Assert.All(records, r => Assert.Equal(("aws.sky", "aws", "us-east-1"), (r.Zone, r.Owner, r.Location.Region)));
    }
}
