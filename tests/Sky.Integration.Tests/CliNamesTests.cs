using System.Text.Json;

namespace Sky.Integration.Tests;

/// <summary><c>sky zones</c> and <c>sky names</c> as a user runs them: the real programs against a real host.</summary>
public sealed class CliNamesTests(CliHost host) : IClassFixture<CliHost>
{
    private static JsonElement Json(string stdout) => JsonDocument.Parse(stdout).RootElement;

    private static void Ok((int Exit, string Out, string Err) run) => Assert.True(run.Exit == 0, $"exit {run.Exit}: {run.Err}");

    [Fact]
    public async Task A_record_is_created_resolved_looked_up_guarded_by_its_revision_and_removed()
    {
        var state = host.NewStateDir();
        const string name = "pg-1.postgres.us-east-1.aws.sky";
        Ok(await host.RunAsync(state, "zones", "create", "aws.sky", "--description", "AWS apex"));

        var put = await host.RunAsync(state, "names", "put", name, "--target", "postgres://10.0.0.5:5432?weight=10&priority=1",
            "--target", "postgres://[2001:db8::5]:5432?weight=5&priority=1", "--ttl", "45s", "--api-version", "16",
            "--software-version", "16.2.0", "--attr", "tier=gold", "--json");
        Ok(put);
        var created = Json(put.Out).GetProperty("record");
        var revision = long.Parse(created.GetProperty("revision").GetString()!);
        Assert.Equal("aws.sky", created.GetProperty("zone").GetString());

        // Any case and a trailing dot resolve the same record; endpoints keep their host spelling (IPv6 without brackets).
        var resolve = await host.RunAsync(state, "names", "resolve", "PG-1.postgres.us-east-1.aws.sky.", "--json");
        Ok(resolve);
        var record = Json(resolve.Out).GetProperty("record");
        Assert.Equal(name, record.GetProperty("name").GetString());
        Assert.Equal("45s", record.GetProperty("ttl").GetString());
        Assert.Equal("aws", record.GetProperty("owner").GetString());
        Assert.Equal(["10.0.0.5", "2001:db8::5"], record.GetProperty("endpoints").EnumerateArray().Select(e => e.GetProperty("host").GetString()).Order());
        Assert.Equal("gold", record.GetProperty("attributes").GetProperty("tier").GetString());

        var lookup = await host.RunAsync(state, "names", "lookup", "_postgres._tcp.us-east-1.aws.sky", "--json");
        Ok(lookup);
        var endpoints = Json(lookup.Out).GetProperty("endpoints").EnumerateArray().ToList();
        Assert.Equal(2, endpoints.Count);
        Assert.All(endpoints, e => Assert.Equal(name, e.GetProperty("instance_name").GetString()));
        Assert.Equal("45s", Json(lookup.Out).GetProperty("ttl").GetString());

        var table = await host.RunAsync(state, "names", "resolve", name, "--no-cache");
        Ok(table);
        Assert.Contains("2001:db8::5", table.Out);
        Assert.Contains("aws.sky (owner aws)", table.Out);

        // A write with a stale revision is refused with advice, not overwritten.
        var updated = await host.RunAsync(state, "names", "put", name, "--target", "postgres://10.0.0.6:5432", "--revision", $"{revision}", "--json");
        Ok(updated);
        var stale = await host.RunAsync(state, "names", "put", name, "--target", "postgres://10.0.0.7:5432", "--revision", $"{revision}");
        Assert.Equal(1, stale.Exit);
        Assert.Equal($"sky: the record {name} changed since revision {revision}: re-read it with 'sky names resolve {name} --no-cache' and retry with its revision", stale.Err.Trim());
        var again = await host.RunAsync(state, "names", "put", name, "--target", "postgres://10.0.0.7:5432");
        Assert.Equal(1, again.Exit);
        Assert.StartsWith($"sky: {name} already has a record", again.Err.Trim());

        var listed = await host.RunAsync(state, "names", "list", "--under", "aws.sky", "--json");
        Ok(listed);
        Assert.Contains(name, Json(listed.Out).GetProperty("records").EnumerateArray().Select(r => r.GetProperty("name").GetString()));

        // rm without --revision reads the current one first.
        Ok(await host.RunAsync(state, "names", "rm", name));
        var gone = await host.RunAsync(state, "names", "resolve", name);
        Assert.Equal(1, gone.Exit);
        Assert.StartsWith("sky: NotFound: ", gone.Err.Trim());
    }

    [Fact]
    public async Task Resolve_answers_from_the_cache_for_the_ttl_and_no_cache_asks_the_mesh()
    {
        var mine = host.NewStateDir();
        var someoneElse = host.NewStateDir();
        const string name = "web-1.nginx.eu-west-1.gcp.sky";
        Ok(await host.RunAsync(mine, "zones", "create", "gcp.sky"));
        var put = await host.RunAsync(mine, "names", "put", name, "--target", "https://10.1.0.1:443", "--ttl", "1h", "--json");
        Ok(put);
        var first = Json(put.Out).GetProperty("record").GetProperty("revision").GetString()!;

        var resolved = await host.RunAsync(mine, "names", "resolve", name, "--json");
        Ok(resolved);
        Assert.Equal(first, Json(resolved.Out).GetProperty("record").GetProperty("revision").GetString());

        // Another machine (another state folder) changes the record; this one keeps its answer for the hour's TTL.
        var update = await host.RunAsync(someoneElse, "names", "put", name, "--target", "https://10.1.0.2:443", "--revision", first, "--json");
        Ok(update);
        var second = Json(update.Out).GetProperty("record").GetProperty("revision").GetString()!;
        Assert.NotEqual(first, second);

        var cached = await host.RunAsync(mine, "names", "resolve", name, "--json");
        Ok(cached);
        Assert.Equal(first, Json(cached.Out).GetProperty("record").GetProperty("revision").GetString());
        var cachedTable = await host.RunAsync(mine, "names", "resolve", name);
        Assert.Contains("--no-cache to ask again", cachedTable.Out);

        var fresh = await host.RunAsync(mine, "names", "resolve", name, "--no-cache", "--json");
        Ok(fresh);
        Assert.Equal(second, Json(fresh.Out).GetProperty("record").GetProperty("revision").GetString());
        Assert.Contains("10.1.0.2", fresh.Out);
    }

    [Fact]
    public async Task A_malformed_name_gets_a_caret_and_a_bad_flag_exits_2_before_any_call()
    {
        var state = host.NewStateDir();
        const string bad = "pg_1.postgres.us-east-1.aws.sky";
        var resolve = await host.RunAsync(state, "names", "resolve", bad);
        Assert.Equal(1, resolve.Exit);
        var lines = resolve.Err.TrimEnd().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("sky: name: ", lines[0]);
        Assert.EndsWith("(at character 2)", lines[0]);
        Assert.Equal("  " + bad, lines[1]);
        Assert.Equal("    ^", lines[2]);

        var flag = await host.RunAsync(state, "names", "put", "a.aws.sky", "--target", "postgres://db");
        Assert.Equal(2, flag.Exit);
        Assert.Equal("sky: --target: 'postgres://db' has no port (scheme://host:port[?weight=W&priority=P])", flag.Err.Trim());
    }
}
