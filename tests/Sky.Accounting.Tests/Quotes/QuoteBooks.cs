using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Events.V1;
using Sky.Placement.V1;
using Sky.Pricing;
using Sky.Testing;

namespace Sky.Accounting.Tests.Quotes;

/// <summary>
/// Quotes and usage as placement and transfer publish them under the issue #8 conventions, priced with the host's own
/// <see cref="UsageRater"/> (quote id "q-" + plan id, line ids "compute:&lt;task&gt;", "egress:a/r->b/r", "gateway:p/r/type").
/// </summary>
internal sealed class QuoteBooks(TestMesh mesh)
{
    public static readonly DateTimeOffset Planned = new(2026, 11, 10, 9, 0, 0, TimeSpan.Zero);
    public static readonly Location UsEast = new() { Provider = "aws", Region = "us-east-1", Zone = "use1-az1" };
    public static readonly Location Central = new() { Provider = "gcp", Region = "us-central1" };

    private readonly UsageRater _rater = mesh.Services.GetRequiredService<UsageRater>();

    public QuoteLine Compute(string task, string offer, decimal hourly, decimal seconds, int nodes = 1, bool spot = false)
    {
        var nodeSeconds = seconds * nodes;
        return new QuoteLine
        {
            LineId = $"compute:{task}", Service = "compute", Task = task, Description = $"{task}: {nodes} x g6.xlarge", Location = UsEast, OfferId = offer,
            Sku = "g6.xlarge", Quantity = Text(nodeSeconds), Unit = "second", UnitPrice = Usd(hourly), PriceUnit = "hour", Nodes = nodes, Spot = spot,
            PeeringDiscount = Usd(0), Amount = Usd(_rater.Compute(hourly, nodeSeconds, nodes).Amount),
        };
    }

    public QuoteLine Egress(Location from, Location to, string offer, decimal perGb, long bytes, EgressTiers? tiers = null)
    {
        var charge = _rater.Egress(tiers ?? EgressTiers.Flat(perGb), null, from.Provider, from.Region, to.Provider, to.Region, bytes / 1_000_000_000m);
        var line = new QuoteLine
        {
            LineId = $"egress:{from.Provider}/{from.Region}->{to.Provider}/{to.Region}", Service = "egress", Location = from, Destination = to, OfferId = offer,
            Sku = "egress", Quantity = bytes.ToString(System.Globalization.CultureInfo.InvariantCulture), Unit = "byte", UnitPrice = Usd(perGb), PriceUnit = "gb",
            PeeringDiscount = Usd(charge.PeeringDiscount), Amount = Usd(charge.Amount),
        };
        if (tiers is not null) line.Tiers.Add(tiers.ToProto());
        return line;
    }

    public QuoteLine Gateway(Location at, string type, string offer, decimal hourly, int vms, decimal seconds)
    {
        var line = Compute("", offer, hourly, seconds, vms);
        line.LineId = $"gateway:{at.Provider}/{at.Region}/{type}";
        line.Service = "transfer-gateway";
        line.Task = "";
        line.Location = at;
        line.Sku = type;
        return line;
    }

    public static Sky.Accounting.V1.Quote Quote(string planId, string tenant, QuoteSubjectKind kind, string subject, params QuoteLine[] lines) => new()
    {
        QuoteId = "q-" + planId, TenantId = tenant, SubjectKind = kind, PlanId = planId, SubjectId = subject, PriceBookRevision = 7,
        Lines = { lines }, Total = Usd(lines.Sum(l => l.Amount.ToDecimal())), CreatedAt = Timestamp.FromDateTimeOffset(Planned),
    };

    /// <summary>Compute usage of one attempt, as placement's JobRunner publishes it.</summary>
    public static PlacementJobUsage Attempt(string job, string tenant, string task, int attempt, string offer, decimal hourly, int seconds, string lineId,
        DateTimeOffset start, int nodes = 1, string quoteId = "") => new()
    {
        IdempotencyKey = $"placement:{job}:{task}:{attempt}:0", TenantId = tenant, JobId = job, Task = task, Attempt = attempt, Service = "compute",
        OfferId = offer, Location = UsEast, Sku = "g6.xlarge", NumNodes = nodes, UnitPrice = Usd(hourly), PriceUnit = "hour",
        Quantity = (seconds * nodes).ToString(System.Globalization.CultureInfo.InvariantCulture), Unit = "second",
        UsageStart = Timestamp.FromDateTimeOffset(start), UsageEnd = Timestamp.FromDateTimeOffset(start.AddSeconds(seconds)),
        QuoteId = quoteId, QuoteLineId = lineId, PriceBookRevision = 7, Time = Timestamp.FromDateTimeOffset(start.AddSeconds(seconds)),
    };

    public static PlacementJobStateChanged Ended(string job, string tenant, JobState state, DateTimeOffset at) =>
        new() { JobId = job, TenantId = tenant, State = state, PreviousState = JobState.Running, Time = Timestamp.FromDateTimeOffset(at) };

    public static Money Usd(decimal amount) => Rounding.ToMoney(amount, "USD");

    private static string Text(decimal value) => value.ToString("0.############################", System.Globalization.CultureInfo.InvariantCulture);
}
