using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.Ledger;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Testing;
using AccountingClient = Sky.Accounting.V1.Accounting.AccountingClient;

namespace Sky.Accounting.Tests;

/// <summary>Transfer usage events: egress per region pair (peering applied at the time of use) and gateway VM time, posted once.</summary>
public sealed class TransferUsageTests
{
    private static readonly DateTimeOffset End = new(2026, 10, 20, 8, 0, 0, TimeSpan.Zero);

    private static TransferUsage Usage() => new()
    {
        IdempotencyKey = "transfer:tr-1", TenantId = "acme", TransferId = "tr-1", QuoteId = "q-tr-1", PriceBookRevision = 12,
        UsageStart = Timestamp.FromDateTimeOffset(End.AddMinutes(-10)), UsageEnd = Timestamp.FromDateTimeOffset(End),
        Egress =
        {
            new TransferEgressUsage
            {
                Source = new Location { Provider = "aws", Region = "us-east-1" }, Destination = new Location { Provider = "gcp", Region = "us-central1" },
                Bytes = 250_000_000_000, OfferId = "aws-egress-use1", UnitPrice = Money.FromDecimal(0.09m, "USD"), PriceUnit = "gb", QuoteLineId = "l1",
            },
            new TransferEgressUsage
            {
                Source = new Location { Provider = "gcp", Region = "us-central1" }, Destination = new Location { Provider = "azure", Region = "eastus" },
                Bytes = 1_073_741_824, OfferId = "gcp-egress", UnitPrice = Money.FromDecimal(0.12m, "USD"), PriceUnit = "gib",
            },
        },
        Gateways =
        {
            new TransferGatewayUsage
            {
                Location = new Location { Provider = "aws", Region = "us-east-1" }, InstanceType = "m5.8xlarge", OfferId = "aws-m5", VmCount = 2,
                VmTime = Duration.FromTimeSpan(TimeSpan.FromMinutes(40)), UnitPrice = Money.FromDecimal(1.536m, "USD"), PriceUnit = "hour",
            },
        },
    };

    [Fact]
    public async Task A_transfers_usage_is_rated_per_pair_and_gateway_with_peering_and_posted_once()
    {
        await using var mesh = await TestMesh.StartAsync("accounting");
        var op = mesh.Client<AccountingClient>();
        // aws <-> gcp egress is free from before the transfer ran.
        await op.CreatePeeringAgreementAsync(new CreatePeeringAgreementRequest
        {
            AgreementId = "aws-gcp", ProviderA = "aws", ProviderB = "gcp", Terms = Sky.Accounting.V1.PeeringTerms.Free,
            EffectiveFrom = Timestamp.FromDateTimeOffset(End.AddDays(-30)),
        });
        var bus = mesh.Services.GetRequiredService<IEventBus>();
        for (var i = 0; i < 2; i++) await bus.PublishAsync(Topics.Transfer, "transfer.usage", Usage(), "tr-1");

        ListUsageResponse usage;
        var until = DateTime.UtcNow.AddSeconds(15);
        do usage = await op.ListUsageAsync(new ListUsageRequest { SubjectId = "tr-1" });
        while (usage.Usage.Count < 3 && DateTime.UtcNow < until && await Task.Delay(25).ContinueWith(_ => true));
        await Task.Delay(200);
        usage = await op.ListUsageAsync(new ListUsageRequest { SubjectId = "tr-1" });
        Assert.Equal(3, usage.Usage.Count);

        var peered = usage.Usage.Single(u => u.Service == "egress" && u.Provider == "aws");
        Assert.Equal(("250", "gb", "gcp", "aws-gcp"), (peered.Quantity, peered.Unit, peered.Destination.Provider, peered.PeeringAgreementId));
        Assert.Equal((22.5m, 22.5m, 0m, 0m), (peered.ListAmount.ToDecimal(), peered.PeeringDiscount.ToDecimal(), peered.Margin.ToDecimal(), peered.Amount.ToDecimal()));
        Assert.Equal(("q-tr-1", "l1", 12L), (peered.QuoteId, peered.QuoteLineId, peered.PriceBookRevision));

        var listed = usage.Usage.Single(u => u.Service == "egress" && u.Provider == "gcp");
        Assert.Equal(("1", "gib", 0.12m, 0.126m), (listed.Quantity, listed.Unit, listed.ListAmount.ToDecimal(), listed.Amount.ToDecimal()));

        var vms = usage.Usage.Single(u => u.Service == "transfer-gateway");
        Assert.Equal(("2400", "second", "m5.8xlarge"), (vms.Quantity, vms.Unit, vms.Sku));
        Assert.Equal(1.024m, vms.ListAmount.ToDecimal());   // 2 VMs x 20 min (summed: 40 min) at $1.536/h

        var balances = await mesh.Services.GetRequiredService<ILedger>().BalancesAsync(CancellationToken.None);
        Assert.Equal(0L, balances.Values.Sum());
        Assert.Equal(-22_500_000_000L, balances[LedgerAccounts.Peering("aws-gcp", "aws")]);
    }
}
