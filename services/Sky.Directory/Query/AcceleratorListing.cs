using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Hosting.Store;

namespace Sky.Directory.Query;

/// <summary>
/// ListAccelerators (`sky gpus`): per accelerator model, count, provider and region, the cheapest available
/// (not UNAVAILABLE) compute offer by on-demand price (offers without one only when no priced offer exists;
/// ties by offer_id). Rows are ordered by model (case-insensitive), count, on-demand price, provider, region.
/// </summary>
public static class AcceleratorListing
{
    public static (IReadOnlyList<AcceleratorOffer> Rows, PageResponse Page) Execute(OfferIndex index, ListAcceleratorsRequest request)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(request);
        if (request.Count < 0) throw Sky.Hosting.Errors.RpcErrors.InvalidArgument("count", "must be >= 0");
        var name = request.Name.ToLowerInvariant();
        var provider = request.Location?.Provider.ToLowerInvariant() ?? "";
        var region = request.Location?.Region.ToLowerInvariant() ?? "";

        var best = new Dictionary<(string Name, int Count, string Provider, string Region), Candidate>();
        var postings = index.Postings(IndexedField.Gpu);
        if (name.Length > 0)
        {
            if (postings.TryGetValue(name, out var set)) Consider(set, name);
        }
        else
        {
            foreach (var (key, set) in postings)
                if (key.Length > 0) Consider(set, key);
        }

        void Consider(Posting posting, string model)
        {
            foreach (var slot in posting.Slots)
            {
                var view = index.Columns.Views[slot]!;
                if (view.Kind != "compute" || !view.IsAvailable) continue;
                if (provider.Length > 0 && view.Provider != provider) continue;
                if (region.Length > 0 && view.Region != region) continue;
                for (var i = 0; i < view.GpuNames.Length; i++)
                {
                    if (view.GpuNames[i] != model) continue;
                    var count = view.GpuCounts[i];
                    if (request.Count > 0 && count != request.Count) continue;
                    var key = (model, count, view.Provider, view.Region);
                    var candidate = new Candidate(view, i);
                    if (!best.TryGetValue(key, out var current) || Cheaper(candidate.View, current.View)) best[key] = candidate;
                }
            }
        }

        var rows = best.Values.ToList();
        rows.Sort(static (a, b) =>
        {
            var c = string.CompareOrdinal(a.Model, b.Model);
            if (c == 0) c = a.Count.CompareTo(b.Count);
            if (c == 0) c = ComparePrice(a.View, b.View);
            if (c == 0) c = string.CompareOrdinal(a.View.Provider, b.View.Provider);
            if (c == 0) c = string.CompareOrdinal(a.View.Region, b.View.Region);
            if (c == 0) c = string.CompareOrdinal(a.View.OfferId, b.View.OfferId);
            return c;
        });
        var (page, response) = Paging.Slice(rows, request.Page);
        return ([.. page.Select(ToRow)], response);
    }

    private readonly record struct Candidate(OfferView View, int Accelerator)
    {
        public string Model => View.GpuNames[Accelerator];
        public int Count => View.GpuCounts[Accelerator];
    }

    private static bool Cheaper(OfferView a, OfferView b)
    {
        var c = ComparePrice(a, b);
        return c < 0 || c == 0 && string.CompareOrdinal(a.OfferId, b.OfferId) < 0;
    }

    // On-demand price ascending; offers without one after every priced offer.
    private static int ComparePrice(OfferView a, OfferView b) => (a.OnDemandHourly, b.OnDemandHourly) switch
    {
        ({ } x, { } y) => x.CompareTo(y),
        (null, null) => 0,
        (null, _) => 1,
        _ => -1,
    };

    private static AcceleratorOffer ToRow(Candidate c)
    {
        var offer = c.View.Offer;
        var accelerator = offer.Hardware.Accelerators[c.Accelerator];
        return new AcceleratorOffer
        {
            Accelerator = new Accelerator { Name = accelerator.Name, Count = accelerator.Count },
            Location = new Location { Provider = offer.Location.Provider, Region = offer.Location.Region },
            InstanceType = offer.InstanceType,
            OfferId = offer.OfferId,
            Hardware = offer.Hardware,
            Price = offer.Price,
        };
    }
}
