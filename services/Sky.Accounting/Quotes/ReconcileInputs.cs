using System.Globalization;
using Sky.Accounting.V1;
using Sky.Pricing;
using Sky.Pricing.Reconciliation;

namespace Sky.Accounting.Quotes;

/// <summary>
/// Quote lines and rated usage as the reconciliation engine takes them, by the issue #8 conventions: compute and gateway
/// quantities in node-seconds at a per-node hourly price, egress in GB at a flat per-GB price (as accounting rates it),
/// peering as in force when quoted (the quote's created_at) or used (the usage's end). Anything recorded in units the
/// engine cannot compare is an <see cref="InvalidOperationException"/>: the difference could not be explained.
/// </summary>
public static class ReconcileInputs
{
    private const decimal BytesPerGb = 1_000_000_000m;

    /// <summary>One line of <paramref name="quote"/>, with the agreements of <paramref name="peering"/> in force at quote time.</summary>
    /// <exception cref="InvalidOperationException">The line's service or units are not ones quotes are made in.</exception>
    public static QuotedLine Line(Quote quote, QuoteLine line, PeeringBook peering)
    {
        var what = $"quote {quote.QuoteId} line {line.LineId}";
        var price = line.UnitPrice?.ToDecimal() ?? throw new InvalidOperationException($"{what}: unit_price is missing");
        var kind = line.Service switch
        {
            "compute" => LineKind.Compute,
            "transfer-gateway" => LineKind.Gateway,
            "egress" => LineKind.Egress,
            var other => throw new InvalidOperationException($"{what}: service '{other}' is not compute, egress or transfer-gateway"),
        };
        var quantity = Decimal(line.Quantity, what);
        PriceInputs inputs;
        if (kind == LineKind.Egress)
        {
            Expect(what, line.Unit, "byte", line.PriceUnit, "gb");
            inputs = new EgressPrice(Tiers(line.Tiers, line.UnitPrice, price), Route(line.Location, line.Destination, what), quote.PriceBookRevision);
            quantity /= BytesPerGb;
        }
        else
        {
            Expect(what, line.Unit, "second", line.PriceUnit, "hour");
            inputs = new ComputePrice(price, line.Spot, quote.PriceBookRevision);
        }
        return new QuotedLine
        {
            LineId = line.LineId,
            Description = line.Description,
            Kind = kind,
            OfferId = line.OfferId,
            Quantity = quantity,
            Nodes = Math.Max(1, line.Nodes),
            Price = inputs,
            Peering = kind == LineKind.Egress ? new PeeringState(peering.InForce(quote.CreatedAt?.ToDateTimeOffset() ?? DateTimeOffset.MinValue)) : PeeringState.None,
            Amount = line.Amount?.ToDecimal() ?? 0m,
        };
    }

    /// <summary>
    /// One rated usage, with the agreements of <paramref name="peering"/> in force at its end. Usage in GiB is kept in
    /// GiB at its per-GiB price (it rates to what was billed), which compares with nothing quoted: on a quote line it is refused.
    /// </summary>
    /// <exception cref="InvalidOperationException">The usage's units cannot be compared with the quote's.</exception>
    public static BilledUsage Usage(RatedUsage usage, PeeringBook peering)
    {
        var what = $"usage {usage.UsageId}";
        var price = usage.UnitPrice?.ToDecimal() ?? throw new InvalidOperationException($"{what}: unit_price is missing");
        var quantity = Decimal(usage.Quantity, what);
        var lineId = usage.QuoteLineId.Length > 0 ? usage.QuoteLineId : null;
        PriceInputs inputs;
        var peered = PeeringState.None;
        if (usage.Service == "egress")
        {
            quantity = usage.Unit switch
            {
                "gb" => quantity,
                "byte" => quantity / BytesPerGb,
                "gib" when lineId is null => quantity,
                _ => throw new InvalidOperationException(
                    $"{what}: egress in '{usage.Unit}' at a price per '{usage.PriceUnit}' cannot be compared with quote line {lineId} (bytes at a price per gb)"),
            };
            inputs = new EgressPrice(Tiers(usage.Tiers, usage.UnitPrice, price), Route(usage.Location, usage.Destination, what), usage.PriceBookRevision);
            peered = new PeeringState(peering.InForce(usage.UsageEnd?.ToDateTimeOffset() ?? throw new InvalidOperationException($"{what}: usage_end is missing")));
        }
        else
        {
            // Compute, gateway VMs and providers' own services are all rated per node-second at an hourly price.
            if (usage.PriceUnit != "hour") throw new InvalidOperationException($"{what}: priced per '{usage.PriceUnit}', expected hour");
            quantity = usage.Unit switch
            {
                "second" => quantity,
                "hour" => quantity * 3600m,
                var other => throw new InvalidOperationException($"{what}: '{other}' of {usage.Service}, expected second or hour"),
            };
            inputs = new ComputePrice(price, usage.Spot, usage.PriceBookRevision);
        }
        return new BilledUsage
        {
            UsageId = usage.UsageId,
            LineId = lineId,
            OfferId = usage.OfferId,
            Quantity = quantity,
            Nodes = Math.Max(1, usage.Nodes),
            Price = inputs,
            Peering = peered,
            Amount = usage.Amount?.ToDecimal() ?? 0m,
            Late = usage.AdjustsPeriodId.Length > 0,
            Reference = Attempt(usage.IdempotencyKey) ?? usage.UsageId,
        };
    }

    /// <summary>"&lt;job&gt;/&lt;task&gt;#&lt;attempt&gt;" for placement's compute usage ("placement:job:task:attempt:slice"); null otherwise.</summary>
    public static string? Attempt(string idempotencyKey)
    {
        var parts = idempotencyKey.Split(':');
        return parts is ["placement", var job, var task, var attempt, _] && int.TryParse(attempt, NumberStyles.None, CultureInfo.InvariantCulture, out _)
            ? $"{job}/{task}#{attempt}"
            : null;
    }

    /// <summary>The volume tiers a line or usage was priced with; none recorded means its unit price for every GB.</summary>
    private static EgressTiers Tiers(IReadOnlyCollection<Sky.Directory.V1.EgressTier> tiers, Sky.Common.V1.Money unitPrice, decimal price) =>
        tiers.Count == 0 ? EgressTiers.Flat(price) : EgressTiers.FromProto(tiers, unitPrice.CurrencyCode is { Length: > 0 } code ? code : "USD");

    private static EgressRoute Route(Sky.Common.V1.Location? from, Sky.Common.V1.Location? to, string what) =>
        from is null || to is null
            ? throw new InvalidOperationException($"{what}: egress needs a location and a destination")
            : new EgressRoute(from.Provider, from.Region, to.Provider, to.Region);

    private static void Expect(string what, string unit, string wantUnit, string priceUnit, string wantPriceUnit)
    {
        if (unit != wantUnit || priceUnit != wantPriceUnit)
            throw new InvalidOperationException($"{what}: quoted in '{unit}' at a price per '{priceUnit}'; expected '{wantUnit}' at a price per '{wantPriceUnit}'");
    }

    private static decimal Decimal(string text, string what)
    {
        if (text.Length == 0 || text[0] == '.' || text[^1] == '.'
            || !decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            throw new InvalidOperationException($"{what}: quantity '{text}' is not a decimal number");
        return value;
    }
}
