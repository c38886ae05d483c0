using System.Diagnostics;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Testing;

namespace Sky.Integration.Tests;

/// <summary><c>sky catalog</c>, <c>sky dir</c>, <c>sky gpus</c> and <c>sky grids</c> as a user runs them: the real programs against a real host.</summary>
public sealed class CliDirectoryTests(CliHost host) : IClassFixture<CliHost>
{
    private static JsonElement Json(string stdout) => JsonDocument.Parse(stdout).RootElement;

    private static void Ok((int Exit, string Out, string Err) run) => Assert.True(run.Exit == 0, $"exit {run.Exit}: {run.Err}");

    private static decimal Money(JsonElement money) =>
        long.Parse(money.GetProperty("units").GetString()!) + money.GetProperty("nanos").GetInt32() / 1_000_000_000m;

    [SkippableFact]
    public async Task An_imported_catalog_answers_queries_and_gpus()
    {
        var lambda = SharedData.Find("catalogs/skypilot/lambda/vms.csv");
        Skip.If(lambda is null, "../shared/catalogs/skypilot/lambda/vms.csv is absent");
        var state = host.NewStateDir();
        var catalogs = Path.Combine(state, "catalogs", "v8");
        System.IO.Directory.CreateDirectory(Path.Combine(catalogs, "lambda"));
        System.IO.Directory.CreateDirectory(Path.Combine(catalogs, "oci"));
        File.Copy(lambda, Path.Combine(catalogs, "lambda", "vms.csv"));
        File.WriteAllText(Path.Combine(catalogs, "oci", "vms.csv"), "InstanceType,Price\n");

        var import = await host.RunAsync(state, "catalog", "import", catalogs, "--json");
        Ok(import);
        Assert.Contains("skipping oci", import.Err);
        var result = Json(import.Out);
        Assert.Equal(["lambda"], result.EnumerateObject().Select(p => p.Name));
        Assert.True(result.GetProperty("lambda").GetProperty("offers_added").GetInt32() > 300, import.Out);

        // The same file again changes nothing.
        var again = await host.RunAsync(state, "catalog", "import", catalogs, "--cloud", "lambda", "--replace", "--json");
        Ok(again);
        var second = Json(again.Out).GetProperty("lambda");
        Assert.Equal((0, 0, 0), (second.GetProperty("offers_added").GetInt32(), second.GetProperty("offers_updated").GetInt32(), second.GetProperty("offers_removed").GetInt32()));

        var query = await host.RunAsync(state, "dir", "query", "provider=lambda, gpu=A100:8", "--prefer", "cheapest", "--limit", "3", "--json");
        Ok(query);
        var offers = Json(query.Out).GetProperty("offers").EnumerateArray().ToList();
        Assert.InRange(offers.Count, 1, 3);
        Assert.All(offers, o => Assert.Equal("lambda", o.GetProperty("location").GetProperty("provider").GetString()));
        var prices = offers.Select(o => Money(o.GetProperty("price").GetProperty("on_demand_hourly"))).ToList();
        Assert.Equal(prices.Order(), prices);

        var page = await host.RunAsync(state, "dir", "query", "provider=lambda", "--limit", "5", "--json");
        Ok(page);
        Assert.Equal(5, Json(page.Out).GetProperty("offers").GetArrayLength());
        Assert.NotEqual("", Json(page.Out).GetProperty("page").GetProperty("next_page_token").GetString());

        var table = await host.RunAsync(state, "dir", "query", "provider=lambda, gpu=H100:8", "--prefer", "cheapest", "--limit", "2");
        Ok(table);
        Assert.Contains("H100:8", table.Out);
        Assert.Contains("2 offers at revision", table.Out);

        var gpus = await host.RunAsync(state, "gpus", "a100", "--cloud", "lambda", "--json");
        Ok(gpus);
        var rows = Json(gpus.Out).GetProperty("accelerators").EnumerateArray().ToList();
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.Equal("A100", r.GetProperty("accelerator").GetProperty("name").GetString(), ignoreCase: true));

        var summary = await host.RunAsync(state, "gpus");
        Ok(summary);
        Assert.Contains("H100", summary.Out);
        Assert.Contains("lambda", summary.Out);
    }

    [Fact]
    public async Task A_bad_selector_is_shown_with_a_caret_under_the_offending_character()
    {
        const string selector = "service=postgres,, x";
        var run = await host.RunAsync(host.NewStateDir(), "dir", "query", selector);
        Assert.Equal(1, run.Exit);
        var lines = run.Err.TrimEnd().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("sky: selector: ", lines[0]);
        Assert.EndsWith("(at character 17)", lines[0]);
        Assert.Equal("  " + selector, lines[1]);
        Assert.Equal(new string(' ', 2 + selector.IndexOf(",,") + 1) + "^", lines[2]);
    }

    [Fact]
    public async Task Watch_streams_a_registered_offer_as_ndjson_until_stopped()
    {
        var psi = host.Sky(host.NewStateDir(), "dir", "watch", "provider=aws, instance_type=m7i.watch", "--json");
        psi.RedirectStandardInput = true;
        using var watch = Process.Start(psi)!;
        var stderr = watch.StandardError.ReadToEndAsync();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var first = Json(await watch.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("watch ended: " + await stderr));
            Assert.Empty(first.GetProperty("changes").EnumerateArray());

            using var channel = host.Channel();
            var registered = await new Sky.Directory.V1.Directory.DirectoryClient(channel).RegisterAsync(new RegisterRequest
            {
                Offer = new Offer
                {
                    Key = "m7i.watch/us-east-1",
                    Kind = OfferKind.Compute,
                    Location = new Location { Provider = "aws", Region = "us-east-1" },
                    InstanceType = "m7i.watch",
                    Hardware = new Hardware { Vcpus = 2, MemoryGib = 8 },
                    Price = new Price { OnDemandHourly = Sky.Common.V1.Money.FromDecimal(0.1008m, "USD") },
                },
                Ttl = Duration.FromTimeSpan(TimeSpan.FromMinutes(5)),
            });

            JsonElement change;
            do
            {
                var line = await watch.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("watch ended: " + await stderr);
                change = Json(line);
            } while (change.GetProperty("changes").GetArrayLength() == 0);
            var only = Assert.Single(change.GetProperty("changes").EnumerateArray());
            Assert.Equal("OFFER_CHANGE_TYPE_REGISTERED", only.GetProperty("type").GetString());
            Assert.Equal(registered.Offer.OfferId, only.GetProperty("offer").GetProperty("offer_id").GetString());
            Assert.Equal($"{registered.Offer.Revision}", only.GetProperty("revision").GetString());

            // Stopping is how a watch ends: exit 0, nothing on stderr. SIGTERM takes the same path as Ctrl-C's SIGINT,
            // which a runner started in the background may have set to be ignored, for itself and so for its children.
            using var kill = Process.Start("kill", ["-TERM", $"{watch.Id}"]);
            await kill.WaitForExitAsync(timeout.Token);
            await watch.WaitForExitAsync(timeout.Token);
            Assert.True(watch.ExitCode == 0, $"exit {watch.ExitCode}: {await stderr}");
            Assert.Equal("", (await stderr).Trim());
        }
        finally
        {
            if (!watch.HasExited) watch.Kill(entireProcessTree: true);
        }
    }

    [SkippableFact]
    public async Task Skyplane_grids_are_imported_and_shown()
    {
        var cost = SharedData.Find("anchors/skyplane/cost.csv");
        var throughput = SharedData.Find("anchors/skyplane/throughput.csv");
        Skip.If(cost is null || throughput is null, "../shared/anchors/skyplane/{cost,throughput}.csv are absent");
        var state = host.NewStateDir();

        var import = await host.RunAsync(state, "grids", "import", "--egress", cost, "--throughput", throughput, "--json");
        Ok(import);
        var written = Json(import.Out);
        Assert.True(written.GetProperty("egress").GetProperty("entries_written").GetInt32() > 3000, import.Out);
        Assert.True(written.GetProperty("throughput").GetProperty("entries_written").GetInt32() > 3000, import.Out);

        var show = await host.RunAsync(state, "grids", "show", "--from", "aws/us-east-1", "--to", "aws/us-west-2", "--json");
        Ok(show);
        var grids = Json(show.Out);
        var egress = Assert.Single(grids.GetProperty("egress").GetProperty("entries").EnumerateArray());
        Assert.Equal(0.02m, Money(Assert.Single(egress.GetProperty("tiers").EnumerateArray()).GetProperty("price_per_gb")));
        var measured = Assert.Single(grids.GetProperty("throughput").GetProperty("entries").EnumerateArray());
        Assert.True(long.Parse(measured.GetProperty("bits_per_second").GetString()!) > 1_000_000_000);
        Assert.Equal(64, measured.GetProperty("connections").GetInt32());

        var table = await host.RunAsync(state, "grids", "show", "--from", "aws/us-east-1", "--to", "aws/us-west-2", "--kind", "egress");
        Ok(table);
        Assert.Contains("$0.02/GB", table.Out);
        Assert.DoesNotContain("Gbit/s", table.Out);
    }
}
