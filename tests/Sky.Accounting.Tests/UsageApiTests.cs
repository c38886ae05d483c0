using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.Ledger;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Testing;
using AccountingClient = Sky.Accounting.V1.Accounting.AccountingClient;
using DirectoryClient = Sky.Directory.V1.Directory.DirectoryClient;

namespace Sky.Accounting.Tests;

/// <summary>Usage from placement's events and from RecordUsage, rated and posted once per key, read back with ListUsage.</summary>
public sealed class UsageApiTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 10, 12, 0, 0, TimeSpan.Zero);

    private static PlacementJobUsage Usage(string key, string tenant = "acme", int seconds = 3600, decimal hourly = 0.8048m, DateTimeOffset? end = null) => new()
    {
        IdempotencyKey = key, TenantId = tenant, JobId = "job-1", Task = "train", Attempt = 1, Service = "compute", OfferId = "aws-g6",
        Location = new Location { Provider = "aws", Region = "us-east-1", Zone = "use1-az1" }, Sku = "g6.xlarge", NumNodes = 1,
        UnitPrice = Money.FromDecimal(hourly, "USD"), PriceUnit = "hour", Quantity = seconds.ToString(), Unit = "second",
        UsageStart = Timestamp.FromDateTimeOffset((end ?? Start) - TimeSpan.FromSeconds(seconds)),
        UsageEnd = Timestamp.FromDateTimeOffset(end ?? Start), QuoteId = "quote-1", PriceBookRevision = 7,
    };

    private static async Task<ListUsageResponse> UsageWhenAsync(AccountingClient client, ListUsageRequest request, int count)
    {
        var until = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var page = await client.ListUsageAsync(request);
            if (page.Usage.Count >= count || DateTime.UtcNow > until) return page;
            await Task.Delay(25);
        }
    }

    [Fact]
    public async Task Placement_usage_is_rated_posted_once_however_often_it_is_delivered_and_the_ledger_balances()
    {
        await using var mesh = await TestMesh.StartAsync("accounting");
        var bus = mesh.Services.GetRequiredService<IEventBus>();
        var operatorClient = mesh.Client<AccountingClient>();
        for (var i = 0; i < 3; i++)   // the same usage three times, as at-least-once delivery may bring it
            await bus.PublishAsync(Topics.Placement, "placement.job.usage", Usage("placement:job-1:train:1:0"), "job-1");
        await bus.PublishAsync(Topics.Placement, "placement.job.usage", Usage("placement:job-1:train:2:0", seconds: 20), "job-1");

        var usage = await UsageWhenAsync(operatorClient, new ListUsageRequest { SubjectId = "job-1" }, 2);
        await Task.Delay(200);   // any late duplicate would have landed by now
        usage = await operatorClient.ListUsageAsync(new ListUsageRequest { SubjectId = "job-1" });
        Assert.Equal(2, usage.Usage.Count);
        var hour = usage.Usage.Single(u => u.IdempotencyKey.EndsWith(":1:0"));
        Assert.Equal((0.8048m, 0.04024m, 0.84504m), (hour.ListAmount.ToDecimal(), hour.Margin.ToDecimal(), hour.Amount.ToDecimal()));
        Assert.Equal(("2026-11", "quote-1", 7L), (hour.PeriodId, hour.QuoteId, hour.PriceBookRevision));
        Assert.StartsWith("tx-", hour.UsageId);
        var twentySeconds = usage.Usage.Single(u => u.IdempotencyKey.EndsWith(":2:0"));
        Assert.Equal(0.013413333m, twentySeconds.ListAmount.ToDecimal());   // billed a minute: the minimum

        var balances = await mesh.Services.GetRequiredService<ILedger>().BalancesAsync(CancellationToken.None);
        Assert.Equal(0L, balances.Values.Sum());
        Assert.Equal(-(845_040_000L + 14_084_000L), balances[LedgerAccounts.Tenant("acme")]);
    }

    [Fact]
    public async Task Usage_for_a_closed_period_goes_to_the_next_one_as_an_adjustment()
    {
        await using var mesh = await TestMesh.StartAsync("accounting");
        var ledger = mesh.Services.GetRequiredService<ILedger>();
        Assert.True(await ledger.ClosePeriodAsync("2026-11", CancellationToken.None));
        await mesh.Services.GetRequiredService<IEventBus>().PublishAsync(Topics.Placement, "placement.job.usage", Usage("placement:late:1:0"), "job-1");
        var late = Assert.Single((await UsageWhenAsync(mesh.Client<AccountingClient>(), new ListUsageRequest(), 1)).Usage);
        Assert.Equal(("2026-12", "2026-11"), (late.PeriodId, late.AdjustsPeriodId));
    }

    [Fact]
    public async Task Providers_record_their_own_metered_usage_rated_from_the_directory_offer()
    {
        await using var mesh = await TestMesh.StartAsync("directory,accounting", configure: b => b.Services.AddSingleton(new Sky.Directory.Engine.DirectoryOptions { SeedBuiltinCatalog = false }));
        var aws = mesh.Client<AccountingClient>(await mesh.IssueKeyAsync(Sky.Common.V1.PrincipalKind.Provider, "aws"));
        var awsDirectory = mesh.Client<DirectoryClient>(await mesh.IssueKeyAsync(Sky.Common.V1.PrincipalKind.Provider, "aws"));
        var offer = (await awsDirectory.RegisterAsync(new RegisterRequest
        {
            Offer = new Offer
            {
                Key = "pg-1.postgres.us-east-1.aws.sky", Kind = OfferKind.ServiceInstance, Service = "postgres",
                Name = "pg-1.postgres.us-east-1.aws.sky", Version = "16.2", Location = new Location { Provider = "aws", Region = "us-east-1" },
                Price = new Sky.Directory.V1.Price { OnDemandHourly = Money.FromDecimal(2m, "USD") },
            },
            Ttl = Duration.FromTimeSpan(TimeSpan.FromMinutes(5)),
        })).Offer;
        UsageRecord Record(string key, string quantity = "1800") => new()
        {
            IdempotencyKey = key, TenantId = "acme", Provider = "aws", Service = "managed-postgres", OfferId = offer.OfferId,
            Location = new Location { Provider = "aws", Region = "us-east-1" }, Quantity = quantity, Unit = "second",
            UsageStart = Timestamp.FromDateTimeOffset(Start), UsageEnd = Timestamp.FromDateTimeOffset(Start.AddMinutes(30)),
        };

        var first = await aws.RecordUsageAsync(new RecordUsageRequest { Records = { Record("m-1"), Record("m-2") } });
        Assert.All(first.Results, r => Assert.False(r.Duplicate));
        var again = await aws.RecordUsageAsync(new RecordUsageRequest { Records = { Record("m-1") } });
        Assert.True(again.Results.Single().Duplicate);
        Assert.Equal(first.Results[0].UsageId, again.Results[0].UsageId);

        var listed = await mesh.Client<AccountingClient>().ListUsageAsync(new ListUsageRequest { Provider = "aws" });
        Assert.Equal(2, listed.Usage.Count);
        Assert.All(listed.Usage, u => Assert.Equal((1m, 0.05m, "provider:aws:"), (u.ListAmount.ToDecimal(), u.Margin.ToDecimal(), u.IdempotencyKey[..13])));

        // One bad record fails the batch, naming each bad field; nothing is posted.
        var gcpOffer = Record("m-3");
        gcpOffer.Provider = "gcp";
        var bad = Record("m-4", quantity: "1e3");
        var error = await Assert.ThrowsAsync<RpcException>(() => aws.RecordUsageAsync(new RecordUsageRequest { Records = { Record("m-5"), gcpOffer, bad } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        var fields = error.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations.Select(v => v.Field).ToList();
        Assert.Contains("records[1].provider", fields);
        Assert.Contains("records[2].quantity", fields);
        Assert.Equal(2, (await mesh.Client<AccountingClient>().ListUsageAsync(new ListUsageRequest())).Usage.Count);
    }

    [Fact]
    public async Task Tenants_read_only_their_own_usage()
    {
        await using var mesh = await TestMesh.StartAsync("accounting");
        var bus = mesh.Services.GetRequiredService<IEventBus>();
        await bus.PublishAsync(Topics.Placement, "placement.job.usage", Usage("placement:a:1:0", tenant: "acme"), "job-1");
        await bus.PublishAsync(Topics.Placement, "placement.job.usage", Usage("placement:b:1:0", tenant: "globex"), "job-1");
        Assert.Equal(2, (await UsageWhenAsync(mesh.Client<AccountingClient>(), new ListUsageRequest(), 2)).Usage.Count);
        var acme = mesh.Client<AccountingClient>(await mesh.IssueKeyAsync(Sky.Common.V1.PrincipalKind.Tenant, "acme"));
        Assert.Equal("acme", Assert.Single((await acme.ListUsageAsync(new ListUsageRequest())).Usage).TenantId);
        var denied = await Assert.ThrowsAsync<RpcException>(() => acme.ListUsageAsync(new ListUsageRequest { TenantId = "globex" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
    }
}
