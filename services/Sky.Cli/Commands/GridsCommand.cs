using System.CommandLine;
using System.Globalization;
using Google.Protobuf;
using Sky.Common.V1;
using Sky.Directory.Catalog;
using Sky.Directory.V1;
using Spectre.Console;

namespace Sky.Cli.Commands;

/// <summary><c>sky grids import|show</c>: the egress price and throughput grids between regions that placement and transfer read.</summary>
public static class GridsCommand
{
    public static Command Create()
    {
        var grids = new Command("grids", "Load and show the egress price grid and the throughput grid between regions");
        grids.Add(ImportCommand());
        grids.Add(ShowCommand());
        return grids;
    }

    private sealed record ImportFlags(IReadOnlyList<EgressPrice> Egress, IReadOnlyList<Throughput> Throughput, bool Replace);

    private static Command ImportCommand()
    {
        var egress = new Option<string?>("--egress") { HelpName = "cost.csv", Description = "Egress prices: Skyplane's cost.csv (src,dest[,src_tier,dest_tier],cost in USD per GB; PREMIUM rows; endpoints provider:region)" };
        var throughput = new Option<string?>("--throughput") { HelpName = "throughput.csv", Description = "Measured throughput (operator only): Skyplane's throughput.csv (iperf3 grid in bits/s; PREMIUM rows)" };
        var replace = new Option<bool>("--replace") { Description = "First remove the stored entries of every source provider the files name" };
        var command = new Command("import", "Write grids from Skyplane's files, in batches of at most 10,000 entries") { egress, throughput, replace };
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct, () =>
        {
            var egressPath = parse.GetValue(egress);
            var throughputPath = parse.GetValue(throughput);
            if (egressPath is null && throughputPath is null) throw new FormatException("grids import: give --egress FILE, --throughput FILE or both");
            return new ImportFlags(
                egressPath is null ? [] : Read("--egress", egressPath, SkyplaneGrids.ReadCost),
                throughputPath is null ? [] : Read("--throughput", throughputPath, SkyplaneGrids.ReadThroughput),
                parse.GetValue(replace));
        }, async (mesh, json, flags) =>
        {
            var client = new Sky.Directory.V1.Directory.DirectoryClient(mesh.Channel);
            var results = new List<KeyValuePair<string, IMessage>>();
            if (flags.Egress.Count > 0)
            {
                var total = new PutEgressPriceGridResponse();
                foreach (var batch in GridBatches.Split(flags.Egress, e => e.Src?.Provider ?? "", flags.Replace))
                {
                    var reply = await client.PutEgressPriceGridAsync(new PutEgressPriceGridRequest { Entries = { batch.Entries }, Replace = batch.Replace }, cancellationToken: ct);
                    total.EntriesWritten += reply.EntriesWritten;
                    total.EntriesRemoved += reply.EntriesRemoved;
                    total.Revision = reply.Revision;
                }
                results.Add(new("egress", total));
            }
            if (flags.Throughput.Count > 0)
            {
                var total = new PutThroughputGridResponse();
                foreach (var batch in GridBatches.Split(flags.Throughput, t => t.Src?.Provider ?? "", flags.Replace))
                {
                    var reply = await client.PutThroughputGridAsync(new PutThroughputGridRequest { Entries = { batch.Entries }, Replace = batch.Replace }, cancellationToken: ct);
                    total.EntriesWritten += reply.EntriesWritten;
                    total.EntriesRemoved += reply.EntriesRemoved;
                    total.Revision = reply.Revision;
                }
                results.Add(new("throughput", total));
            }

            if (json) ProtoJson.WriteObject(results);
            else
            {
                foreach (var (kind, message) in results)
                {
                    var (written, removed, revision) = message switch
                    {
                        PutEgressPriceGridResponse e => (e.EntriesWritten, e.EntriesRemoved, e.Revision),
                        PutThroughputGridResponse t => (t.EntriesWritten, t.EntriesRemoved, t.Revision),
                        _ => (0, 0, 0L),
                    };
                    Console.WriteLine($"{kind}: {written} entries written, {removed} removed (revision {revision})");
                }
                if (results.Count == 0) Console.WriteLine("the files hold no entries");
            }
            return 0;
        }));
        return command;
    }

    private static IReadOnlyList<T> Read<T>(string flag, string path, Func<TextReader, IReadOnlyList<T>> read)
    {
        if (!File.Exists(path)) throw new CliException($"{flag}: file '{path}' does not exist");
        try
        {
            using var reader = new StreamReader(path);
            return read(reader);
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException or IOException)
        {
            throw new CliException($"{flag} {path}: {ex.Message}");
        }
    }

    private sealed record ShowFlags(Location? From, Location? To, bool Egress, bool Throughput);

    private static Command ShowCommand()
    {
        var from = new Option<string?>("--from") { HelpName = "PROVIDER[/REGION]", Description = "Only entries from this source, PROVIDER[/REGION]" };
        var to = new Option<string?>("--to") { HelpName = "PROVIDER[/REGION]", Description = "Only entries to this destination, PROVIDER[/REGION]" };
        var kind = new Option<string?>("--kind") { HelpName = "egress|throughput", Description = "Only one grid: egress or throughput (default: both)" };
        kind.AcceptOnlyFromAmong("egress", "throughput");
        var command = new Command("show", "Print the grids (--json: one object with the egress and/or throughput responses)") { from, to, kind };
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct, () =>
        {
            var k = parse.GetValue(kind);
            return new ShowFlags(
                parse.GetValue(from) is { } f ? Flags.ParseLocation("--from", f) : null,
                parse.GetValue(to) is { } t ? Flags.ParseLocation("--to", t) : null,
                k is null or "egress", k is null or "throughput");
        }, async (mesh, json, flags) =>
        {
            var client = new Sky.Directory.V1.Directory.DirectoryClient(mesh.Channel);
            var results = new List<KeyValuePair<string, IMessage>>();
            GetEgressPriceGridResponse? egress = null;
            GetThroughputGridResponse? throughput = null;
            if (flags.Egress)
            {
                egress = new GetEgressPriceGridResponse { Page = new PageResponse() };
                var token = "";
                do
                {
                    var page = await client.GetEgressPriceGridAsync(new GetEgressPriceGridRequest
                    {
                        Src = flags.From, Dst = flags.To, Page = new PageRequest { PageSize = 1000, PageToken = token },
                    }, cancellationToken: ct);
                    egress.Entries.AddRange(page.Entries);
                    egress.Revision = page.Revision;
                    token = page.Page?.NextPageToken ?? "";
                } while (token.Length > 0);
                results.Add(new("egress", egress));
            }
            if (flags.Throughput)
            {
                throughput = new GetThroughputGridResponse { Page = new PageResponse() };
                var token = "";
                do
                {
                    var page = await client.GetThroughputGridAsync(new GetThroughputGridRequest
                    {
                        Src = flags.From, Dst = flags.To, Page = new PageRequest { PageSize = 1000, PageToken = token },
                    }, cancellationToken: ct);
                    throughput.Entries.AddRange(page.Entries);
                    throughput.Revision = page.Revision;
                    token = page.Page?.NextPageToken ?? "";
                } while (token.Length > 0);
                results.Add(new("throughput", throughput));
            }

            if (json) ProtoJson.WriteObject(results);
            else
            {
                if (egress is not null)
                {
                    var table = Format.Table("from", "to", "egress price").Title(Markup.Escape($"egress prices ({egress.Entries.Count}, revision {egress.Revision})"));
                    foreach (var e in egress.Entries) table.AddTextRow(Format.Location(e.Src), Destination(e.Dst), Tiers(e.Tiers));
                    Format.Write(table);
                }
                if (throughput is not null)
                {
                    var table = Format.Table("from", "to", "Gbit/s", "connections", "rtt", "measured").Title(Markup.Escape($"throughput ({throughput.Entries.Count}, revision {throughput.Revision})"));
                    foreach (var t in throughput.Entries)
                        table.AddTextRow(Format.Location(t.Src), Format.Location(t.Dst), (t.BitsPerSecond / 1e9).ToString("0.00", CultureInfo.InvariantCulture),
                            t.Connections == 0 ? "" : $"{t.Connections}", Format.Duration(t.Rtt), Format.Timestamp(t.MeasuredAt));
                    Format.Write(table);
                }
            }
            return 0;
        }));
        return command;
    }

    /// <summary>A destination with no region means every region of that provider without a more specific entry.</summary>
    private static string Destination(Location? dst) =>
        dst is { Region.Length: 0, Provider.Length: > 0 } && dst.Provider != "internet" ? dst.Provider + "/*" : Format.Location(dst);

    /// <summary>"$0.09/GB" or "$0.09/GB to 10240 GB, $0.085/GB to 51200 GB, $0.07/GB beyond".</summary>
    public static string Tiers(IEnumerable<EgressTier> tiers)
    {
        var list = tiers.ToList();
        if (list.Count == 1 && list[0].UpToGb == 0) return Format.Money(list[0].PricePerGb) + "/GB";
        return string.Join(", ", list.Select(t => Format.Money(t.PricePerGb) + "/GB" + (t.UpToGb == 0 ? " beyond" : $" to {t.UpToGb} GB")));
    }
}
