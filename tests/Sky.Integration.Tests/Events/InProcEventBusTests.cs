using Microsoft.Extensions.Logging.Abstractions;
using Sky.Hosting.Events;
using Sky.Mesh.V1;

namespace Sky.Integration.Tests;

public sealed class InProcEventBusTests
{
    private static InProcEventBus NewBus() => new(TimeProvider.System, NullLogger<InProcEventBus>.Instance);

    [Fact]
    public async Task Every_subscriber_of_a_topic_gets_every_event_in_order()
    {
        var bus = NewBus();
        var seenA = new List<string>();
        var seenB = new List<string>();
        var done = new TaskCompletionSource();
        await using var a = bus.Subscribe(Topics.Directory, "a", (e, _) => { seenA.Add(((RevokeApiKeyRequest)e.Data).KeyId); return Task.CompletedTask; });
        await using var b = bus.Subscribe(Topics.Directory, "b", (e, _) =>
        {
            seenB.Add(((RevokeApiKeyRequest)e.Data).KeyId);
            if (seenB.Count == 100) done.SetResult();
            return Task.CompletedTask;
        });
        await using var other = bus.Subscribe(Topics.Billing, "c", (_, _) => throw new InvalidOperationException("wrong topic"));
        for (var i = 0; i < 100; i++)
            await bus.PublishAsync(Topics.Directory, "directory.test", new RevokeApiKeyRequest { KeyId = i.ToString() });
        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => i.ToString()), seenB);
        await Task.Delay(50);
        Assert.Equal(seenB, seenA);
    }

    [Fact]
    public async Task Events_carry_cloudevent_attributes()
    {
        var bus = NewBus();
        var got = new TaskCompletionSource<SkyEvent>();
        await using var _ = bus.Subscribe(Topics.Placement, "t", (e, _) => { got.TrySetResult(e); return Task.CompletedTask; });
        await bus.PublishAsync(Topics.Placement, "placement.job.started", new RevokeApiKeyRequest { KeyId = "x" }, subject: "job-1");
        var evt = await got.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("placement.job.started", evt.Type);
        Assert.Equal("job-1", evt.Subject);
        Assert.Equal("sky-mesh", evt.Source);
        Assert.Equal(32, evt.Id.Length);
    }

    [Fact]
    public async Task A_failing_handler_is_retried_then_the_next_event_flows()
    {
        var bus = NewBus();
        var attempts = 0;
        var second = new TaskCompletionSource();
        await using var _ = bus.Subscribe(Topics.Accounting, "t", (e, _) =>
        {
            if (((RevokeApiKeyRequest)e.Data).KeyId == "poison") { attempts++; throw new InvalidOperationException("boom"); }
            second.SetResult();
            return Task.CompletedTask;
        });
        await bus.PublishAsync(Topics.Accounting, "t", new RevokeApiKeyRequest { KeyId = "poison" });
        await bus.PublishAsync(Topics.Accounting, "t", new RevokeApiKeyRequest { KeyId = "ok" });
        await second.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(InProcEventBus.MaxAttempts, attempts);
    }
}
