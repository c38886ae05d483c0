using Google.Protobuf.WellKnownTypes;
using Sky.Pricing.Reconciliation;
using static Sky.Pricing.Tests.Reconciliation.Usages;
using Proto = Sky.Accounting.V1;

namespace Sky.Pricing.Tests.Reconciliation;

/// <summary>
/// Each cause with exact amounts (5 % margin, whole nanos): the quote at 0.80/h for one hour is 0.84; the bill is rated by
/// the same engine, and the causes add up to billed - quoted to the nano.
/// </summary>
public sealed class QuoteReconcilerTests
{
    private static readonly QuoteReconciler Reconciler = new(Rater);
    private static readonly DateTimeOffset QuotedAt = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset UsedAt = QuotedAt.AddDays(2);

    private static void AssertExplained(QuoteReconciliation r)
    {
        Assert.Equal(r.Difference, r.Causes.Sum(c => c.Amount));
        Assert.DoesNotContain(r.Causes, c => c.Amount == 0);
    }

    [Fact]
    public void Usage_as_quoted_bills_the_quote_with_no_causes()
    {
        var line = ComputeLine("compute:train", "A", 0.80m, 3_600m);
        var r = Reconciler.Reconcile([line], [ComputeUsage("u1", "compute:train", "A", 0.80m, 3_600m)]);
        Assert.Equal((0.84m, 0.84m, 0m), (r.Quoted, r.Billed, r.Difference));
        Assert.Empty(r.Causes);
        var row = Assert.Single(r.Lines);
        Assert.Equal(("compute:train", "compute:train on A", 0.84m, 0.84m, "u1"), (row.LineId, row.Description, row.Quoted, row.Billed, Assert.Single(row.UsageIds)));
    }

    [Fact]
    public void A_longer_run_is_the_extra_time_at_the_quoted_price()
    {
        var r = Reconciler.Reconcile([ComputeLine("compute:train", "A", 0.80m, 3_600m)],
            [ComputeUsage("u1", "compute:train", "A", 0.80m, 4_320m, reference: "job-1/train#1")]);
        Assert.Equal(1.008m, r.Billed);   // 0.96 + 5 %
        var cause = Assert.Single(r.Causes);
        Assert.Equal((CauseKind.LongerRun, 0.168m, "compute:train", "job-1/train#1"), (cause.Kind, cause.Amount, cause.LineId, cause.Reference));
        Assert.Contains("4320 node-seconds instead of the 3600", cause.Description);
    }

    [Fact]
    public void A_shorter_run_is_negative_and_the_per_node_minimum_still_applies()
    {
        var r = Reconciler.Reconcile([ComputeLine("compute:train", "A", 0.80m, 3_600m)], [ComputeUsage("u1", "compute:train", "A", 0.80m, 1_800m)]);
        Assert.Equal((CauseKind.ShorterRun, -0.42m), (r.Causes[0].Kind, r.Causes[0].Amount));

        // 10 s on 2 nodes bills 120 node-seconds: 1.00/h x 120 s = 0.033333333, margin 0.001666667.
        var tiny = Reconciler.Reconcile([ComputeLine("c", "A", 1m, 7_200m, nodes: 2)], [ComputeUsage("u1", "c", "A", 1m, 10m, nodes: 2)]);
        Assert.Equal(0.035m, tiny.Billed);
        Assert.Equal(0.035m - 2.1m, Assert.Single(tiny.Causes).Amount);
    }

    [Fact]
    public void A_line_with_no_usage_is_a_shorter_run_of_its_whole_amount()
    {
        var r = Reconciler.Reconcile(
            [ComputeLine("compute:prep", "A", 0.80m, 3_600m), EgressLine("egress:prep->train", "grid", EgressTiers.Flat(0.09m), 1_000m)],
            [ComputeUsage("u1", "compute:prep", "A", 0.80m, 3_600m)]);
        Assert.Equal((0.84m + 94.5m, 0.84m), (r.Quoted, r.Billed));
        var cause = Assert.Single(r.Causes);
        Assert.Equal((CauseKind.ShorterRun, -94.5m, "egress:prep->train", ""), (cause.Kind, cause.Amount, cause.LineId, cause.Reference));
        Assert.Equal("no usage billed against the line", cause.Description);
        Assert.Empty(r.Lines[1].UsageIds);
        Assert.Equal(0m, r.Lines[1].Billed);
    }

    [Fact]
    public void A_spot_price_change_is_split_per_usage()
    {
        // Quoted 2 nodes x 1 h at spot 0.30/h = 0.63; ran as two attempts of half the node-time at 0.33/h and 0.36/h.
        var r = Reconciler.Reconcile([ComputeLine("compute:train", "A", 0.30m, 7_200m, nodes: 2, spot: true)],
        [
            ComputeUsage("u1", "compute:train", "A", 0.33m, 3_600m, nodes: 2, spot: true, reference: "job-1/train#1"),
            ComputeUsage("u2", "compute:train", "A", 0.36m, 3_600m, nodes: 2, spot: true, reference: "job-1/train#2"),
        ]);
        AssertExplained(r);
        Assert.Equal(
            [(CauseKind.SpotPriceChange, 0.0315m, "job-1/train#1"), (CauseKind.SpotPriceChange, 0.063m, "job-1/train#2")],
            r.Causes.Select(c => (c.Kind, c.Amount, c.Reference)));
        Assert.Equal(0.0945m, r.Difference);
    }

    [Fact]
    public void A_new_price_book_revision_is_priced_after_the_runtime_change_and_names_the_revision()
    {
        // 1.2 h at 0.80/h -> 0.88/h (revision 3 -> 4): 1.008 - 0.84 = 0.168 runtime, 1.1088 - 1.008 = 0.1008 price.
        var r = Reconciler.Reconcile([ComputeLine("compute:train", "A", 0.80m, 3_600m, revision: 3)],
            [ComputeUsage("u1", "compute:train", "A", 0.88m, 4_320m, revision: 4)]);
        AssertExplained(r);
        Assert.Equal(1.1088m, r.Billed);
        Assert.Equal([(CauseKind.LongerRun, 0.168m, "u1"), (CauseKind.PriceBookRevision, 0.1008m, "4")],
            r.Causes.Select(c => (c.Kind, c.Amount, c.Reference)));
        Assert.Contains("revision 4", r.Causes[1].Description);
    }

    [Fact]
    public void Egress_price_book_revisions_merge_per_revision()
    {
        var tiers = new EgressTiers([new EgressBand(10_240, 0.09m), new EgressBand(0, 0.085m)]);
        var cheaper = new EgressTiers([new EgressBand(10_240, 0.08m), new EgressBand(0, 0.075m)]);
        var r = Reconciler.Reconcile([EgressLine("egress:a->b", "grid", tiers, 20_000m)],
        [
            EgressUsage("u1", "egress:a->b", "grid", cheaper, 12_000m, revision: 2),
            EgressUsage("u2", "egress:a->b", "grid", cheaper, 8_000m, revision: 2),
        ]);
        AssertExplained(r);
        // Each transfer prices from 0 GB: 12,000 + 8,000 GB at the old tiers cost more than one 20,000 GB transfer.
        var runtime = tiers.Cost(12_000m) + tiers.Cost(8_000m) - tiers.Cost(20_000m);
        Assert.Equal((CauseKind.LongerRun, runtime * 1.05m), (r.Causes[0].Kind, r.Causes[0].Amount));
        var revision = Assert.Single(r.Causes, c => c.Kind == CauseKind.PriceBookRevision);
        Assert.Equal(("2", -0.01m * 20_000m * 1.05m), (revision.Reference, revision.Amount));
    }

    [Fact]
    public void A_peering_agreement_that_started_after_the_quote_lowers_the_bill()
    {
        var book = new PeeringBook([Agreement("aws-gcp", Proto.PeeringTerms.Discounted, from: QuotedAt.AddDays(1), discountBps: 2500)]);
        var line = EgressLine("egress:prep->train", "grid", EgressTiers.Flat(0.09m), 1_000m, book.InForce(QuotedAt));
        var usage = EgressUsage("u1", line.LineId, "grid", EgressTiers.Flat(0.09m), 1_000m, book.InForce(UsedAt));
        var r = Reconciler.Reconcile([line], [usage]);
        Assert.Equal((94.5m, 70.875m), (r.Quoted, r.Billed));   // 90 + 5 %; 90 - 25 % + 5 %
        var cause = Assert.Single(r.Causes);
        Assert.Equal((CauseKind.PeeringStarted, -23.625m, "aws-gcp"), (cause.Kind, cause.Amount, cause.Reference));
    }

    [Fact]
    public void A_peering_agreement_that_ended_before_the_usage_raises_the_bill()
    {
        var book = new PeeringBook([Agreement("aws-gcp", Proto.PeeringTerms.Discounted, from: QuotedAt, until: QuotedAt.AddDays(1), discountBps: 2500)]);
        var line = EgressLine("egress:prep->train", "grid", EgressTiers.Flat(0.09m), 1_000m, book.InForce(QuotedAt));
        var r = Reconciler.Reconcile([line], [EgressUsage("u1", line.LineId, "grid", EgressTiers.Flat(0.09m), 1_000m, book.InForce(UsedAt))]);
        var cause = Assert.Single(r.Causes);
        Assert.Equal((CauseKind.PeeringEnded, 23.625m, "aws-gcp"), (cause.Kind, cause.Amount, cause.Reference));
    }

    [Fact]
    public void When_the_agreement_changed_the_usages_is_named_as_started()
    {
        var quoted = PeeringAgreement.Discount("d", "aws", "", "gcp", "", 25m);
        var used = PeeringAgreement.Free("f", "aws", "", "gcp", "");
        var line = EgressLine("e", "grid", EgressTiers.Flat(0.09m), 1_000m, quoted);
        var r = Reconciler.Reconcile([line], [EgressUsage("u1", "e", "grid", EgressTiers.Flat(0.09m), 1_000m, used)]);
        var cause = Assert.Single(r.Causes);
        Assert.Equal((CauseKind.PeeringStarted, -70.875m, "f"), (cause.Kind, cause.Amount, cause.Reference));
        Assert.Contains("instead of d", cause.Description);
    }

    [Fact]
    public void A_failover_job_bills_the_failed_attempt_and_the_other_offers_price_as_failover()
    {
        // Quoted: 2 nodes x 1 h on offer A at 1.00/h = 2.10. Attempt 1 failed on A after 10 min (1,200 node-seconds: 0.35);
        // attempt 2 ran the hour on offer B at 1.20/h (2.52), billed against the line.
        var line = ComputeLine("compute:train", "A", 1m, 7_200m, nodes: 2);
        var failed = ComputeUsage("u1", null, "A", 1m, 1_200m, nodes: 2, reference: "job-1/train#1");
        var ran = ComputeUsage("u2", "compute:train", "B", 1.2m, 7_200m, nodes: 2, reference: "job-1/train#2");
        var r = Reconciler.Reconcile([line], [failed, ran]);
        AssertExplained(r);
        Assert.Equal((2.1m, 2.87m, 0.77m), (r.Quoted, r.Billed, r.Difference));
        Assert.Equal(
            [(CauseKind.Failover, 0.42m, "compute:train", "job-1/train#2"), (CauseKind.Failover, 0.35m, "", "job-1/train#1")],
            r.Causes.Select(c => (c.Kind, c.Amount, c.LineId, c.Reference)));
        Assert.Contains("ran on offer B", r.Causes[0].Description);
        Assert.Equal([("compute:train", 2.1m, 2.52m, "u2"), ("", 0m, 0.35m, "u1")],
            r.Lines.Select(l => (l.LineId, l.Quoted, l.Billed, Assert.Single(l.UsageIds))));

        // The same job with the run on B not tied to the line: the line went unused, all of B is failover.
        var untied = Reconciler.Reconcile([line], [failed, ran with { LineId = null }]);
        AssertExplained(untied);
        Assert.Equal(
            [(CauseKind.ShorterRun, -2.1m, "compute:train"), (CauseKind.Failover, 0.35m, ""), (CauseKind.Failover, 2.52m, "")],
            untied.Causes.Select(c => (c.Kind, c.Amount, c.LineId)));
    }

    [Fact]
    public void A_longer_run_after_failover_is_still_a_longer_run_at_the_quoted_price()
    {
        var line = ComputeLine("c", "A", 1m, 3_600m);
        var r = Reconciler.Reconcile([line], [ComputeUsage("u1", "c", "B", 2m, 7_200m)]);
        AssertExplained(r);
        // At A's price 2 h cost 2.10 (1.05 more than quoted); B's price doubles it: 4.20.
        Assert.Equal([(CauseKind.LongerRun, 1.05m), (CauseKind.Failover, 2.1m)], r.Causes.Select(c => (c.Kind, c.Amount)));
    }

    [Fact]
    public void Egress_on_another_route_is_a_failover()
    {
        var line = EgressLine("e", "grid", EgressTiers.Flat(0.09m), 100m);
        var west = new EgressRoute("aws", "us-west-2", "gcp", "us-central1");
        var r = Reconciler.Reconcile([line], [EgressUsage("u1", "e", "grid", EgressTiers.Flat(0.02m), 100m, route: west)]);
        var cause = Assert.Single(r.Causes);
        Assert.Equal((CauseKind.Failover, -7.35m), (cause.Kind, cause.Amount));
        Assert.Contains("us-west-2", cause.Description);
    }

    [Fact]
    public void Late_usage_is_its_own_cause_and_stays_out_of_the_runtime()
    {
        var line = ComputeLine("compute:train", "A", 0.80m, 3_600m);
        var onTime = ComputeUsage("u1", "compute:train", "A", 0.80m, 3_600m);
        var late = ComputeUsage("u2", "compute:train", "A", 0.80m, 600m, late: true, reference: "job-1/train#1 (adjustment)");
        var lateOutside = ComputeUsage("u3", null, "A", 0.80m, 60m, late: true);
        var r = Reconciler.Reconcile([line], [onTime, late, lateOutside]);
        AssertExplained(r);
        Assert.Equal(
            [(CauseKind.LateUsage, 0.14m, "compute:train", "job-1/train#1 (adjustment)"), (CauseKind.LateUsage, 0.014m, "", "u3")],
            r.Causes.Select(c => (c.Kind, c.Amount, c.LineId, c.Reference)));
        Assert.Equal(0.98m, r.Lines[0].Billed);
        Assert.Equal(["u1", "u2"], r.Lines[0].UsageIds);
        Assert.Equal(("", 0m, 0.014m), (r.Lines[1].LineId, r.Lines[1].Quoted, r.Lines[1].Billed));
    }

    [Fact]
    public void A_gateway_line_is_compute_priced()
    {
        var line = ComputeLine("gateway:aws/us-east-1", "gw", 0.096m, 1_800m, kind: LineKind.Gateway);
        var r = Reconciler.Reconcile([line], [ComputeUsage("u1", line.LineId, "gw", 0.096m, 2_700m)]);
        Assert.Equal((CauseKind.LongerRun, 0.0252m), (r.Causes[0].Kind, r.Causes[0].Amount));   // 0.024 + 5 %
        Assert.Throws<ArgumentException>(() => Reconciler.Reconcile([line with { Price = new EgressPrice(EgressTiers.Free, AwsToGcp, 1) }], []));
    }

    [Fact]
    public void A_usage_not_rated_by_this_engine_is_refused_by_name()
    {
        var line = ComputeLine("c", "A", 0.80m, 3_600m);
        var usage = ComputeUsage("usage-42", "c", "A", 0.80m, 3_600m);
        var error = Assert.Throws<InvalidOperationException>(() => Reconciler.Reconcile([line], [usage with { Amount = usage.Amount + 0.01m }]));
        Assert.Contains("usage-42", error.Message);
        Assert.Contains("0.84", error.Message);

        // Billed with another margin than this engine's: the inputs the record carries do not give its amount.
        var otherMargin = new UsageRater(new RatingPolicy { MarginRate = 0.1m }).Compute(0.80m, 3_600m, 1).Amount;
        Assert.Throws<InvalidOperationException>(() => Reconciler.Reconcile([line], [usage with { Amount = otherMargin }]));

        var quoteError = Assert.Throws<InvalidOperationException>(() => Reconciler.Reconcile([line with { Amount = 0.8m }], [usage]));
        Assert.Contains("quote line c", quoteError.Message);
    }

    [Fact]
    public void Malformed_input_is_refused()
    {
        var line = ComputeLine("c", "A", 0.80m, 3_600m);
        var usage = ComputeUsage("u1", "c", "A", 0.80m, 3_600m);
        Assert.Contains("line x", Assert.Throws<ArgumentException>(() => Reconciler.Reconcile([line], [usage with { LineId = "x" }])).Message);
        Assert.Contains("listed twice", Assert.Throws<ArgumentException>(() => Reconciler.Reconcile([line, line], [])).Message);
        Assert.Contains("listed twice", Assert.Throws<ArgumentException>(() => Reconciler.Reconcile([line], [usage, usage])).Message);
        Assert.Throws<ArgumentException>(() => Reconciler.Reconcile([line], [EgressUsage("e1", "c", "A", EgressTiers.Flat(0.09m), 1m)]));
        Assert.Throws<ArgumentException>(() => Reconciler.Reconcile([line with { LineId = "" }], []));
        Assert.Throws<ArgumentException>(() => Reconciler.Reconcile([line], [usage with { Nodes = 0 }]));
        Assert.Throws<ArgumentException>(() => Reconciler.Reconcile([line], [usage with { Quantity = -1m }]));
    }

    [Fact]
    public void Cause_kinds_mirror_the_contracts_and_the_response_sums_exactly()
    {
        foreach (var kind in System.Enum.GetValues<CauseKind>())
            Assert.Equal(kind.ToString(), ((Proto.CauseKind)(int)kind).ToString());
        Assert.Equal(System.Enum.GetValues<CauseKind>().Length + 1, System.Enum.GetValues<Proto.CauseKind>().Length);

        var line = ComputeLine("compute:train", "A", 1m, 7_200m, nodes: 2);
        var r = Reconciler.Reconcile([line],
            [ComputeUsage("u1", null, "A", 1m, 1_200m, nodes: 2, reference: "job-1/train#1"), ComputeUsage("u2", line.LineId, "B", 1.2m, 7_200m, nodes: 2)]);
        var response = r.ToResponse("q-1", "job-1", final: true);
        Assert.Equal(("q-1", "job-1", true), (response.QuoteId, response.SubjectId, response.Final));
        Assert.Equal((2.1m, 2.87m, 0.77m), (response.Quoted.ToDecimal(), response.Billed.ToDecimal(), response.Difference.ToDecimal()));
        Assert.Equal(response.Difference.ToDecimal(), response.Causes.Sum(c => c.Amount.ToDecimal()));
        Assert.Equal([Proto.CauseKind.Failover, Proto.CauseKind.Failover], response.Causes.Select(c => c.Kind));
        Assert.Equal(["compute:train", ""], response.Lines.Select(l => l.QuoteLineId));
        Assert.Equal("USD", response.Billed.CurrencyCode);
    }

    private static Proto.PeeringAgreement Agreement(string id, Proto.PeeringTerms terms, DateTimeOffset from, DateTimeOffset? until = null, int discountBps = 0)
    {
        var agreement = new Proto.PeeringAgreement
        {
            AgreementId = id, ProviderA = "aws", ProviderB = "gcp", Terms = terms, DiscountBps = discountBps,
            EffectiveFrom = Timestamp.FromDateTimeOffset(from),
        };
        if (until is { } u) agreement.EffectiveUntil = Timestamp.FromDateTimeOffset(u);
        return agreement;
    }
}
