using System.Diagnostics;
using Sky.Directory.Catalog;
using Sky.Directory.Domain;
using Sky.Placement.Catalog;
using Sky.Placement.Engine;
using Sky.Placement.Optimizer;
using Sky.Placement.Tasks;

namespace Sky.Bench;

/// <summary>
/// Placement over the real GCP + Azure + Lambda catalogs in ../shared (SkyPilot's vms.csv files) with Skyplane's
/// measured egress and throughput grids: catalog load time, optimize time of every single-task YAML of
/// ../shared/anchors/skypilot-tasks that those clouds can run, a 4-task diamond and a 1->4->1 fan-out with
/// 500 GB edges (each under the cost objective, the time objective, and cost under a deadline a minute above the
/// shortest makespan), and a 50-task random DAG with the gap the solver proves. In process, the planner alone.
/// </summary>
public static class PlacementBench
{
    private static readonly string[] Clouds = ["gcp", "azure", "lambda"];

    public static Task RunAsync(Figures figures, TimeSpan duration)
    {
        var shared = SharedData.Find("");
        if (shared is null)
        {
            Console.WriteLine("placement: ../shared is absent (catalogs and task YAMLs); nothing to measure");
            figures.Add("skipped", "../shared absent");
            return Task.CompletedTask;
        }
        var load = Stopwatch.StartNew();
        var offers = new List<ComputeOffer>();
        foreach (var cloud in Clouds)
        {
            using var csv = File.OpenText(Path.Combine(shared, "catalogs", "skypilot", cloud, "vms.csv"));
            foreach (var offer in SkyPilotCatalog.Read(csv, cloud).Offers)
            {
                offer.OfferId = OfferIds.For(cloud, offer.Key);
                if (ComputeOffer.From(offer) is { } usable) offers.Add(usable);
            }
        }
        var skyplane = Path.Combine(shared, "anchors", "skyplane");
        using var cost = File.OpenText(Path.Combine(skyplane, "cost.csv"));
        using var throughput = File.OpenText(Path.Combine(skyplane, "throughput.csv"));
        var catalog = new CatalogSnapshot(offers, SkyplaneGrids.ReadCost(cost), SkyplaneGrids.ReadThroughput(throughput), 1);
        var planner = new JobPlanner();
        var policy = new PlanningPolicy { AllowedProviders = Clouds.ToHashSet() };
        // The first plan also builds the snapshot's egress and throughput grids: part of loading, not of optimizing.
        planner.Plan(TaskYaml.Parse("resources:\n  cpus: 2+\n"), catalog, policy);
        figures.Add("catalog_rows", offers.Count, 0);
        figures.Add("catalog_load_ms", load.Elapsed.TotalMilliseconds, 0);
        figures.Add("egress_grid_entries", catalog.Egress.Count, 0);

        SingleTasks(figures, shared, planner, catalog, policy);
        foreach (var (name, yaml) in new[] { ("diamond", Diamond()), ("fanout_1_4_1", FanOut()) })
        {
            var cheapest = Dag(figures, name, planner, catalog, policy, yaml);
            var fastest = Dag(figures, name + "_time", planner, catalog, policy with { Objective = PlacementObjective.Time }, yaml);
            // A deadline a bit above the shortest makespan, so it binds whenever the cheapest plan is slower.
            var deadline = fastest.Makespan!.Value + TimeSpan.FromMinutes(1);
            figures.Add($"{name}_deadline_s", deadline.TotalSeconds, 0);
            figures.Add($"{name}_deadline_binds", cheapest.Makespan > deadline ? "yes" : "no");
            Dag(figures, name + "_deadline", planner, catalog, policy with { Objective = PlacementObjective.CostUnderDeadline, Deadline = deadline }, yaml);
        }
        Random50(figures, catalog, policy);
        return Task.CompletedTask;
    }

    private static void SingleTasks(Figures figures, string shared, JobPlanner planner, CatalogSnapshot catalog, PlanningPolicy policy)
    {
        var times = new List<double>();
        var planned = new List<string>();
        var skipped = new List<string>();
        foreach (var file in System.IO.Directory.EnumerateFiles(Path.Combine(shared, "anchors", "skypilot-tasks"), "*.yaml").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            TaskGraph graph;
            try { graph = TaskYaml.Parse(File.ReadAllText(file), Path.GetFileName(file)); }
            catch (TaskYamlException e) { skipped.Add($"{name} (does not parse: {e.Errors[0]})"); continue; }
            if (graph.Tasks.Count != 1) { skipped.Add($"{name} ({graph.Tasks.Count} tasks)"); continue; }
            try { planner.Plan(graph, catalog, policy); }
            catch (NoCandidatesException e) { skipped.Add($"{name} ({e.Message})"); continue; }
            var runs = new List<double>();
            JobPlan? last = null;
            for (var i = 0; i < 20; i++)
            {
                var started = Stopwatch.GetTimestamp();
                last = planner.Plan(graph, catalog, policy);
                runs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            runs.Sort();
            var p50 = runs[runs.Count / 2];
            times.Add(p50);
            planned.Add(name);
            var chosen = last!.Plan.Tasks[0].Chosen;
            figures.Add($"task_{name}_ms", p50, 3);
            figures.Add($"task_{name}_plan", $"{chosen} ({last.Problem.Tasks[0].Candidates.Count} candidates)");
        }
        figures.Add("single_tasks_planned", planned.Count, 0);
        if (times.Count > 0)
        {
            figures.Add("single_task_p50_of_files_ms", times.Order().ElementAt(times.Count / 2), 3);
            figures.Add("single_task_max_ms", times.Max(), 3);
        }
        figures.Add("single_tasks_skipped", string.Join("; ", skipped));
    }

    /// <summary>Plans a DAG 5 times after a warm-up; reports the median run and returns its plan.</summary>
    private static PlacementPlan Dag(Figures figures, string name, JobPlanner planner, CatalogSnapshot catalog, PlanningPolicy policy, string yaml)
    {
        var graph = TaskYaml.Parse(yaml, name + ".yaml");
        planner.Plan(graph, catalog, policy);   // warm
        var runs = new List<(double Ms, JobPlan Plan)>();
        for (var i = 0; i < 5; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var plan = planner.Plan(graph, catalog, policy);
            runs.Add((Stopwatch.GetElapsedTime(started).TotalMilliseconds, plan));
        }
        runs.Sort((a, b) => a.Ms.CompareTo(b.Ms));
        var median = runs[runs.Count / 2];
        figures.Add($"{name}_ms", median.Ms, 1);
        figures.Add($"{name}_optimizer_ms", median.Plan.Plan.SolveTime.TotalMilliseconds, 1);
        figures.Add($"{name}_method", median.Plan.Plan.Method.ToString());
        figures.Add($"{name}_optimal", median.Plan.Plan.Optimal ? "yes" : $"no, gap {median.Plan.Plan.Gap:0.####}");
        figures.Add($"{name}_total_usd", (double)median.Plan.Plan.TotalCost, 4);
        figures.Add($"{name}_egress_usd", (double)median.Plan.Plan.EgressCost, 4);
        figures.Add($"{name}_makespan_s", median.Plan.Plan.Makespan?.TotalSeconds ?? double.NaN, 3);
        figures.Add($"{name}_placement", string.Join("; ", median.Plan.Plan.Tasks.Select(t => $"{t.Task.Name}: {t.Chosen}")));
        return median.Plan.Plan;
    }

    private static readonly string[] Shapes =
    [
        "cpus: 8+", "cpus: 16+\n  memory: 64+", "accelerators: A100:8", "accelerators: L4:1", "accelerators: {A10G:1, L4:1}",
        "accelerators: H100:8", "cpus: 4+", "accelerators: V100:1", "accelerators: T4:1", "cpus: 32+",
    ];

    private static string TaskText(string name, string resources, int outputsGb, IEnumerable<string> dependsOn)
    {
        var deps = dependsOn.ToList();
        return $"name: {name}\nresources:\n  {resources}\n" + (outputsGb > 0 ? $"outputs:\n  /out/{name}: {outputsGb}\n" : "")
            + (deps.Count > 0 ? $"depends_on: [{string.Join(", ", deps)}]\n" : "depends_on: []\n") + "run: echo " + name + "\n";
    }

    private static string Diamond() => string.Join("---\n",
        TaskText("prep", "cpus: 8+", 500, []),
        TaskText("train_a", "accelerators: A100:8", 500, ["prep"]),
        TaskText("train_b", "accelerators: L4:1", 500, ["prep"]),
        TaskText("eval", "cpus: 16+\n  memory: 64+", 0, ["train_a", "train_b"]));

    private static string FanOut() => string.Join("---\n", new[] { TaskText("split", "cpus: 8+", 500, []) }
        .Concat(Enumerable.Range(1, 4).Select(i => TaskText($"work{i}", Shapes[(i + 1) % Shapes.Length], 500, ["split"])))
        .Append(TaskText("merge", "cpus: 16+\n  memory: 64+", 0, Enumerable.Range(1, 4).Select(i => $"work{i}"))));

    private static void Random50(Figures figures, CatalogSnapshot catalog, PlanningPolicy policy)
    {
        var random = new Random(50);
        var tasks = new List<string>();
        for (var t = 0; t < 50; t++)
        {
            var parents = Enumerable.Range(0, t).Where(p => random.NextDouble() < Math.Min(1, 2.0 / (t + 1))).Select(p => $"t{p}").ToList();
            tasks.Add(TaskText($"t{t}", Shapes[random.Next(Shapes.Length)], random.Next(10, 501), parents));
        }
        var graph = TaskYaml.Parse(string.Join("---\n", tasks), "random50.yaml");
        var limit = TimeSpan.FromSeconds(10);
        var planner = new JobPlanner(new OptimizerOptions { TimeLimit = limit });
        var started = Stopwatch.GetTimestamp();
        var plan = planner.Plan(graph, catalog, policy).Plan;
        figures.Add("random50_ms", Stopwatch.GetElapsedTime(started).TotalMilliseconds, 0);
        figures.Add("random50_time_limit_s", limit.TotalSeconds, 0);
        figures.Add("random50_edges", graph.Tasks.Sum(t => t.DependsOn.Count), 0);
        figures.Add("random50_method", plan.Method.ToString());
        figures.Add("random50_optimal", plan.Optimal ? "yes" : "no");
        figures.Add("random50_gap", plan.Gap, 6);
        figures.Add("random50_total_usd", (double)plan.TotalCost, 4);
    }
}
