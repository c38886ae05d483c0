using static Sky.Placement.Tasks.YamlScalars;
namespace Sky.Placement.Tasks;

/// <summary>A task's place in the file and what it says it depends on (null: no `depends_on` field).</summary>
internal sealed record TaskLink(string Name, int Index, IReadOnlyList<(string Name, YamlValue At)>? DependsOn, YamlValue? DependsOnField);

/// <summary>
/// Dependencies between the tasks of one file. Without any `depends_on`, the documents form a chain (each depends
/// on the one before, as SkyPilot's pipelines); with one anywhere, only `depends_on` counts (a DAG), so a task
/// without it is a root. Order: Kahn's algorithm taking the earliest ready task in file order, so a chain stays in
/// file order and the result is stable.
/// </summary>
internal static class TaskOrder
{
    private const int NamesListed = 10;

    /// <summary>The tasks' dependencies by index and an order of indices; null when the graph is unusable (errors recorded).</summary>
    public static (IReadOnlyList<string>[] DependsOn, IReadOnlyList<int> Order)? Resolve(IReadOnlyList<TaskLink> tasks, ErrorSink errors)
    {
        var dependsOn = new List<string>[tasks.Count];
        if (!tasks.Any(t => t.DependsOn is not null))
        {
            for (var i = 0; i < tasks.Count; i++) dependsOn[i] = i == 0 ? [] : [tasks[i - 1].Name];
            return (dependsOn, Enumerable.Range(0, tasks.Count).ToList());
        }

        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var task in tasks) byName.TryAdd(task.Name, task.Index);
        var edges = new List<int>[tasks.Count]; // edges[i]: tasks that depend on i
        var waiting = new int[tasks.Count];
        for (var i = 0; i < tasks.Count; i++) edges[i] = [];
        var ok = true;
        for (var i = 0; i < tasks.Count; i++)
        {
            dependsOn[i] = [];
            foreach (var (name, at) in tasks[i].DependsOn ?? [])
            {
                if (!byName.TryGetValue(name, out var target))
                {
                    errors.Add(at, "depends_on", $"unknown task '{Shorten(name)}'; tasks in this file: {ListNames(tasks)}");
                    ok = false;
                    continue;
                }
                if (target == i)
                {
                    errors.Add(at, "depends_on", $"task '{Shorten(name)}' cannot depend on itself");
                    ok = false;
                    continue;
                }
                if (dependsOn[i].Contains(name)) continue;
                dependsOn[i].Add(name);
                edges[target].Add(i);
                waiting[i]++;
            }
        }
        if (!ok) return null;

        var ready = new SortedSet<int>(Enumerable.Range(0, tasks.Count).Where(i => waiting[i] == 0));
        var order = new List<int>(tasks.Count);
        while (ready.Count > 0)
        {
            var next = ready.Min;
            ready.Remove(next);
            order.Add(next);
            foreach (var dependent in edges[next])
                if (--waiting[dependent] == 0) ready.Add(dependent);
        }
        if (order.Count == tasks.Count) return (dependsOn, order);

        var cycle = FindCycle(tasks, dependsOn, byName, waiting);
        var first = tasks[cycle[0]];
        var field = first.DependsOnField ?? first.DependsOn!.First().At;
        errors.Add(field, "depends_on", $"dependency cycle: {string.Join(" -> ", cycle.Append(cycle[0]).Select(i => tasks[i].Name))} (each depends on the next)");
        return null;
    }

    // Every task left waiting lies on or behind a cycle; walking "depends on" from one of them must repeat a task.
    private static List<int> FindCycle(IReadOnlyList<TaskLink> tasks, List<string>[] dependsOn, Dictionary<string, int> byName, int[] waiting)
    {
        var start = Enumerable.Range(0, tasks.Count).First(i => waiting[i] > 0);
        var path = new List<int>();
        var position = new Dictionary<int, int>();
        var current = start;
        while (!position.ContainsKey(current))
        {
            position[current] = path.Count;
            path.Add(current);
            current = dependsOn[current].Select(n => byName[n]).First(d => waiting[d] > 0);
        }
        var cycle = path[position[current]..];
        var rotate = cycle.IndexOf(cycle.Min());
        return [.. cycle[rotate..], .. cycle[..rotate]];
    }

    private static string ListNames(IReadOnlyList<TaskLink> tasks) =>
        string.Join(", ", tasks.Take(NamesListed).Select(t => t.Name)) + (tasks.Count > NamesListed ? ", ..." : "");
}
