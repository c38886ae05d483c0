using System.CommandLine;
using Google.Protobuf;
using Grpc.Core;
using Sky.Directory.V1;
using Spectre.Console;

namespace Sky.Cli.Commands;

/// <summary><c>sky catalog import</c>: load SkyPilot v8 catalogs (DIR/&lt;cloud&gt;/vms.csv) into the directory as compute offerings.</summary>
public static class CatalogCommand
{
    /// <summary>The clouds whose vms.csv column layout ImportCatalog reads (directory.proto); others are skipped unless named with --cloud.</summary>
    public static readonly string[] KnownLayouts = ["aws", "azure", "gcp", "lambda"];

    /// <summary>How many issues per cloud the table output shows; --json has all the directory reported (its first 100).</summary>
    private const int IssuesShown = 5;

    public static Command Create()
    {
        var catalog = new Command("catalog", "Load offer catalogs into the directory");
        catalog.Add(ImportCommand());
        return catalog;
    }

    public sealed record CloudFile(string Cloud, string Path);

    private static Command ImportCommand()
    {
        var dir = new Argument<string>("DIR") { Description = "A folder in SkyPilot's catalog layout, DIR/<cloud>/vms.csv, such as ~/.sky/catalogs/v8" };
        var replace = new Option<bool>("--replace") { Description = "Also remove each imported cloud's catalog offers that its file no longer lists" };
        var cloud = new Option<string?>("--cloud")
        {
            HelpName = "CLOUDS",
            Description = $"Only these clouds, comma-separated (default: every one of {string.Join(", ", KnownLayouts)} that has a vms.csv)",
        };
        var command = new Command("import", "Stream each DIR/<cloud>/vms.csv to the directory (operator only) and print what was added, updated, removed and skipped")
        {
            dir, replace, cloud,
        };
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct,
            () => FindFiles(parse.GetValue(dir)!, Flags.ParseList(parse.GetValue(cloud))),
            async (mesh, json, files) =>
            {
                var client = new Sky.Directory.V1.Directory.DirectoryClient(mesh.Channel);
                var results = new List<KeyValuePair<string, IMessage>>();
                var failed = 0;
                foreach (var file in files)
                {
                    if (!json) Console.Error.WriteLine($"importing {file.Path} ({new FileInfo(file.Path).Length / 1024} KiB)");
                    try
                    {
                        results.Add(new(file.Cloud, await ImportAsync(client, file, parse.GetValue(replace), ct)));
                    }
                    catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
                    {
                        // One cloud's file being refused should not hide what the others did.
                        CliContext.Fail($"{file.Cloud}: {CliContext.Describe(ex, mesh.Endpoint)}");
                        failed++;
                    }
                }

                if (json) ProtoJson.WriteObject(results);
                else Render(results.Select(r => (r.Key, (ImportCatalogResponse)r.Value)).ToList());
                return failed == 0 ? 0 : 1;
            }));
        return command;
    }

    /// <summary>The files to import, or a clear error when DIR is not a catalog folder.</summary>
    public static List<CloudFile> FindFiles(string dir, List<string> clouds)
    {
        var root = System.IO.Path.GetFullPath(dir);
        if (!System.IO.Directory.Exists(root)) throw new CliException($"catalog folder '{dir}' does not exist");
        const string layout = "SkyPilot's layout, as ~/.sky/catalogs/v8: DIR/aws/vms.csv, DIR/gcp/vms.csv, ...";

        if (clouds.Count > 0)
        {
            var missing = clouds.Where(c => !File.Exists(VmsCsv(root, c))).ToList();
            if (missing.Count > 0)
                throw new CliException($"no {string.Join(", ", missing.Select(c => $"{c}/vms.csv"))} under {dir} ({layout})");
            return clouds.Select(c => new CloudFile(c, VmsCsv(root, c))).ToList();
        }

        var present = System.IO.Directory.EnumerateDirectories(root)
            .Select(d => System.IO.Path.GetFileName(d)!)
            .Where(c => File.Exists(VmsCsv(root, c)))
            .Order(StringComparer.Ordinal)
            .ToList();
        var skipped = present.Except(KnownLayouts).ToList();
        if (skipped.Count > 0)
            Console.Error.WriteLine($"skipping {string.Join(", ", skipped)}: the directory reads only the {string.Join(", ", KnownLayouts)} layouts (--cloud to try anyway)");
        var chosen = present.Intersect(KnownLayouts).ToList();
        if (chosen.Count == 0)
        {
            var hint = File.Exists(System.IO.Path.Combine(root, "vms.csv")) ? $"; {dir} holds a vms.csv itself: pass its parent folder" : "";
            throw new CliException($"no <cloud>/vms.csv under {dir} ({layout}){hint}");
        }
        return chosen.Select(c => new CloudFile(c, VmsCsv(root, c))).ToList();
    }

    private static string VmsCsv(string root, string cloud) => System.IO.Path.Combine(root, cloud, "vms.csv");

    public static async Task<ImportCatalogResponse> ImportAsync(Sky.Directory.V1.Directory.DirectoryClient client, CloudFile file, bool replace, CancellationToken ct)
    {
        using var call = client.ImportCatalog(cancellationToken: ct);
        try
        {
            using var reader = new StreamReader(file.Path);
            var first = true;
            foreach (var part in CsvParts.Split(reader))
            {
                var message = new ImportCatalogRequest { Csv = part };
                if (first) (message.Provider, message.Replace, first) = (file.Cloud, replace, false);
                await call.RequestStream.WriteAsync(message, ct);
            }
            if (first) await call.RequestStream.WriteAsync(new ImportCatalogRequest { Provider = file.Cloud, Replace = replace }, ct);
            await call.RequestStream.CompleteAsync();
        }
        catch (IOException ex)
        {
            throw new CliException($"cannot read {file.Path}: {ex.Message}");
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException)
        {
            // The directory answered before taking the whole file (it refused the request): its status below says why.
        }
        return await call.ResponseAsync;
    }

    private static void Render(List<(string Cloud, ImportCatalogResponse Reply)> results)
    {
        if (results.Count == 0) return;
        var table = Format.Table("cloud", "added", "updated", "removed", "skipped", "revision");
        foreach (var (cloud, r) in results)
            table.AddTextRow(cloud, $"{r.OffersAdded}", $"{r.OffersUpdated}", $"{r.OffersRemoved}", $"{r.RowsSkipped}", $"{r.Revision}");
        foreach (var column in table.Columns.Skip(1)) column.RightAligned();
        Format.Write(table);

        foreach (var (cloud, r) in results)
        {
            foreach (var issue in r.Issues.Take(IssuesShown))
                Console.WriteLine($"{cloud} line {issue.Line}: {issue.Message}");
            if (r.RowsSkipped > IssuesShown)
                Console.WriteLine($"{cloud}: {r.RowsSkipped - Math.Min(IssuesShown, r.Issues.Count)} more skipped rows (--json lists the first {r.Issues.Count})");
        }
    }
}
