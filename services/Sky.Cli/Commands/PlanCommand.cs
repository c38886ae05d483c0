using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Sky.Common.V1;
using Sky.Directory.Engine;
using Sky.Placement.V1;
using Spectre.Console;

namespace Sky.Cli.Commands;

/// <summary>
/// <c>sky plan FILE</c>: optimize a SkyPilot task YAML (one task, a chain, or a DAG with depends_on) on the directory's
/// offers and explain the answer: where each task runs, the cost (compute, egress), and the next best placements.
/// </summary>
public static class PlanCommand
{
    public sealed record PlanFlags(string File, string Yaml, string? Catalog, List<string> Clouds, JobSpec Spec);

    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "A SkyPilot task YAML; several documents separated by --- form a chain, depends_on a DAG" };
        var command = new Command("plan", "Find the cheapest (or fastest) placement of every task, egress between clouds and regions included, and explain it")
        {
            file,
        };
        var options = PlanOptions.Add(command);
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct,
            () => PlanOptions.Read(parse, parse.GetValue(file)!, options),
            async (mesh, json, flags) =>
            {
                await PlanOptions.ImportCatalogAsync(mesh, flags, json, ct);
                var client = new Sky.Placement.V1.Placement.PlacementClient(mesh.Channel);
                var plan = await client.PlanAsync(new PlanRequest { Spec = flags.Spec }, cancellationToken: ct);
                if (json) CliContext.WriteJsonNode(ToJson(plan));
                else Render(plan);
                return 0;
            },
            PlanOptions.Embedded));
        return command;
    }

    /// <summary>The documented JSON shape: `plan` (one entry per task), totals, objective and optimize_ms, then the rest of the explanation.</summary>
    public static JsonObject ToJson(PlanResponse plan)
    {
        var tasks = new JsonArray();
        foreach (var task in plan.Tasks) tasks.Add(Placement(task.Chosen));
        return new JsonObject
        {
            ["plan"] = tasks,
            ["total_hourly_cost_usd"] = Usd(plan.Cost.Hourly),
            ["egress_cost_usd"] = Usd(plan.Cost.Egress),
            ["objective"] = Objective(plan.Objective),
            ["optimize_ms"] = Math.Round(plan.OptimizeTime.ToTimeSpan().TotalMilliseconds, 3),
            ["compute_cost_usd"] = Usd(plan.Cost.Compute),
            ["total_cost_usd"] = Usd(plan.Cost.Total),
            ["estimated_duration_s"] = plan.EstimatedDuration is null ? null : plan.EstimatedDuration.ToTimeSpan().TotalSeconds,
            ["optimal"] = plan.Optimal,
            ["optimality_gap"] = plan.OptimalityGap,
            ["plan_id"] = plan.PlanId,
            ["price_book_revision"] = plan.PriceBookRevision,
            ["egress"] = new JsonArray([.. plan.Egress.Select(e => (JsonNode)new JsonObject
            {
                ["from_task"] = e.SourceTask,
                ["to_task"] = e.DestinationTask,
                ["bytes"] = e.Bytes,
                ["from"] = Format.Location(e.Source),
                ["to"] = Format.Location(e.Destination),
                ["cost_usd"] = Usd(e.Cost),
                ["transfer_s"] = e.TransferTime is null ? null : e.TransferTime.ToTimeSpan().TotalSeconds,
            })]),
            ["alternatives"] = new JsonObject(plan.Tasks.Select(t => new KeyValuePair<string, JsonNode?>(t.Task,
                new JsonArray([.. t.Alternatives.Select(a => (JsonNode)Alternative(a, plan))])))),
            ["ignored_fields"] = new JsonArray([.. plan.IgnoredFields.Select(f => (JsonNode)new JsonObject
            {
                ["task"] = f.Task, ["field"] = f.Field, ["line"] = f.Line, ["column"] = f.Column, ["reason"] = f.Reason,
            })]),
        };
    }

    private static JsonObject Placement(Sky.Placement.V1.TaskPlacement p) => new()
    {
        ["task"] = p.Task,
        ["cloud"] = p.Location.Provider,
        ["region"] = p.Location.Region,
        ["zone"] = p.Location.Zone.Length == 0 ? null : p.Location.Zone,
        ["instance_type"] = p.InstanceType,
        ["accelerators"] = p.Accelerators.Count == 0 ? null : string.Join(",", p.Accelerators.Select(a => $"{a.Name}:{a.Count}")),
        ["use_spot"] = p.UseSpot,
        ["num_nodes"] = p.NumNodes,
        ["hourly_cost_usd"] = Usd(p.HourlyCost),
        ["compute_cost_usd"] = Usd(p.ComputeCost),
        ["offer_id"] = p.OfferId,
    };

    /// <summary>An alternative: its placement, and what the whole plan would cost (and how much more) with the task moved there.</summary>
    private static JsonObject Alternative(Sky.Placement.V1.TaskPlacement a, PlanResponse plan)
    {
        var json = Placement(a);
        json["plan_total_cost_usd"] = Usd(a.PlanTotal);
        json["plan_delta_usd"] = Usd(a.PlanTotal) - Usd(plan.Cost.Total);
        json["plan_duration_s"] = a.PlanDuration is null ? null : a.PlanDuration.ToTimeSpan().TotalSeconds;
        return json;
    }

    private static decimal Usd(Money? money) => money?.ToDecimal() ?? 0m;

    public static string Objective(Sky.Placement.V1.Objective objective) => objective switch
    {
        Sky.Placement.V1.Objective.Time => "time",
        Sky.Placement.V1.Objective.CostUnderDeadline => "cost_under_deadline",
        _ => "cost",
    };

    private static string Dollars(Money? money) => "$" + Usd(money).ToString("0.00##", CultureInfo.InvariantCulture);

    public static void Render(PlanResponse plan)
    {
        var table = Format.Table("task", "where", "instance", "accelerators", "nodes", "spot", "$/hour", "compute $");
        foreach (var t in plan.Tasks)
        {
            var c = t.Chosen;
            table.AddTextRow(t.Task, Format.Location(c.Location), c.InstanceType, Format.Accelerators(c.Accelerators), $"{c.NumNodes}",
                c.UseSpot ? "yes" : "", Dollars(c.HourlyCost), Dollars(c.ComputeCost));
        }
        Format.Write(table);
        if (plan.Egress.Count > 0)
        {
            var egress = Format.Table("data", "from", "to", "GB", "egress $", "transfer");
            foreach (var e in plan.Egress)
                egress.AddTextRow($"{e.SourceTask} -> {e.DestinationTask}", Format.Location(e.Source), Format.Location(e.Destination),
                    (e.Bytes / 1e9).ToString("0.##", CultureInfo.InvariantCulture), Dollars(e.Cost), Format.Duration(e.TransferTime));
            Format.Write(egress);
        }
        Format.KeyValues(
            ("objective", Objective(plan.Objective)),
            ("hourly", Dollars(plan.Cost.Hourly)),
            ("compute", Dollars(plan.Cost.Compute)),
            ("egress", Dollars(plan.Cost.Egress)),
            ("total", Dollars(plan.Cost.Total)),
            ("duration", Format.Duration(plan.EstimatedDuration)),
            ("optimized in", $"{plan.OptimizeTime.ToTimeSpan().TotalMilliseconds:0.#} ms{(plan.Optimal ? " (optimal)" : $" (gap {plan.OptimalityGap})")}"),
            ("plan", plan.PlanId));
        foreach (var t in plan.Tasks.Where(t => t.Alternatives.Count > 0))
        {
            var alternatives = Format.Table($"next best for {t.Task}", "instance", "accelerators", "$/hour", "compute $", "plan total $", "vs chosen");
            foreach (var a in t.Alternatives)
                alternatives.AddTextRow(Format.Location(a.Location), a.InstanceType, Format.Accelerators(a.Accelerators), Dollars(a.HourlyCost), Dollars(a.ComputeCost),
                    Dollars(a.PlanTotal), "+$" + (Usd(a.PlanTotal) - Usd(plan.Cost.Total)).ToString("0.00##", CultureInfo.InvariantCulture));
            Format.Write(alternatives);
        }
        foreach (var f in plan.IgnoredFields)
            Console.WriteLine($"ignored {f.Task}.{f.Field} at line {f.Line}, column {f.Column}: {f.Reason}");
    }
}

/// <summary>The flags `plan` and `launch` share: the policy, durations and where the offers come from.</summary>
public static class PlanOptions
{
    public sealed record Set(Option<string?> Catalog, Option<string?> Clouds, Option<string?> Objective, Option<string?> Deadline,
        Option<decimal?> MaxHourly, Option<decimal?> MaxCost, Option<string[]> Durations, Option<string[]> Allow, Option<string[]> Deny, Option<string?> Tenant);

    public static Set Add(Command command)
    {
        var set = new Set(
            new Option<string?>("--catalog") { HelpName = "DIR", Description = "Plan on SkyPilot catalogs (DIR/<cloud>/vms.csv) instead of the built-in catalog (in-process mesh only)" },
            new Option<string?>("--clouds") { HelpName = "CLOUDS", Description = "Only these providers, comma-separated, e.g. gcp,azure" },
            new Option<string?>("--objective") { HelpName = "cost|time|cost-under-deadline", Description = "What to minimize (default cost)" },
            new Option<string?>("--deadline") { HelpName = "DURATION", Description = "Latest end of the last task, e.g. 6h (required by cost-under-deadline)" },
            new Option<decimal?>("--max-hourly-cost") { HelpName = "USD", Description = "Budget per hour for all tasks together" },
            new Option<decimal?>("--max-cost") { HelpName = "USD", Description = "Budget for the whole job (compute + egress)" },
            new Option<string[]>("--duration") { HelpName = "TASK=DURATION", Description = "Expected run time of a task (default 1h), repeatable", AllowMultipleArgumentsPerToken = false },
            new Option<string[]>("--allow-region") { HelpName = "PROVIDER[/REGION]", Description = "Only these regions (data residency), repeatable" },
            new Option<string[]>("--deny-region") { HelpName = "PROVIDER[/REGION]", Description = "Never these regions, repeatable" },
            new Option<string?>("--tenant") { HelpName = "TENANT", Description = "Tenant to plan for (the operator must name one; default 'default' on an in-process mesh)" });
        foreach (var option in new System.CommandLine.Option[] { set.Catalog, set.Clouds, set.Objective, set.Deadline, set.MaxHourly, set.MaxCost, set.Durations, set.Allow, set.Deny, set.Tenant })
            command.Add(option);
        return set;
    }

    public static PlanCommand.PlanFlags Read(ParseResult parse, string file, Set set)
    {
        if (!File.Exists(file)) throw new CliException($"task file '{file}' does not exist");
        var yaml = File.ReadAllText(file);
        var policy = new PlacementPolicy();
        var clouds = Flags.ParseList(parse.GetValue(set.Clouds));
        policy.AllowedProviders.AddRange(clouds);
        policy.Objective = parse.GetValue(set.Objective)?.Trim().ToLowerInvariant() switch
        {
            null or "cost" => Sky.Placement.V1.Objective.Cost,
            "time" => Sky.Placement.V1.Objective.Time,
            "cost-under-deadline" or "cost_under_deadline" => Sky.Placement.V1.Objective.CostUnderDeadline,
            var other => throw new FormatException($"--objective: '{other}' is not cost, time or cost-under-deadline"),
        };
        if (parse.GetValue(set.Deadline) is { } deadline) policy.Deadline = Duration.FromTimeSpan(Flags.ParseDuration("--deadline", deadline));
        if (parse.GetValue(set.MaxHourly) is { } hourly) policy.MaxHourlyCost = Budget("--max-hourly-cost", hourly);
        if (parse.GetValue(set.MaxCost) is { } cost) policy.MaxJobCost = Budget("--max-cost", cost);
        policy.AllowedRegions.AddRange((parse.GetValue(set.Allow) ?? []).Select(v => Flags.ParseLocation("--allow-region", v)));
        policy.DeniedRegions.AddRange((parse.GetValue(set.Deny) ?? []).Select(v => Flags.ParseLocation("--deny-region", v)));
        var spec = new JobSpec { TaskYaml = yaml, FileName = Path.GetFileName(file), Policy = policy, TenantId = parse.GetValue(set.Tenant) ?? "" };
        foreach (var (task, value) in Flags.ParsePairs("--duration", parse.GetValue(set.Durations) ?? []))
            spec.EstimatedDurations[task] = Duration.FromTimeSpan(Flags.ParseDuration("--duration", value));
        var catalog = parse.GetValue(set.Catalog);
        if (catalog is not null && parse.GetValue(CliContext.Endpoint) is { Length: > 0 })
            throw new FormatException("--catalog: loads catalogs into an in-process mesh; against --endpoint import them with `sky catalog import` instead");
        if (catalog is not null) CatalogCommand.FindFiles(catalog, clouds.Intersect(CatalogCommand.KnownLayouts).ToList());
        return new PlanCommand.PlanFlags(file, yaml, catalog, clouds, spec);
    }

    private static Money Budget(string flag, decimal value) =>
        value >= 0 ? Money.FromDecimal(value, "USD") : throw new FormatException($"{flag}: must be zero or more");

    /// <summary>An in-process mesh planning on a catalog folder starts without the built-in catalog.</summary>
    public static Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? Embedded(PlanCommand.PlanFlags flags) =>
        flags.Catalog is null ? null : b => b.Services.AddSingleton(new DirectoryOptions { SeedBuiltinCatalog = false });

    /// <summary>Loads --catalog into the in-process mesh, and names the tenant an in-process mesh plans for.</summary>
    public static async Task ImportCatalogAsync(MeshConnection mesh, PlanCommand.PlanFlags flags, bool json, CancellationToken ct)
    {
        if (mesh.IsEmbedded && flags.Spec.TenantId.Length == 0) flags.Spec.TenantId = "default";
        if (flags.Catalog is null) return;
        var client = new Sky.Directory.V1.Directory.DirectoryClient(mesh.Channel);
        foreach (var file in CatalogCommand.FindFiles(flags.Catalog, flags.Clouds.Intersect(CatalogCommand.KnownLayouts).ToList()))
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var reply = await CatalogCommand.ImportAsync(client, file, replace: true, ct);
            if (!json)
                Console.Error.WriteLine($"loaded {file.Cloud}: {reply.OffersAdded} offers in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s");
        }
    }
}
