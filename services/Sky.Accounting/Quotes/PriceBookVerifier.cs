using Grpc.Core;
using Sky.Accounting.V1;
using Sky.Directory.V1;
using Sky.Hosting.Options;
using Sky.Hosting.Peers;
using Sky.Pricing;
using Sky.Pricing.Reconciliation;
using EgressPrice = Sky.Pricing.Reconciliation.EgressPrice;

namespace Sky.Accounting.Quotes;

/// <summary>
/// Recomputes a reconciliation's prices from the directory's versioned price book (Directory.GetPrices): each quote line
/// and billed usage names the revision its price came from, and the book must hold that very price at that revision:
/// the offer's hourly price (spot or on demand, as charged) for compute and gateways, the region pair's tiers for
/// egress. One GetPrices call per revision. A price the book does not hold is a mismatch: that amount was not priced
/// from the book, and reconciliation says so rather than vouch for it.
/// </summary>
public sealed class PriceBookVerifier(PeerChannels peers)
{
    /// <summary>GetPrices answers at most this many offers and routes per call.</summary>
    private const int MaxPerCall = 1000;

    /// <summary>Directory offer ids are at most this long (directory.proto).</summary>
    private const int MaxOfferId = 64;

    /// <summary>A quote line (<paramref name="LineId"/>) or a billed usage (<paramref name="UsageId"/>) and what priced it.</summary>
    public sealed record Priced(string? LineId, string? UsageId, string OfferId, PriceInputs Price);

    public async Task<PriceBookCheck> CheckAsync(IReadOnlyList<Priced> items, CancellationToken ct)
    {
        var check = new PriceBookCheck { Checked = true };
        foreach (var group in items.GroupBy(i => i.Price.Revision).OrderBy(g => g.Key))
        {
            if (group.Key <= 0)
            {
                foreach (var item in group) check.Mismatches.Add(Mismatch(item, "", "no price book revision recorded"));
                continue;
            }
            check.Revisions.Add(group.Key);
            // An offer the book cannot be asked about (no offer id recorded) is not confirmed.
            var askable = new List<Priced>();
            foreach (var item in group)
                if (item.Price is EgressPrice || item.OfferId.Length is > 0 and <= MaxOfferId) askable.Add(item);
                else check.Mismatches.Add(Mismatch(item, "", "no directory offer id recorded"));
            foreach (var chunk in askable.Chunk(MaxPerCall))
            {
                var request = new GetPricesRequest { Revision = group.Key };
                foreach (var item in chunk)
                    if (item.Price is EgressPrice egress) request.Routes.Add(Pair(egress.Route));
                    else request.OfferIds.Add(item.OfferId);
                GetPricesResponse book;
                try
                {
                    // Resolved per call: a host without a directory peer fails here, as UNAVAILABLE, like an unreachable one.
                    book = await new Sky.Directory.V1.Directory.DirectoryClient(peers.For(MeshService.Directory)).GetPricesAsync(request, cancellationToken: ct);
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Unimplemented or StatusCode.OutOfRange)
                {
                    return new PriceBookCheck { Reason = $"the directory's price book could not be read at revision {group.Key}: {e.Status.Detail}" };
                }
                int offer = 0, route = 0;
                foreach (var item in chunk)
                {
                    var held = item.Price is EgressPrice e ? Held(e, book.Routes[route++]) : Held((ComputePrice)item.Price, book.Offers[offer++]);
                    if (held.Matches) check.Confirmed++;
                    else check.Mismatches.Add(Mismatch(item, held.Book, held.Book.Length == 0 ? "no price at that revision" : "the price differs"));
                }
            }
        }
        return check;
    }

    private static (bool Matches, string Book) Held(ComputePrice price, OfferPriceAt book)
    {
        if (!book.Found) return (false, "");
        var money = price.IsSpot ? book.Price?.SpotHourly : book.Price?.OnDemandHourly;
        if (money is null) return (false, "");   // no price of that kind (spot or on demand) then
        var hourly = money.ToDecimal();
        return (hourly == price.HourlyPerNode, new ComputePrice(hourly, price.IsSpot, book.Revision).Describe());
    }

    private static (bool Matches, string Book) Held(EgressPrice price, EgressPriceAt book)
    {
        if (book.Match is Directory.V1.EgressMatch.None or Directory.V1.EgressMatch.Unspecified || book.Tiers.Count == 0) return (false, "");
        var tiers = EgressTiers.FromProto(book.Tiers, book.Tiers[0].PricePerGb?.CurrencyCode is { Length: > 0 } code ? code : "USD");
        return (tiers.Equals(price.Tiers), tiers.ToString());
    }

    private static PriceBookMismatch Mismatch(Priced item, string book, string reason) => new()
    {
        QuoteLineId = item.UsageId is null ? item.LineId ?? "" : "",
        UsageId = item.UsageId ?? "",
        Revision = item.Price.Revision,
        Recorded = item.Price.Describe(),
        Book = book,
        Reason = reason,
    };

    private static RegionPair Pair(EgressRoute route) => new()
    {
        Src = new Sky.Common.V1.Location { Provider = route.SrcProvider, Region = route.SrcRegion },
        Dst = new Sky.Common.V1.Location { Provider = route.DstProvider, Region = route.DstRegion },
    };
}
