using System.CommandLine;
using Sky.Common.V1;
using Sky.Directory.V1;
using Spectre.Console;

namespace Sky.Cli.Commands;

/// <summary>
/// <c>sky gpus [NAME]</c>, after SkyPilot's <c>sky gpus list</c>: which accelerators can be had, in what counts,
/// where and at what price, from the directory's ListAccelerators.
/// </summary>
public static class GpusCommand
{
    private sealed record GpusFlags(string Name, int Count, Location? Location, bool All);

    public static Command Create()
    {
        var name = new Argument<string>("NAME")
        {
            Description = "An accelerator model, e.g. A100, H100, L4 (case-insensitive); without it a summary of every model",
            Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = _ => "",
        };
        var count = new Option<int>("--count") { HelpName = "N", Description = "Only this many accelerators per node" };
        var cloud = new Option<string?>("--cloud") { HelpName = "PROVIDER", Description = "Only this provider, e.g. aws" };
        var region = new Option<string?>("--region") { HelpName = "REGION", Description = "Only this region, e.g. us-east-1 (every row of it is shown)" };
        var all = new Option<bool>("--all")
        {
            Description = "Every region's row (default: the cheapest region per accelerator, count, cloud and instance type); without NAME, rows for every model instead of the summary",
        };
        var command = new Command("gpus", "List accelerators with counts, clouds and hourly prices, cheapest first (--json: every row the mesh returned)")
        {
            name, count, cloud, region, all,
        };
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct, () =>
        {
            var n = parse.GetValue(count);
            if (n < 0) throw new FormatException("--count: must be at least 1 (leave it out for any count)");
            var provider = parse.GetValue(cloud)?.Trim().ToLowerInvariant();
            var regionName = parse.GetValue(region)?.Trim().ToLowerInvariant();
            var location = provider is null && regionName is null ? null : new Location { Provider = provider ?? "", Region = regionName ?? "" };
            return new GpusFlags(parse.GetValue(name) ?? "", n, location, parse.GetValue(all));
        }, async (mesh, json, flags) =>
        {
            var client = new Sky.Directory.V1.Directory.DirectoryClient(mesh.Channel);
            var result = new ListAcceleratorsResponse { Page = new PageResponse() };
            var token = "";
            do
            {
                var page = await client.ListAcceleratorsAsync(new ListAcceleratorsRequest
                {
                    Name = flags.Name,
                    Count = flags.Count,
                    Location = flags.Location,
                    Page = new PageRequest { PageSize = 1000, PageToken = token },
                }, cancellationToken: ct);
                result.Accelerators.AddRange(page.Accelerators);
                token = page.Page?.NextPageToken ?? "";
            } while (token.Length > 0);
            foreach (var row in result.Accelerators)
            {
                row.Accelerator ??= new Accelerator();
                row.Location ??= new Location();
            }

            if (json) ProtoJson.Write(result);
            else if (result.Accelerators.Count == 0)
                Console.WriteLine(flags.Name.Length > 0 ? $"no offers of {flags.Name} match" : "no accelerators in the directory (load a catalog with 'sky catalog import')");
            else if (flags.Name.Length == 0 && !flags.All) Format.Write(Summary(result.Accelerators));
            else Format.Write(Rows(Ordered(result.Accelerators, everyRegion: flags.All || flags.Location?.Region.Length > 0)));
            return 0;
        }));
        return command;
    }

    /// <summary>One line per model: the counts per node on offer and the clouds offering it.</summary>
    private static Spectre.Console.Table Summary(IEnumerable<AcceleratorOffer> offers)
    {
        var table = Format.Table("GPU", "QTY", "CLOUDS");
        foreach (var model in offers.GroupBy(o => o.Accelerator.Name, StringComparer.OrdinalIgnoreCase).OrderBy(g => g.Key, StringComparer.OrdinalIgnoreCase))
        {
            table.AddTextRow(model.Key,
                string.Join(", ", model.Select(o => o.Accelerator.Count).Distinct().Order()),
                string.Join(", ", model.Select(o => o.Location.Provider).Distinct().Order(StringComparer.Ordinal)));
        }
        return table;
    }

    /// <summary>
    /// Cheapest first within model and count (offers without an on-demand price last). Unless
    /// <paramref name="everyRegion"/>, only the cheapest region of each (model, count, cloud, instance type), as SkyPilot shows.
    /// </summary>
    public static List<AcceleratorOffer> Ordered(IEnumerable<AcceleratorOffer> offers, bool everyRegion)
    {
        var sorted = offers
            .OrderBy(o => o.Accelerator.Name, StringComparer.OrdinalIgnoreCase)
            .ThenBy(o => o.Accelerator.Count)
            .ThenBy(o => o.Price?.OnDemandHourly is null ? 1 : 0)
            .ThenBy(o => o.Price?.OnDemandHourly?.ToDecimal() ?? 0m)
            .ThenBy(o => o.Location.Provider, StringComparer.Ordinal)
            .ThenBy(o => o.Location.Region, StringComparer.Ordinal)
            .ThenBy(o => o.InstanceType, StringComparer.Ordinal)
            .ToList();
        if (everyRegion) return sorted;
        var seen = new HashSet<(string, int, string, string)>();
        return sorted.Where(o => seen.Add((o.Accelerator.Name.ToUpperInvariant(), o.Accelerator.Count, o.Location.Provider, o.InstanceType))).ToList();
    }

    private static Spectre.Console.Table Rows(IEnumerable<AcceleratorOffer> offers)
    {
        var table = Format.Table("GPU", "QTY", "CLOUD", "REGION", "INSTANCE_TYPE", "vCPUs", "HOST_MEM", "GPU_MEM", "$/h", "SPOT $/h");
        foreach (var o in offers)
        {
            var hw = o.Hardware ?? new Hardware();
            table.AddTextRow(o.Accelerator.Name, $"{o.Accelerator.Count}", o.Location.Provider, o.Location.Region, o.InstanceType,
                Format.Number(hw.Vcpus), hw.MemoryGib == 0 ? "" : Format.Number(hw.MemoryGib) + "GB",
                hw.AcceleratorMemoryGib == 0 ? "" : Format.Number(hw.AcceleratorMemoryGib) + "GB",
                Format.Money(o.Price?.OnDemandHourly), Format.Money(o.Price?.SpotHourly));
        }
        foreach (var column in table.Columns.Skip(5)) column.RightAligned();
        return table;
    }
}
