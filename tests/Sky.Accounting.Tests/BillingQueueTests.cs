using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.Usage;
using Sky.Accounting.V1;
using Sky.Hosting.Events;
using Sky.Queues;
using Sky.Testing;
using static Sky.Accounting.Tests.BillingApiTests;
using AccountingClient = Sky.Accounting.V1.Accounting.AccountingClient;

namespace Sky.Accounting.Tests;

/// <summary>A tenant's billing events delivered to a queue of its own, through the queue compatibility layer (Redis Streams here).</summary>
public sealed class BillingQueueTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [SkippableFact]
    public async Task A_tenant_with_a_queue_gets_its_usage_and_invoice_events_there_and_no_one_elses()
    {
        var db = await redis.NewDatabaseAsync();
        var acmeQueue = $"{db}?stream=acme-billing&group=acme";
        await using var mesh = await TestMesh.StartAsync("accounting", configure: b => b.Configuration["Accounting:BillingQueues:acme"] = acmeQueue);
        await mesh.Services.GetRequiredService<UsagePosting>().PostAsync(
            [Compute("k1", "acme", "aws", "us-east-1", 3600, 1m), Compute("k2", "globex", "aws", "us-east-1", 3600, 1m)], CancellationToken.None);
        await mesh.Client<AccountingClient>().CloseBillingPeriodAsync(new CloseBillingPeriodRequest { PeriodId = "2026-10" });

        await using var queue = await QueueUri.OpenAsync(acmeQueue);
        var received = new List<IncomingMessage>();
        var until = DateTime.UtcNow.AddSeconds(15);
        while (received.Count < 2 && DateTime.UtcNow < until)
        {
            foreach (var m in await queue.ReceiveAsync(10, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500)))
            {
                received.Add(m);
                await queue.AckAsync(m);
            }
        }
        var events = received.Select(m => CloudEventCodec.Decode(m.Body)).ToList();
        Assert.Equal(["billing.invoice.issued", "billing.usage.rated"], events.Select(e => e.Type).Order());
        Assert.All(events, e => Assert.Equal("acme", e.Subject));
        Assert.All(received, m => Assert.Equal(CloudEventCodec.Decode(m.Body).Id, m.Attributes["ce-id"]));
        Assert.Equal(InvoiceIdsFor("acme"), ((Sky.Events.V1.BillingInvoiceIssued)events.Single(e => e.Type == "billing.invoice.issued").Data).Invoice.InvoiceId);
        Assert.Empty(await queue.ReceiveAsync(10, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(300)));
    }

    private static string InvoiceIdsFor(string tenant) => Sky.Accounting.Billing.InvoiceIds.For("2026-10", tenant);
}
