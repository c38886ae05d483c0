using Sky.Common.V1;
using Sky.Directory.V1;

namespace Sky.Directory.Catalog;

/// <summary>
/// Folds GCP's separately priced accelerators into offers. GCP bills a GPU VM as the machine type (the
/// a2-highgpu-1g row prices its vCPUs and memory only: 0.73948 in us-central1) plus the GPUs, which the
/// catalog lists as accelerator-only rows (empty InstanceType) per name, count, region and zone
/// (A100 x1 in us-central1-a: 2.93391; together GCP's list price 3.67339). What we do, after SkyPilot's
/// sky/catalog/gcp_catalog.py (<c>list_accelerators</c>, <c>_ACC_INSTANCE_TYPE_DICTS</c>, <c>_NUM_ACC_TO_NUM_CPU</c>):
/// <list type="number">
/// <item>A host whose machine family fixes its GPUs (a2 A100 / A100-80GB, g2 L4, a3 H100 / H100-MEGA / H200,
/// a4 B200: the table below), or whose row names an accelerator itself: on-demand = host + the accelerator
/// row with that name and count in the same region and zone; spot the same when both rows have one, else
/// unset. A fixed-GPU host with no such accelerator row is skipped and reported (its row alone would
/// understate the price); a row naming its own accelerator with none priced keeps its own price.</item>
/// <item>GPUs that attach to N1 machines (T4, V100, P100, P4, K80, anything not in the table): each
/// accelerator row becomes one more offer on the host that SkyPilot's <c>sky show-gpus</c> picks, the
/// cheapest n1-standard/highmem/highcpu in that zone with at least the default vCPUs for that GPU count
/// and 4 GiB per vCPU, priced host + accelerator and keyed "&lt;host&gt;+&lt;GPU&gt;:&lt;count&gt;/&lt;region&gt;/&lt;zone&gt;".
/// The N1 host rows stay CPU-only offers as well. No such host in the zone: skipped and reported.</item>
/// <item>TPU rows (tpu-*) are skipped and reported: a TPU VM has no vCPU or memory figures in the
/// catalog (SkyPilot prices the TPU alone, host free), and a compute offer needs both.</item>
/// </list>
/// Accelerator rows used by the first rule make no offer of their own; one whose GPU has no host in its
/// zone (SkyPilot's inner join drops it too) is neither an offer nor an issue.
/// </summary>
internal static class GcpAcceleratorPricing
{
    private const string Provider = "gcp";

    // SkyPilot's _ACC_INSTANCE_TYPE_DICTS, inverted; a3-edgegpu-8g and the -nolssd variants carry the same
    // GPUs as the machine they vary (GCP's accelerator-optimized machine docs) and are added here.
    private static readonly Dictionary<string, (string Name, int Count)> FixedGpuHosts = new(StringComparer.Ordinal)
    {
        ["a2-highgpu-1g"] = ("A100", 1), ["a2-highgpu-2g"] = ("A100", 2), ["a2-highgpu-4g"] = ("A100", 4),
        ["a2-highgpu-8g"] = ("A100", 8), ["a2-megagpu-16g"] = ("A100", 16),
        ["a2-ultragpu-1g"] = ("A100-80GB", 1), ["a2-ultragpu-2g"] = ("A100-80GB", 2),
        ["a2-ultragpu-4g"] = ("A100-80GB", 4), ["a2-ultragpu-8g"] = ("A100-80GB", 8),
        ["g2-standard-4"] = ("L4", 1), ["g2-standard-8"] = ("L4", 1), ["g2-standard-12"] = ("L4", 1),
        ["g2-standard-16"] = ("L4", 1), ["g2-standard-32"] = ("L4", 1), ["g2-standard-24"] = ("L4", 2),
        ["g2-standard-48"] = ("L4", 4), ["g2-standard-96"] = ("L4", 8),
        ["a3-highgpu-1g"] = ("H100", 1), ["a3-highgpu-2g"] = ("H100", 2), ["a3-highgpu-4g"] = ("H100", 4),
        ["a3-highgpu-8g"] = ("H100", 8), ["a3-edgegpu-8g"] = ("H100", 8), ["a3-edgegpu-8g-nolssd"] = ("H100", 8),
        ["a3-megagpu-8g"] = ("H100-MEGA", 8),
        ["a3-ultragpu-8g"] = ("H200", 8), ["a3-ultragpu-8g-nolssd"] = ("H200", 8),
        ["a4-highgpu-8g"] = ("B200", 8),
    };

    private static readonly HashSet<string> FixedGpuNames =
        new(FixedGpuHosts.Values.Select(v => v.Name), StringComparer.OrdinalIgnoreCase);

    // SkyPilot's _NUM_ACC_TO_NUM_CPU: default host vCPUs per GPU count (after AWS's p2/p3/g4dn shapes).
    private static readonly Dictionary<string, Dictionary<int, int>> DefaultHostCpus = new(StringComparer.OrdinalIgnoreCase)
    {
        ["K80"] = new() { [1] = 4, [2] = 8, [4] = 16, [8] = 32, [16] = 64 },
        ["V100"] = new() { [1] = 8, [2] = 16, [4] = 32, [8] = 64 },
        ["T4"] = new() { [1] = 4, [2] = 8, [4] = 48 },
        ["P100"] = new() { [1] = 8, [2] = 16, [4] = 32, [8] = 64 },
        [""] = new() { [1] = 8, [2] = 16, [4] = 32, [8] = 64, [16] = 128 },
    };

    private const double HostMemoryPerCpu = 4;

    private static readonly string[] N1Families = ["n1-standard-", "n1-highmem-", "n1-highcpu-"];

    public static void Build(IReadOnlyList<CatalogRow> rows, OfferSet offers, List<CatalogIssue> issues)
    {
        var accelerators = new Dictionary<string, CatalogRow>(StringComparer.OrdinalIgnoreCase);
        var n1Hosts = new Dictionary<(string Region, string Zone), List<CatalogRow>>();
        foreach (var row in rows)
        {
            if (row.IsAcceleratorOnly)
            {
                if (row.WholeAcceleratorCount is { } n) accelerators[AcceleratorKey(row.AcceleratorName!, n, row.Region, row.Zone)] = row;
            }
            else if (row.Price is not null && N1Families.Any(f => row.InstanceType.StartsWith(f, StringComparison.Ordinal)))
            {
                if (!n1Hosts.TryGetValue((row.Region, row.Zone), out var list)) n1Hosts[(row.Region, row.Zone)] = list = [];
                list.Add(row);
            }
        }

        foreach (var row in rows)
        {
            var problem = row.IsAcceleratorOnly ? AcceleratorRow(row, n1Hosts, offers) : HostRow(row, accelerators, offers);
            if (problem is not null) issues.Add(new CatalogIssue(row.Line, problem));
        }
    }

    /// <summary>Rule 1: a host row, with its fixed or named accelerators priced in. Returns why it was skipped, if it was.</summary>
    private static string? HostRow(CatalogRow row, Dictionary<string, CatalogRow> accelerators, OfferSet offers)
    {
        var offer = SkyPilotCatalog.ToOffer(row, Provider, out var problem);
        if (offer is null) return problem;

        (string Name, int Count)? attached = null;
        var fixedByFamily = false;
        if (row.AcceleratorName is { } named && row.WholeAcceleratorCount is { } namedCount) attached = (named, namedCount);
        else if (row.AcceleratorName is null && FixedGpuHosts.TryGetValue(row.InstanceType, out var fixedGpus))
        {
            attached = fixedGpus;
            fixedByFamily = true;
        }
        if (attached is not { } gpus)
        {
            offers.Add(offer);
            return null;
        }

        if (!accelerators.TryGetValue(AcceleratorKey(gpus.Name, gpus.Count, row.Region, row.Zone), out var accelerator))
        {
            if (fixedByFamily)
                return $"{row.InstanceType} comes with {gpus.Name}:{gpus.Count}, which has no accelerator price in {Where(row)} (GCP prices the GPUs separately)";
            offers.Add(offer);
            return null;
        }
        if (fixedByFamily) offer.Hardware.Accelerators.Add(new Accelerator { Name = SkyPilotCatalog.AcceleratorName(gpus.Name), Count = gpus.Count });
        AddAccelerator(offer, row, accelerator);
        offers.Add(offer);
        return null;
    }

    /// <summary>Rules 2 and 3: an accelerator-only row. Returns why it was skipped, if it was.</summary>
    private static string? AcceleratorRow(CatalogRow accelerator, Dictionary<(string Region, string Zone), List<CatalogRow>> n1Hosts, OfferSet offers)
    {
        var name = accelerator.AcceleratorName!;
        if (name.StartsWith("tpu-", StringComparison.OrdinalIgnoreCase))
            return $"{name}: TPU rows are not imported (a TPU VM has no vCPU or memory figures in the catalog)";
        if (accelerator.WholeAcceleratorCount is not { } count)
            return $"accelerator row {name} with a fractional AcceleratorCount";
        if (FixedGpuNames.Contains(name)) return null; // priced into its fixed hosts by rule 1

        var sizes = DefaultHostCpus.TryGetValue(name, out var known) ? known : DefaultHostCpus[""];
        if (!sizes.TryGetValue(count, out var cpus))
            return $"{name}:{count} has no default N1 host size (SkyPilot's counts for {name}: {string.Join(", ", sizes.Keys)})";
        var host = n1Hosts.GetValueOrDefault((accelerator.Region, accelerator.Zone))?
            .Where(h => h.Vcpus >= cpus && h.MemoryGib >= cpus * HostMemoryPerCpu)
            .OrderBy(h => h.Price).ThenBy(h => h.InstanceType, StringComparer.Ordinal)
            .FirstOrDefault();
        if (host is null)
            return $"{name}:{count} has no N1 host with {cpus}+ vCPUs and {cpus * HostMemoryPerCpu}+ GiB priced in {Where(accelerator)}";

        var offer = SkyPilotCatalog.ToOffer(host, Provider, out var problem);
        if (offer is null) return problem;
        var gpuName = SkyPilotCatalog.AcceleratorName(name);
        offer.Key = SkyPilotCatalog.Key($"{host.InstanceType}+{gpuName}:{count}", host.Region, host.Zone);
        if (offer.Key.Length > SkyPilotCatalog.MaxKeyLength) return $"key '{SkyPilotCatalog.Shorten(offer.Key)}' is too long";
        offer.Hardware.Accelerators.Add(new Accelerator { Name = gpuName, Count = count });
        AddAccelerator(offer, host, accelerator);
        offers.Add(offer);
        return null;
    }

    /// <summary>Host + accelerator prices (each only when both are known); the accelerator row's GpuInfo fills what the host's lacks.</summary>
    private static void AddAccelerator(Offer offer, CatalogRow host, CatalogRow accelerator)
    {
        offer.Price.OnDemandHourly = Sum(host.Price, accelerator.Price);
        offer.Price.SpotHourly = Sum(host.SpotPrice, accelerator.SpotPrice);
        if (accelerator.Gpu is not { } gpu) return;
        if (offer.Hardware.AcceleratorMemoryGib == 0 && gpu.MemoryGib > 0) offer.Hardware.AcceleratorMemoryGib = gpu.MemoryGib;
        if (gpu.Manufacturer is { } manufacturer) offer.Attributes.TryAdd("gpu_manufacturer", SkyPilotCatalog.Shorten(manufacturer, 256));
    }

    private static Money? Sum(decimal? host, decimal? accelerator) =>
        host is { } h && accelerator is { } a ? SkyPilotCatalog.Usd(h + a) : null;

    private static string AcceleratorKey(string name, int count, string region, string zone) => $"{name}\n{count}\n{region}\n{zone}";

    private static string Where(CatalogRow row) => row.Zone.Length > 0 ? row.Zone : row.Region;
}
