using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Sky.Accounting.Billing;
using Sky.Accounting.Ledger;
using Sky.Accounting.Usage;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Events.V1;
using Sky.Pricing;
using Sky.Pricing.Reconciliation;
using Sky.Transfer.Jobs;
using Sky.Transfer.Planning;
using Sky.Transfer.V1;
using GridEgressPrice = Sky.Directory.V1.EgressPrice;
using ProtoAgreement = Sky.Accounting.V1.PeeringAgreement;
using QuotedEgressPrice = Sky.Pricing.Reconciliation.EgressPrice;
using static Sky.Transfer.Tests.TransferCatalogs;

namespace Sky.Transfer.Tests.Jobs;

/// <summary>
/// A transfer plan's quote: one egress line per region pair and one gateway line per region, priced by the UsageRater; the
/// usage of the transfer names those lines, and a transfer that went exactly as planned is billed (by accounting's own
/// rating) the quote's total, with nothing for reconciliation to explain.
/// </summary>
public sealed class TransferQuoteBuilderTests
{
    private static readonly DateTimeOffset QuotedAt = new(2026, 11, 3, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Predicted = TimeSpan.FromTicks(12_345_678_901);
    private const long Direct = 2_345_678_901_234, Relayed = 987_654_321_987;

    // A margin and minimum other than the defaults, so the test shows the quote uses the rater it is given.
    private static readonly UsageRater Rater = new(new RatingPolicy { MarginRate = 0.07m, ComputeMinimum = TimeSpan.FromMinutes(2) });

    // Tiered from us-east-1, as both the quote and the usage carry; 0.0875 per GB from us-west-2.
    private static TransferCatalogSnapshot Catalog() => TransferCatalogs.Catalog(0.0875m);

    /// <summary>Most bytes direct, the rest through us-west-2; gateways in all three regions.</summary>
    private static TransferPlan Plan()
    {
        var plan = new TransferPlan { PredictedDuration = Duration.FromTimeSpan(Predicted), TotalCost = Money.FromDecimal(0, "USD") };
        plan.Routes.Add(new TransferRoute { Bytes = Direct, Hops = { At("aws", "us-east-1"), At("azure", "eastus") } });
        plan.Routes.Add(new TransferRoute { Bytes = Relayed, Hops = { At("aws", "us-east-1"), At("aws", "us-west-2"), At("azure", "eastus") } });
        plan.Gateways.Add(new GatewayGroup { Location = At("aws", "us-east-1"), VmCount = 3, InstanceType = "m5.8xlarge", OfferId = "offer-use1" });
        plan.Gateways.Add(new GatewayGroup { Location = At("aws", "us-west-2"), VmCount = 2, InstanceType = "m5.8xlarge", OfferId = "offer-usw2" });
        plan.Gateways.Add(new GatewayGroup { Location = At("azure", "eastus"), VmCount = 1, InstanceType = "Standard_D32_v5", OfferId = "offer-eastus" });
        return plan;
    }

    private static ProtoAgreement Agreement(string id, string a, string b, int discountBps) => new()
    {
        AgreementId = id, ProviderA = a, ProviderB = b, Terms = Sky.Accounting.V1.PeeringTerms.Discounted, DiscountBps = discountBps,
        EffectiveFrom = Timestamp.FromDateTimeOffset(QuotedAt.AddDays(-1)),
    };

    private static Quote QuoteOf(IEgressAdjuster? peering = null) =>
        TransferQuoteBuilder.Build("tplan-1", "acme", Plan(), Catalog(), peering, Rater, QuotedAt);

    [Fact]
    public void Each_pair_and_gateway_region_is_a_line_priced_by_the_usage_rater()
    {
        var quote = QuoteOf();

        Assert.Equal(("q-tplan-1", "acme", "tplan-1", "", QuoteSubjectKind.Transfer, 42L), (quote.QuoteId, quote.TenantId, quote.PlanId, quote.SubjectId, quote.SubjectKind, quote.PriceBookRevision));
        Assert.Equal(QuotedAt, quote.CreatedAt.ToDateTimeOffset());
        Assert.Equal(
            ["egress:aws/us-east-1->azure/eastus", "egress:aws/us-east-1->aws/us-west-2", "egress:aws/us-west-2->azure/eastus",
             "gateway:aws/us-east-1/m5.8xlarge", "gateway:aws/us-west-2/m5.8xlarge", "gateway:azure/eastus/Standard_D32_v5"],
            quote.Lines.Select(l => l.LineId));

        void Egress(string id, long bytes, decimal perGb, string src, string dst)
        {
            var line = quote.Lines.Single(l => l.LineId == id);
            var (sp, sr) = (src.Split('/')[0], src.Split('/')[1]);
            var (dp, dr) = (dst.Split('/')[0], dst.Split('/')[1]);
            Assert.Equal(("egress", bytes.ToString(CultureInfo.InvariantCulture), "byte", perGb, "gb", 0, $"egress:{src}"),
                (line.Service, line.Quantity, line.Unit, line.UnitPrice.ToDecimal(), line.PriceUnit, line.Nodes, line.OfferId));
            Assert.Equal((sp, sr, dp, dr), (line.Location.Provider, line.Location.Region, line.Destination.Provider, line.Destination.Region));
            Assert.Equal(perGb, line.Tiers[0].PricePerGb.ToDecimal());
            var rated = Rater.Egress(EgressTiers.FromProto(line.Tiers), null, sp, sr, dp, dr, bytes / 1_000_000_000m);
            Assert.Equal(rated.Amount, line.Amount.ToDecimal());
            Assert.Equal((0m, ""), (line.PeeringDiscount.ToDecimal(), line.PeeringAgreementId));
        }
        // The direct and relayed bytes both leave us-east-1 for Azure; only the relayed ones cross the other two pairs.
        Egress("egress:aws/us-east-1->azure/eastus", Direct, 0.09m, "aws/us-east-1", "azure/eastus");
        Assert.Equal([10_240L, 0L], quote.Lines.Single(l => l.LineId == "egress:aws/us-east-1->azure/eastus").Tiers.Select(t => t.UpToGb));
        Egress("egress:aws/us-east-1->aws/us-west-2", Relayed, 0.02m, "aws/us-east-1", "aws/us-west-2");
        Egress("egress:aws/us-west-2->azure/eastus", Relayed, 0.0875m, "aws/us-west-2", "azure/eastus");

        var east = quote.Lines.Single(l => l.LineId == "gateway:aws/us-east-1/m5.8xlarge");
        var vmSeconds = 3 * 1_234.5678901m;
        Assert.Equal(("transfer-gateway", vmSeconds.ToString(CultureInfo.InvariantCulture), "second", 1.536m, "hour", 3, false),
            (east.Service, east.Quantity, east.Unit, east.UnitPrice.ToDecimal(), east.PriceUnit, east.Nodes, east.Spot));
        Assert.Equal(("offer-use1", "m5.8xlarge", "aws", "us-east-1"), (east.OfferId, east.Sku, east.Location.Provider, east.Location.Region));
        Assert.Equal(Rater.Compute(1.536m, vmSeconds, 3).Amount, east.Amount.ToDecimal());
        Assert.Equal(Rater.Compute(1.7m, 1_234.5678901m, 1).Amount, quote.Lines.Single(l => l.LineId == "gateway:azure/eastus/Standard_D32_v5").Amount.ToDecimal());

        Assert.Equal(quote.Lines.Sum(l => l.Amount.ToDecimal()), quote.Total.ToDecimal());
        Assert.Equal("USD", quote.Total.CurrencyCode);
        Assert.True(quote.Total.ToDecimal() > 0);
    }

    [Fact]
    public void A_peering_agreement_in_force_at_quote_time_discounts_its_pairs_and_is_named()
    {
        var book = new PeeringBook([Agreement("aws-azure", "aws", "azure", 2_500)]);
        var quote = QuoteOf(book.InForce(QuotedAt));

        var peered = quote.Lines.Single(l => l.LineId == "egress:aws/us-east-1->azure/eastus");
        var rated = Rater.Egress(EgressTiers.Flat(0.09m), book.InForce(QuotedAt), "aws", "us-east-1", "azure", "eastus", Direct / 1_000_000_000m);
        Assert.Equal((rated.Amount, rated.PeeringDiscount, "aws-azure"), (peered.Amount.ToDecimal(), peered.PeeringDiscount.ToDecimal(), peered.PeeringAgreementId));
        Assert.True(peered.PeeringDiscount.ToDecimal() > 0);
        // Within AWS the agreement does not apply.
        Assert.Equal("", quote.Lines.Single(l => l.LineId == "egress:aws/us-east-1->aws/us-west-2").PeeringAgreementId);
        Assert.True(quote.Total.ToDecimal() < QuoteOf().Total.ToDecimal());
    }

    [Fact]
    public void Unpriced_pairs_regions_without_a_gateway_offer_and_a_plan_without_a_duration()
    {
        var plan = Plan();
        plan.Routes.Add(new TransferRoute { Bytes = 5, Hops = { At("local", "local"), At("aws", "us-east-1") } });
        plan.Gateways.Add(new GatewayGroup { Location = At("gcp", "us-central1"), VmCount = 1, InstanceType = "n2-standard-32", OfferId = "gone" });
        var quote = TransferQuoteBuilder.Build("tplan-2", "acme", plan, Catalog(), null, Rater, QuotedAt);
        Assert.DoesNotContain(quote.Lines, l => l.LineId.Contains("local", StringComparison.Ordinal) || l.LineId.Contains("gcp", StringComparison.Ordinal));

        plan.PredictedDuration = null;
        Assert.Throws<ArgumentException>(() => TransferQuoteBuilder.Build("tplan-3", "acme", plan, Catalog(), null, Rater, QuotedAt));
    }

    /// <summary>The finished transfer: started at <see cref="QuotedAt"/> + 1 min, ran <paramref name="ran"/>.</summary>
    private static TransferJob Finished(TimeSpan ran) => new()
    {
        TransferId = "xfer-1", TenantId = "acme", PlanId = "tplan-1", QuoteId = "q-tplan-1", Plan = Plan(),
        CreatedAt = Timestamp.FromDateTimeOffset(QuotedAt.AddMinutes(1)), StartedAt = Timestamp.FromDateTimeOffset(QuotedAt.AddMinutes(1)),
        EndedAt = Timestamp.FromDateTimeOffset(QuotedAt.AddMinutes(1) + ran),
    };

    /// <summary>Accounting's own rating of the usage event (the code that posts it to the ledger).</summary>
    private static IReadOnlyList<UsagePosting.Rated> Bill(TransferUsage usage, PeeringBook book) =>
        new UsagePosting(new MemoryLedger(TimeProvider.System), Rater, new BillingCalendar(), TimeProvider.System).Rate(usage, book);

    [Fact]
    public void The_usage_names_the_quote_lines_and_an_on_plan_transfer_is_billed_the_quote_total_to_the_nano()
    {
        var book = new PeeringBook([Agreement("aws-azure", "aws", "azure", 1_000)]);
        var quote = QuoteOf(book.InForce(QuotedAt));
        var usage = TransferUsageBuilder.Build(Finished(Predicted), Catalog(), Direct + Relayed, quote);

        Assert.Equal("q-tplan-1", usage.QuoteId);
        Assert.Equal(quote.Lines.Where(l => l.Service == "egress").Select(l => l.LineId), usage.Egress.Select(e => e.QuoteLineId));
        Assert.Equal(quote.Lines.Where(l => l.Service == "transfer-gateway").Select(l => l.LineId), usage.Gateways.Select(g => g.QuoteLineId));

        var billed = Bill(usage, book);
        Assert.Equal(quote.Lines.Count, billed.Count);
        foreach (var rated in billed)
        {
            var line = quote.Lines.Single(l => l.LineId == rated.Usage.QuoteLineId);
            Assert.Equal(line.Amount.ToDecimal(), rated.Charge.Amount);
            Assert.Equal((line.PeeringAgreementId, line.PeeringDiscount.ToDecimal()), (rated.Charge.AgreementId ?? "", rated.Charge.PeeringDiscount));
        }
        Assert.Equal(quote.Total.ToDecimal(), billed.Sum(r => r.Charge.Amount));

        // Reconciliation finds nothing to explain; a copy 10 minutes longer is a longer run on the gateway lines only.
        var onPlan = new QuoteReconciler(Rater).Reconcile(Quoted(quote, book), Billed(usage, billed, book));
        Assert.Equal((0m, 0), (onPlan.Difference, onPlan.Causes.Count));
        var longer = TransferUsageBuilder.Build(Finished(Predicted + TimeSpan.FromMinutes(10)), Catalog(), Direct + Relayed, quote);
        var late = new QuoteReconciler(Rater).Reconcile(Quoted(quote, book), Billed(longer, Bill(longer, book), book));
        Assert.True(late.Difference > 0);
        Assert.All(late.Causes, c => Assert.Equal((Sky.Pricing.Reconciliation.CauseKind.LongerRun, true), (c.Kind, c.LineId.StartsWith("gateway:", StringComparison.Ordinal))));
    }

    [Fact]
    public void Usage_the_quote_has_no_line_for_names_none()
    {
        var quote = QuoteOf();
        quote.Lines.Remove(quote.Lines.Single(l => l.LineId == "egress:aws/us-west-2->azure/eastus"));
        var usage = TransferUsageBuilder.Build(Finished(Predicted), Catalog(), Direct + Relayed, quote);
        Assert.Equal("", usage.Egress.Single(e => e.Source.Region == "us-west-2").QuoteLineId);
        Assert.Equal(2, usage.Egress.Count(e => e.QuoteLineId.Length > 0));

        var unquoted = TransferUsageBuilder.Build(Finished(Predicted), Catalog(), Direct + Relayed);
        Assert.All(unquoted.Egress, e => Assert.Empty(e.QuoteLineId));
        Assert.All(unquoted.Gateways, g => Assert.Empty(g.QuoteLineId));
    }

    /// <summary>The quote's lines as reconciliation reads them (the convention of issue #8).</summary>
    private static IEnumerable<QuotedLine> Quoted(Quote quote, PeeringBook book) => quote.Lines.Select(l => new QuotedLine
    {
        LineId = l.LineId, Kind = l.Service == "egress" ? LineKind.Egress : LineKind.Gateway, OfferId = l.OfferId,
        Quantity = l.Service == "egress" ? decimal.Parse(l.Quantity, CultureInfo.InvariantCulture) / 1_000_000_000m : decimal.Parse(l.Quantity, CultureInfo.InvariantCulture),
        Nodes = Math.Max(1, l.Nodes),
        Price = l.Service == "egress"
            ? new QuotedEgressPrice(EgressTiers.FromProto(l.Tiers), new EgressRoute(l.Location.Provider, l.Location.Region, l.Destination.Provider, l.Destination.Region), quote.PriceBookRevision)
            : new ComputePrice(l.UnitPrice.ToDecimal(), l.Spot, quote.PriceBookRevision),
        Peering = new PeeringState(book.InForce(quote.CreatedAt.ToDateTimeOffset())),
        Amount = l.Amount.ToDecimal(),
    });

    /// <summary>Accounting's rated usage as reconciliation reads it.</summary>
    private static IEnumerable<BilledUsage> Billed(TransferUsage usage, IReadOnlyList<UsagePosting.Rated> rated, PeeringBook book) => rated.Select(r => new BilledUsage
    {
        UsageId = r.Usage.IdempotencyKey, LineId = r.Usage.QuoteLineId, OfferId = r.Usage.OfferId,
        Quantity = decimal.Parse(r.Usage.Quantity, CultureInfo.InvariantCulture),
        Nodes = r.Usage.Service == "egress" ? 1 : usage.Gateways.Single(g => g.QuoteLineId == r.Usage.QuoteLineId).VmCount,
        Price = r.Usage.Service == "egress"
            ? new QuotedEgressPrice(EgressTiers.FromProto(r.Usage.Tiers), new EgressRoute(r.Usage.Location.Provider, r.Usage.Location.Region, r.Usage.Destination.Provider, r.Usage.Destination.Region), r.Usage.PriceBookRevision)
            : new ComputePrice(r.Usage.UnitPrice.ToDecimal(), false, r.Usage.PriceBookRevision),
        Peering = new PeeringState(book.InForce(r.Usage.UsageEnd.ToDateTimeOffset())),
        Amount = r.Charge.Amount,
    });
}
