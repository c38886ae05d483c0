using Sky.Common.V1;
using Sky.Directory.Store;
using Sky.Directory.V1;
using Sky.Hosting.Errors;
using Sky.Pricing;

namespace Sky.Directory.Engine;

public sealed partial class DirectoryEngine
{
    public const int MaxPriceItems = 1000;

    /// <summary>
    /// GetPrices: the price book at a revision. An egress pair is priced by the same precedence as a live grid
    /// (<see cref="EgressGrid"/>): the three entries that could apply (exact pair, the destination provider's any-region
    /// entry, the source's internet entry) are read as they were then and the grid's own lookup picks one.
    /// </summary>
    public async Task<GetPricesResponse> GetPricesAsync(GetPricesRequest request, CancellationToken ct)
    {
        EnsureReady();
        if (request.Revision <= 0) throw RpcErrors.InvalidArgument("revision", "required: a directory revision (a price_book_revision), at least 1");
        var current = Revision;
        if (request.Revision > current) throw RpcErrors.OutOfRange("revision", $"{request.Revision} is after the directory's current revision {current}");
        if (request.OfferIds.Count + request.Routes.Count is 0 or > MaxPriceItems)
            throw RpcErrors.InvalidArgument("offer_ids", $"1 to {MaxPriceItems} offer ids and routes in all, got {request.OfferIds.Count + request.Routes.Count}");
        var violations = new List<(string, string)>();
        for (var i = 0; i < request.OfferIds.Count; i++)
            if (request.OfferIds[i].Length is 0 or > 64) violations.Add(($"offer_ids[{i}]", "an offer id: 1 to 64 characters"));
        for (var i = 0; i < request.Routes.Count; i++)
        {
            var route = request.Routes[i];
            foreach (var (end, at) in new[] { ("src", route.Src), ("dst", route.Dst) })
            {
                if (at is null || at.Provider.Length == 0) violations.Add(($"routes[{i}].{end}.provider", "required"));
                else if (at.Region.Length == 0) violations.Add(($"routes[{i}].{end}.region", "required"));
            }
        }
        if (violations.Count > 0) throw RpcErrors.InvalidArgument([.. violations]);

        var response = new GetPricesResponse { Revision = request.Revision };
        var offers = await log.PricesAtAsync(PriceBookKind.Offer, request.Revision, request.OfferIds, ct);
        for (var i = 0; i < offers.Count; i++)
        {
            var price = PriceBook.ReadOffer(offers[i]);
            response.Offers.Add(price is null
                ? new OfferPriceAt { OfferId = request.OfferIds[i] }
                : new OfferPriceAt { OfferId = request.OfferIds[i], Found = true, Price = price, Revision = offers[i]!.Revision });
        }
        if (request.Routes.Count > 0)
        {
            var keys = request.Routes.SelectMany(r => CandidateKeys(r.Src, r.Dst)).ToList();
            var points = await log.PricesAtAsync(PriceBookKind.Egress, request.Revision, keys, ct);
            for (var i = 0; i < request.Routes.Count; i++)
                response.Routes.Add(EgressAt(request.Routes[i], points.Skip(i * 3).Take(3).ToList()));
        }
        return response;
    }

    /// <summary>The grid keys that could price src → dst, in <see cref="EgressMatch"/> precedence order.</summary>
    private static string[] CandidateKeys(Location src, Location dst) =>
        [GridKey(src, dst), GridKey(src, new Location { Provider = dst.Provider }), GridKey(src, new Location { Provider = EgressGrid.InternetProvider })];

    private EgressPriceAt EgressAt(RegionPair route, IReadOnlyList<PricePoint?> points)
    {
        var entries = points.Select(PriceBook.ReadEgress).ToList();
        var grid = new EgressGrid(entries.OfType<EgressPrice>(), options.Currency);
        var rate = grid.Lookup(route.Src.Provider, route.Src.Region, route.Dst.Provider, route.Dst.Region);
        var (match, used) = rate.Match switch
        {
            Pricing.EgressMatch.ExactPair => (V1.EgressMatch.ExactPair, points[0]),
            Pricing.EgressMatch.AnyRegionOfProvider => (V1.EgressMatch.AnyRegion, points[1]),
            Pricing.EgressMatch.Internet => (V1.EgressMatch.Internet, points[2]),
            Pricing.EgressMatch.SameRegion => (V1.EgressMatch.SameRegion, null),
            _ => (V1.EgressMatch.None, null),
        };
        var answer = new EgressPriceAt { Route = route, Match = match, Revision = used?.Revision ?? 0 };
        if (rate.Tiers is { } tiers) answer.Tiers.AddRange(tiers.ToProto(options.Currency));
        return answer;
    }
}
