using System.Buffers;
using System.Globalization;
using System.Text.RegularExpressions;
using CsvHelper;
using Sky.Common.V1;
using Sky.Directory.V1;

namespace Sky.Directory.Catalog;

/// <summary>
/// Reads SkyPilot's v8 service catalogs (<c>~/.sky/catalogs/v8/&lt;cloud&gt;/vms.csv</c>) as compute offerings:
/// one offer per row, keyed "&lt;InstanceType&gt;/&lt;Region&gt;/&lt;Zone&gt;" ("&lt;InstanceType&gt;/&lt;Region&gt;" for
/// Azure and Lambda, which have no zone column). Prices are read exactly from the decimal text. A malformed row
/// is skipped and reported with its line number; only an unknown provider or a wrong header throws.
/// GCP's separately priced accelerator rows are folded into their hosts (see <see cref="GcpAcceleratorPricing"/>).
/// </summary>
public static partial class SkyPilotCatalog
{
    /// <summary>The providers whose layouts this reader knows: aws, gcp, azure, lambda.</summary>
    public static readonly IReadOnlySet<string> Providers = SkyPilotLayout.Providers;

    /// <summary>Offer keys are at most this long (Offer.key in directory.proto).</summary>
    internal const int MaxKeyLength = 200;

    /// <summary>The expected header columns of <paramref name="provider"/>'s layout, in SkyPilot's order.</summary>
    public static IReadOnlyList<string> ExpectedColumns(string provider) =>
        Providers.Contains(provider) ? SkyPilotLayout.ExpectedColumns(provider) : throw UnknownProvider(provider);

    /// <summary>
    /// Reads one vms.csv in <paramref name="provider"/>'s column layout. Throws <see cref="ArgumentException"/> for
    /// an unknown provider or a header that does not match the layout (the message names the expected columns);
    /// never for a bad row.
    /// </summary>
    public static CatalogReadResult Read(TextReader csv, string provider)
    {
        ArgumentNullException.ThrowIfNull(csv);
        if (provider is null || !Providers.Contains(provider)) throw UnknownProvider(provider);

        var issues = new List<CatalogIssue>();
        using var reader = CsvReader.Create(csv, CsvOptions(issues), leaveOpen: true);
        if (!reader.Read())
            throw new ArgumentException($"the file is empty; expected a header with columns: {string.Join(",", SkyPilotLayout.ExpectedColumns(provider))}");
        var layout = SkyPilotLayout.FromHeader(provider, Fields(reader));

        var rows = new List<CatalogRow>();
        var gpuCache = new Dictionary<string, (GpuInfo? Info, string? Error)>(StringComparer.Ordinal);
        var fields = new string[layout.FieldCount];
        while (reader.Read())
        {
            var line = reader.LineNumber;
            var count = reader.FieldCount;
            if (count == layout.FieldCount)
            {
                for (var i = 0; i < count; i++) fields[i] = reader.GetString(i);
            }
            else if (count == layout.FieldCount + 1 && layout.Generation >= 0)
            {
                // Azure's unquoted "V1,V2" Generation splits into two fields: join them back.
                for (int i = 0, j = 0; i < layout.FieldCount; i++, j++)
                    fields[i] = i == layout.Generation ? reader.GetString(j) + "," + reader.GetString(++j) : reader.GetString(j);
            }
            else
            {
                issues.Add(new CatalogIssue(line, $"expected {layout.FieldCount} fields, found {count}"));
                continue;
            }

            var row = ParseRow(fields, layout, line, gpuCache, out var error);
            if (row is null) issues.Add(new CatalogIssue(line, error!));
            else rows.Add(row);
        }

        var offers = new OfferSet();
        if (provider == "gcp")
            GcpAcceleratorPricing.Build(rows, offers, issues);
        else
            foreach (var row in rows)
            {
                var offer = ToOffer(row, provider, out var problem);
                if (offer is null) issues.Add(new CatalogIssue(row.Line, problem!));
                else offers.Add(offer);
            }

        var ordered = issues.OrderBy(i => i.Line).ToList();
        return new CatalogReadResult(offers.ToList(), ordered.Count, ordered.Take(CatalogReadResult.MaxIssues).ToList());
    }

    /// <summary>An offer for one host row (its own accelerators, prices and attributes); null when it cannot be one.</summary>
    internal static Offer? ToOffer(CatalogRow row, string provider, out string? problem)
    {
        problem = null;
        var key = Key(row.InstanceType, row.Region, row.Zone);
        if (key.Length > MaxKeyLength) { problem = $"key '{Shorten(key)}' is longer than {MaxKeyLength} characters"; return null; }
        var offer = new Offer
        {
            Key = key,
            Kind = OfferKind.Compute,
            Location = new Location { Provider = provider, Region = row.Region, Zone = row.Zone },
            InstanceType = row.InstanceType,
            Hardware = new Hardware { Vcpus = row.Vcpus, MemoryGib = row.MemoryGib, Arch = row.Arch },
            Price = new Price(),
            Availability = Availability.Available,
        };
        if (row.Price is { } onDemand) offer.Price.OnDemandHourly = Usd(onDemand);
        if (row.SpotPrice is { } spot) offer.Price.SpotHourly = Usd(spot);
        if (row.AcceleratorName is { } name)
        {
            if (row.WholeAcceleratorCount is { } n)
                offer.Hardware.Accelerators.Add(new Accelerator { Name = AcceleratorName(name), Count = n });
            else
                // A fraction of one GPU (AWS g6f, Azure NVads A10 v5 partitions) is not an Accelerator (count >= 1):
                // kept as an attribute so it stays selectable without matching gpu=NAME:1.
                offer.Attributes["accelerator_fraction"] = $"{AcceleratorName(name)}:{row.AcceleratorCount!.Value.ToString(CultureInfo.InvariantCulture)}";
        }
        ApplyGpuInfo(offer, row.Gpu);
        if (row.Generation is { Length: > 0 } generation) offer.Attributes["generation"] = generation;
        if (row.RawArch is { } rawArch) offer.Attributes["catalog_arch"] = rawArch;
        return offer;
    }

    /// <summary>Accelerator memory and manufacturer from a GpuInfo cell, when it gives them.</summary>
    internal static void ApplyGpuInfo(Offer offer, GpuInfo? gpu)
    {
        if (gpu is null) return;
        if (gpu.MemoryGib > 0) offer.Hardware.AcceleratorMemoryGib = gpu.MemoryGib;
        if (gpu.Manufacturer is { } manufacturer) offer.Attributes["gpu_manufacturer"] = Shorten(manufacturer, 256);
    }

    internal static string Key(string instanceType, string region, string zone) =>
        zone.Length == 0 ? $"{instanceType}/{region}" : $"{instanceType}/{region}/{zone}";

    /// <summary>Accelerator names as the directory accepts them: no whitespace ("Radeon Pro V520" -> "Radeon-Pro-V520").</summary>
    internal static string AcceleratorName(string name) => Whitespace().Replace(name.Trim(), "-");

    internal static Money Usd(decimal amount) => Money.FromDecimal(amount, "USD");

    private static CatalogRow? ParseRow(string[] f, SkyPilotLayout layout, long line,
        Dictionary<string, (GpuInfo? Info, string? Error)> gpuCache, out string? error)
    {
        error = null;
        var instanceType = f[layout.InstanceType].Trim();
        var region = f[layout.Region].Trim();
        var zone = layout.Zone >= 0 ? f[layout.Zone].Trim() : "";
        if (region.Length == 0) return Fail("missing Region", out error);
        if (!IsLocationPart(region)) return Fail($"bad Region '{Shorten(region)}'", out error);
        if (zone.Length > 0 && !IsLocationPart(zone)) return Fail($"bad AvailabilityZone '{Shorten(zone)}'", out error);
        if (instanceType.Length == 0 && layout.Provider != "gcp") return Fail("missing InstanceType", out error);
        if (instanceType.Length > 128 || instanceType.AsSpan().ContainsAnyExcept(KeyCharacters))
            return Fail($"bad InstanceType '{Shorten(instanceType)}'", out error);

        double vcpus = 0, memory = 0;
        if (instanceType.Length > 0)
        {
            if (!TryPositive(f[layout.Vcpus], "vCPUs", out vcpus, out error)) return null;
            if (!TryPositive(f[layout.MemoryGib], "MemoryGiB", out memory, out error)) return null;
        }

        var acceleratorName = f[layout.AcceleratorName].Trim();
        decimal? acceleratorCount = null;
        if (acceleratorName.Length > 0)
        {
            var countText = f[layout.AcceleratorCount].Trim();
            if (!decimal.TryParse(countText, NumberStyles.Float, CultureInfo.InvariantCulture, out var c) || c <= 0)
                return Fail($"bad AcceleratorCount '{Shorten(countText)}' for {Shorten(acceleratorName)}", out error);
            acceleratorCount = c;
            if (AcceleratorName(acceleratorName).Length > 64) return Fail($"AcceleratorName '{Shorten(acceleratorName)}' is longer than 64 characters", out error);
        }
        else if (instanceType.Length == 0)
            return Fail("an accelerator row (empty InstanceType) without AcceleratorName", out error);

        if (!TryPrice(f[layout.Price], "Price", out var price, out error)) return null;
        if (!TryPrice(f[layout.SpotPrice], "SpotPrice", out var spot, out error)) return null;

        GpuInfo? gpu = null;
        var gpuText = f[layout.GpuInfo];
        if (gpuText.Length > 0)
        {
            if (!gpuCache.TryGetValue(gpuText, out var parsed))
            {
                var info = GpuInfo.Parse(gpuText, acceleratorCount, out var gpuError);
                gpuCache[gpuText] = parsed = (info, gpuError);
            }
            if (parsed.Error is not null) return Fail(parsed.Error, out error);
            gpu = parsed.Info;
        }

        var (arch, rawArch) = layout.Arch >= 0 ? NormalizeArch(f[layout.Arch]) : (InferArch(layout.Provider, instanceType), null);
        var generation = layout.Generation >= 0 ? f[layout.Generation].Trim() : null;
        if (generation is { Length: > 256 }) return Fail("Generation is longer than 256 characters", out error);

        return new CatalogRow
        {
            Line = line,
            InstanceType = instanceType,
            AcceleratorName = acceleratorName.Length > 0 ? acceleratorName : null,
            AcceleratorCount = acceleratorCount,
            Vcpus = vcpus,
            MemoryGib = memory,
            Gpu = gpu,
            Price = price,
            SpotPrice = spot,
            Region = region,
            Zone = zone,
            Arch = arch,
            RawArch = rawArch,
            Generation = generation,
        };
    }

    private static CatalogRow? Fail(string message, out string? error)
    {
        error = message;
        return null;
    }

    private static bool TryPositive(string text, string column, out double value, out string? error)
    {
        error = null;
        value = 0;
        var t = text.Trim();
        if (t.Length == 0) { error = $"missing {column}"; return false; }
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out value) || !double.IsFinite(value))
        {
            error = $"bad {column} '{Shorten(t)}'";
            return false;
        }
        if (value <= 0) { error = $"{column} must be > 0, found '{Shorten(t)}'"; return false; }
        return true;
    }

    /// <summary>A USD amount parsed exactly from its decimal text (never via double); empty means no price.</summary>
    private static bool TryPrice(string text, string column, out decimal? value, out string? error)
    {
        value = null;
        error = null;
        var t = text.Trim();
        if (t.Length == 0) return true;
        if (!decimal.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            error = $"bad {column} '{Shorten(t)}'";
            return false;
        }
        if (d < 0) { error = $"{column} must be >= 0, found '{Shorten(t)}'"; return false; }
        if (decimal.Round(d, 9) != d) { error = $"{column} '{Shorten(t)}' has more than 9 decimal places"; return false; }
        if (d > 1_000_000_000m) { error = $"{column} '{Shorten(t)}' is out of range"; return false; }
        value = d;
        return true;
    }

    /// <summary>
    /// The directory's arch for an AWS Arch value. i386 rows are old types that run both i386 and x86_64
    /// (EC2 lists i386 first); the Mac variants are the same ISA. An unrecognised value becomes "" (unknown).
    /// </summary>
    private static (string Arch, string? Raw) NormalizeArch(string text)
    {
        var raw = text.Trim();
        if (raw is "x86_64" or "arm64") return (raw, null);
        var arch = raw.ToLowerInvariant() switch
        {
            "" or "x86_64" => "x86_64",
            "arm64" => "arm64",
            "i386" or "i686" or "amd64" or "x64" or "x86-64" or "x86_64_mac" => "x86_64",
            "aarch64" or "arm64_mac" => "arm64",
            var s when s.StartsWith("arm", StringComparison.Ordinal) || s.StartsWith("aarch64", StringComparison.Ordinal) => "arm64",
            var s when s.StartsWith("x86_64", StringComparison.Ordinal) => "x86_64",
            _ => "",
        };
        return (arch, raw.Length == 0 || raw == arch ? null : Shorten(raw, 256));
    }

    /// <summary>
    /// Layouts without an Arch column are x86_64 except for the ARM families their names spell out:
    /// GCP t2a/c4a/n4a/a4x (Ampere, Axion, Grace), Azure sizes with the 'p' feature letter (Cobalt,
    /// Ampere: Standard_D2ps_v5), Lambda's GH200 (Grace).
    /// </summary>
    private static string InferArch(string provider, string instanceType) => provider switch
    {
        "gcp" when instanceType.StartsWith("t2a-", StringComparison.Ordinal) || instanceType.StartsWith("c4a-", StringComparison.Ordinal)
                   || instanceType.StartsWith("n4a-", StringComparison.Ordinal) || instanceType.StartsWith("a4x-", StringComparison.Ordinal) => "arm64",
        "azure" when AzureArm().IsMatch(instanceType) => "arm64",
        "lambda" when instanceType.Contains("gh200", StringComparison.OrdinalIgnoreCase) => "arm64",
        _ => "x86_64",
    };

    private static bool IsLocationPart(string value) => value.Length <= 63 && !value.AsSpan().ContainsAnyExcept(LocationCharacters);

    // Printable ASCII but '/', which separates the parts of a key.
    private static readonly SearchValues<char> KeyCharacters =
        SearchValues.Create(Enumerable.Range('!', '~' - '!' + 1).Select(c => (char)c).Where(c => c != '/').ToArray());

    private static readonly SearchValues<char> LocationCharacters =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.");

    /// <summary>
    /// Comma-separated, RFC 4180 quoting, no line breaks inside quotes (none of SkyPilot's files has one, and
    /// so a stray quote cannot swallow the rest of the file): a record with bad quoting is skipped and reported.
    /// </summary>
    private static CsvReaderOptions CsvOptions(List<CatalogIssue> issues) => new()
    {
        Separator = ',',
        HasHeader = false,
        SkipEmptyLines = true,
        TrackLineNumbers = true,
        AllowLineBreaksInQuotes = false,
        MalformedData = CsvMalformedDataHandling.Skip,
        FieldCountMismatch = CsvFieldCountHandling.Allow,
        OnMalformedRecord = m => issues.Add(new CatalogIssue(m.LineNumber, $"malformed quoting ({m.Reason})")),
        PoolStrings = true,
    };

    private static string[] Fields(CsvReader reader)
    {
        var fields = new string[reader.FieldCount];
        for (var i = 0; i < fields.Length; i++) fields[i] = reader.GetString(i);
        return fields;
    }

    /// <summary>At most <paramref name="max"/> characters, "..." marking a cut.</summary>
    internal static string Shorten(string text, int max = 60) => text.Length <= max ? text : text[..(max - 3)] + "...";

    private static ArgumentException UnknownProvider(string? provider) =>
        new($"unknown provider '{provider}': expected one of {string.Join(", ", Providers.Order())}", nameof(provider));

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    // Standard_<family><vCPUs>[-<constrained>]<features>_<version>, 'p' among the lower-case features = ARM.
    [GeneratedRegex(@"^Standard_[A-Z]+[0-9]+(-[0-9]+)?[a-z]*p[a-z]*(_|$)")]
    private static partial Regex AzureArm();
}

/// <summary>Offers in first-seen order, one per key: a later offer with the same key replaces the earlier one.</summary>
internal sealed class OfferSet
{
    private readonly List<Offer> _offers = [];
    private readonly Dictionary<string, int> _byKey = new(StringComparer.Ordinal);

    public void Add(Offer offer)
    {
        if (_byKey.TryGetValue(offer.Key, out var i)) _offers[i] = offer;
        else
        {
            _byKey[offer.Key] = _offers.Count;
            _offers.Add(offer);
        }
    }

    public List<Offer> ToList() => _offers;
}
