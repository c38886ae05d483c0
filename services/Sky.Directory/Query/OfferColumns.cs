namespace Sky.Directory.Query;

/// <summary>
/// The hot fields of every offer in the index, one array per field indexed by slot, so a scan reads only the
/// columns its conditions test, in slot order (a few bytes per offer instead of a whole object per offer).
/// Text is lower case and shared (<see cref="Symbols"/>); unknown numbers are NaN, missing prices <see cref="OfferView.NoPrice"/>.
/// </summary>
internal sealed class OfferColumns
{
    public OfferView?[] Views = [];
    public string[] Kind = [], Service = [], Provider = [], Region = [], Zone = [], InstanceType = [], Arch = [], Origin = [], Availability = [];
    public double[] Vcpus = [], Memory = [], Load = [];
    public int[] GpuCount = [], Centre = [];
    public long[] Price = [], Spot = [];
    /// <summary><see cref="VersionValue.Key"/> of version / api_version; <see cref="NoVersion"/> when the offer has none.</summary>
    public long[] VersionKey = [], ApiVersionKey = [];

    public const long NoVersion = -2;

    /// <summary>
    /// A zone map: per 64-slot bitmap word, the lowest on-demand / spot price present in it (long.MaxValue when none).
    /// A price-ranked scan skips a whole word that cannot beat its page (as Parquet's min/max statistics or a BRIN
    /// index do); offers registered together (one provider's batch, one instance family) share words and prices.
    /// Kept exact: every write recomputes its word (64 reads).
    /// </summary>
    public long[] WordMinPrice = [], WordMinSpot = [];
    public UInt128[] IdKey = [];
    /// <summary>The high half of <see cref="IdKey"/> (the first 8 characters), for vector compares.</summary>
    public ulong[] IdHigh = [];

    public int Capacity => Views.Length;

    public void Grow(int capacity)
    {
        Array.Resize(ref Views, capacity);
        Array.Resize(ref Kind, capacity);
        Array.Resize(ref Service, capacity);
        Array.Resize(ref Provider, capacity);
        Array.Resize(ref Region, capacity);
        Array.Resize(ref Zone, capacity);
        Array.Resize(ref InstanceType, capacity);
        Array.Resize(ref Arch, capacity);
        Array.Resize(ref Origin, capacity);
        Array.Resize(ref Availability, capacity);
        Array.Resize(ref Vcpus, capacity);
        Array.Resize(ref Memory, capacity);
        Array.Resize(ref Load, capacity);
        Array.Resize(ref GpuCount, capacity);
        Array.Resize(ref Centre, capacity);
        Array.Resize(ref Price, capacity);
        Array.Resize(ref Spot, capacity);
        Array.Resize(ref VersionKey, capacity);
        Array.Resize(ref ApiVersionKey, capacity);
        Array.Resize(ref IdKey, capacity);
        Array.Resize(ref IdHigh, capacity);
        var words = WordMinPrice.Length;
        Array.Resize(ref WordMinPrice, capacity >> 6);
        Array.Resize(ref WordMinSpot, capacity >> 6);
        WordMinPrice.AsSpan(words).Fill(long.MaxValue);
        WordMinSpot.AsSpan(words).Fill(long.MaxValue);
        Price.AsSpan(words << 6).Fill(OfferView.NoPrice);
        Spot.AsSpan(words << 6).Fill(OfferView.NoPrice);
    }

    public void Set(int slot, OfferView v)
    {
        Views[slot] = v;
        Kind[slot] = v.Kind;
        Service[slot] = v.Service;
        Provider[slot] = v.Provider;
        Region[slot] = v.Region;
        Zone[slot] = v.Zone;
        InstanceType[slot] = v.InstanceType;
        Arch[slot] = v.Arch;
        Origin[slot] = v.Origin;
        Availability[slot] = v.Availability;
        Vcpus[slot] = v.Vcpus > 0 ? v.Vcpus : double.NaN;
        Memory[slot] = v.MemoryGib > 0 ? v.MemoryGib : double.NaN;
        Load[slot] = v.Load ?? double.NaN;
        GpuCount[slot] = v.GpuCount;
        Centre[slot] = v.RegionCentreId;
        Price[slot] = v.OnDemandNanos;
        Spot[slot] = v.SpotNanos;
        UpdateWordMins(slot);
        VersionKey[slot] = v.Version?.Key ?? NoVersion;
        ApiVersionKey[slot] = v.ApiVersion?.Key ?? NoVersion;
        IdKey[slot] = v.IdKey;
        IdHigh[slot] = (ulong)(v.IdKey >> 64);
    }

    /// <summary>Frees a slot (drops its references so the GC can take the offer).</summary>
    public void Clear(int slot)
    {
        Views[slot] = null;
        Kind[slot] = Service[slot] = Provider[slot] = Region[slot] = Zone[slot] = InstanceType[slot] = Arch[slot] = Origin[slot] = Availability[slot] = null!;
        Price[slot] = Spot[slot] = OfferView.NoPrice;
        UpdateWordMins(slot);
    }

    private void UpdateWordMins(int slot)
    {
        WordMinPrice[slot >> 6] = MinPrice(Price, slot & ~63);
        WordMinSpot[slot >> 6] = MinPrice(Spot, slot & ~63);
    }

    private static long MinPrice(long[] column, int start)
    {
        var min = long.MaxValue;
        foreach (var x in column.AsSpan(start, 64))
            if (x != OfferView.NoPrice && x < min) min = x;
        return min;
    }

    /// <summary>Ordinal order of two slots' offer ids, resolved by the packed key in almost every case.</summary>
    public int CompareIds(int a, int b)
    {
        var x = IdKey[a];
        var y = IdKey[b];
        return x != y ? (x < y ? -1 : 1) : string.CompareOrdinal(Views[a]!.OfferId, Views[b]!.OfferId);
    }
}
