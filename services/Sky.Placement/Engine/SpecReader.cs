using Sky.Hosting.Errors;
using Sky.Hosting.Identity;
using Sky.Placement.Optimizer;
using Sky.Placement.Tasks;
using Sky.Placement.V1;

namespace Sky.Placement.Engine;

/// <summary>Reads a JobSpec: the task YAML (errors as field violations "file:line:column"), the tenant and the policy.</summary>
public static class SpecReader
{
    /// <summary>The tenant a spec is for: a tenant's own id (empty means itself); the operator must name one.</summary>
    public static string TenantOf(JobSpec spec, Principal caller, string field = "spec.tenant_id") =>
        TenantScope.ActingFor(caller, spec.TenantId, field, "plan or launch");

    /// <summary>The task graph; a YAML that does not parse is INVALID_ARGUMENT with one violation per error.</summary>
    public static TaskGraph Graph(JobSpec spec)
    {
        if (spec.TaskYaml.Length == 0) throw RpcErrors.InvalidArgument("spec.task_yaml", "required: the SkyPilot task YAML text");
        var file = spec.FileName.Length > 0 ? spec.FileName : TaskYaml.DefaultFileName;
        try
        {
            return TaskYaml.Parse(spec.TaskYaml, file);
        }
        catch (TaskYamlException e)
        {
            throw RpcErrors.InvalidArgument([.. e.Errors.Select(x => (x.Position, $"{x.FieldPath}: {x.Message}"))]);
        }
    }

    public static PlanningPolicy Policy(JobSpec spec, TaskGraph graph)
    {
        var p = spec.Policy ?? new PlacementPolicy();
        var violations = new List<(string, string)>();
        var durations = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var (task, duration) in spec.EstimatedDurations)
        {
            if (graph.Find(task) is null) violations.Add(($"spec.estimated_durations[{task}]", "no task of that name"));
            else if (duration.ToTimeSpan() <= TimeSpan.Zero) violations.Add(($"spec.estimated_durations[{task}]", "must be positive"));
            else durations[task] = duration.ToTimeSpan();
        }
        decimal? Budget(Sky.Common.V1.Money? money, string field)
        {
            if (money is null) return null;
            if (!money.IsWellFormed() || money.ToDecimal() < 0) { violations.Add((field, "a non-negative amount")); return null; }
            if (money.CurrencyCode.Length > 0 && money.CurrencyCode != PlanProto.Currency) { violations.Add((field, $"in {PlanProto.Currency}")); return null; }
            return money.ToDecimal();
        }
        var objective = p.Objective switch
        {
            Objective.Time => PlacementObjective.Time,
            Objective.CostUnderDeadline => PlacementObjective.CostUnderDeadline,
            _ => PlacementObjective.Cost,
        };
        var deadline = p.Deadline?.ToTimeSpan();
        if (deadline is { } d && d <= TimeSpan.Zero) violations.Add(("spec.policy.deadline", "must be positive"));
        if (objective == PlacementObjective.CostUnderDeadline && deadline is null)
            violations.Add(("spec.policy.deadline", "required by OBJECTIVE_COST_UNDER_DEADLINE"));
        var policy = new PlanningPolicy
        {
            AllowedProviders = p.AllowedProviders.Select(x => x.ToLowerInvariant()).ToHashSet(),
            DeniedProviders = p.DeniedProviders.Select(x => x.ToLowerInvariant()).ToHashSet(),
            AllowedRegions = Locations(p.AllowedRegions, "spec.policy.allowed_regions", violations),
            DeniedRegions = Locations(p.DeniedRegions, "spec.policy.denied_regions", violations),
            MaxHourlyCost = Budget(p.MaxHourlyCost, "spec.policy.max_hourly_cost"),
            MaxJobCost = Budget(p.MaxJobCost, "spec.policy.max_job_cost"),
            Deadline = deadline,
            Objective = objective,
            Durations = durations,
        };
        if (violations.Count > 0) throw RpcErrors.InvalidArgument([.. violations]);
        return policy;
    }

    private static List<BlockedLocation> Locations(IEnumerable<Sky.Common.V1.Location> locations, string field, List<(string, string)> violations)
    {
        var result = new List<BlockedLocation>();
        var i = 0;
        foreach (var l in locations)
        {
            if (l.Provider.Length == 0) violations.Add(($"{field}[{i}].provider", "required"));
            else if (l.Region.Length == 0 && l.Zone.Length > 0) violations.Add(($"{field}[{i}].region", "required with a zone"));
            else result.Add(new BlockedLocation(l.Provider.ToLowerInvariant(), l.Region.Length == 0 ? null : l.Region, l.Zone.Length == 0 ? null : l.Zone));
            i++;
        }
        return result;
    }
}
