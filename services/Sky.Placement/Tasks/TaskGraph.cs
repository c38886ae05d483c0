namespace Sky.Placement.Tasks;

/// <summary>
/// The tasks of a task YAML in dependency order (a task comes after every task it depends on; among tasks whose
/// dependencies are met, the earlier in the file comes first), with every field that was kept but not acted on.
/// </summary>
public sealed record TaskGraph(string? Name, IReadOnlyList<TaskSpec> Tasks, IReadOnlyList<IgnoredField> IgnoredFields)
{
    /// <summary>The task named <paramref name="name"/>, or null.</summary>
    public TaskSpec? Find(string name) => Tasks.FirstOrDefault(t => t.Name == name);

    /// <summary>The task named <paramref name="name"/>; a missing one is a programming error.</summary>
    public TaskSpec this[string name] => Find(name) ?? throw new KeyNotFoundException($"No task named '{name}'.");

    /// <summary>
    /// The data <paramref name="task"/> reads that may have to move to where it runs: each parent's outputs (from wherever
    /// the parent ran; any size, zero included, since the edge also orders the two) and each input bucket whose region is
    /// given and whose size is not zero. The planner makes each an edge; the runner meters the ones that cross regions.
    /// </summary>
    public IEnumerable<DataInflow> InflowsOf(TaskSpec task)
    {
        foreach (var parent in task.DependsOn) yield return new DataInflow(parent, this[parent].OutputsGb, null);
        foreach (var input in task.Inputs)
            if (input.Location is { } at && input.SizeGb > 0) yield return new DataInflow(input.Path, input.SizeGb, at);
    }
}

/// <summary>Data a task reads (<see cref="TaskGraph.InflowsOf"/>): from a parent task (<see cref="Bucket"/> null) or a located bucket.</summary>
/// <param name="From">The parent's name, or the input's path.</param>
public readonly record struct DataInflow(string From, decimal Gb, DataLocation? Bucket);

/// <summary>One task (one YAML document).</summary>
public sealed record TaskSpec
{
    /// <summary>The YAML `name`, or "task-&lt;index&gt;" when it has none.</summary>
    public required string Name { get; init; }

    /// <summary>0-based position among the file's tasks (empty documents and a leading name-only document not counted).</summary>
    public required int Index { get; init; }

    /// <summary>`num_nodes`, default 1.</summary>
    public int NumNodes { get; init; } = 1;

    /// <summary>Ways to run a node, at least one; from `resources` with `any_of` / `ordered` applied.</summary>
    public required IReadOnlyList<ResourceCandidate> Candidates { get; init; }

    /// <summary>True for `ordered` (try the candidates in this order); false for `any_of` or one candidate (cheapest wins).</summary>
    public bool CandidatesOrdered { get; init; }

    /// <summary>`inputs`: data the task reads, with sizes in GB (10^9 bytes).</summary>
    public IReadOnlyList<DataEntry> Inputs { get; init; } = [];

    /// <summary>`outputs`: data the task writes, with sizes in GB.</summary>
    public IReadOnlyList<DataEntry> Outputs { get; init; } = [];

    public decimal InputsGb => Inputs.Sum(e => e.SizeGb);
    public decimal OutputsGb => Outputs.Sum(e => e.SizeGb);

    public string? Setup { get; init; }
    public string? Run { get; init; }

    /// <summary>`envs` in file order; a null value is one to be given at launch (as SkyPilot allows).</summary>
    public IReadOnlyDictionary<string, string?> Envs { get; init; } = EmptyVariables;

    /// <summary>`secrets` in file order, like <see cref="Envs"/>; a list of names gives null values.</summary>
    public IReadOnlyDictionary<string, string?> Secrets { get; init; } = EmptyVariables;

    /// <summary>Names of the tasks this one depends on (the previous document in a chain, or `depends_on`).</summary>
    public IReadOnlyList<string> DependsOn { get; init; } = [];

    /// <summary>`resources.max_hourly_cost` of the base resources (candidates carry their own after overrides).</summary>
    public decimal? MaxHourlyCost { get; init; }

    /// <summary>Fields of this task kept but not acted on.</summary>
    public IReadOnlyList<IgnoredField> Ignored { get; init; } = [];

    /// <summary>Where the task's document starts.</summary>
    public int Line { get; init; }
    public int Column { get; init; }

    internal static readonly IReadOnlyDictionary<string, string?> EmptyVariables =
        new System.Collections.ObjectModel.ReadOnlyDictionary<string, string?>(new OrderedDictionary<string, string?>());
}

/// <summary>
/// One `inputs` / `outputs` entry: a path or URI and its estimated size in GB, and for a cloud bucket whose region is
/// given (`{size_gb: N, infra: cloud/region}`, our extension) where it is: reading it is then priced as egress from there.
/// </summary>
public sealed record DataEntry(string Path, decimal SizeGb, int Line, int Column)
{
    /// <summary>The bucket's provider and region; null for a local path or a bucket whose region is not given.</summary>
    public DataLocation? Location { get; init; }

    /// <summary>The provider a URI's scheme names (s3 = aws, gs = gcp, az or an Azure blob URL = azure); null for a local path or another store.</summary>
    public static string? ProviderOf(string path)
    {
        if (path.StartsWith("s3://", StringComparison.OrdinalIgnoreCase)) return "aws";
        if (path.StartsWith("gs://", StringComparison.OrdinalIgnoreCase)) return "gcp";
        if (path.StartsWith("az://", StringComparison.OrdinalIgnoreCase)) return "azure";
        if (Uri.TryCreate(path, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps
            && uri.Host.EndsWith(".blob.core.windows.net", StringComparison.OrdinalIgnoreCase)) return "azure";
        return null;
    }
}

/// <summary>Where a bucket is.</summary>
public sealed record DataLocation(string Provider, string Region)
{
    public override string ToString() => $"{Provider}/{Region}";
}

/// <summary>
/// A field Sky.Mesh keeps but does not act on, with its value as written: where it is, why it is not acted on.
/// </summary>
public sealed record IgnoredField(string Task, string Field, int Line, int Column, string Reason, YamlValue Value)
{
    /// <summary>The contract's form (sky.placement.v1.IgnoredField).</summary>
    public Sky.Placement.V1.IgnoredField ToProto() =>
        new() { Task = Task, Field = Field, Line = Line, Column = Column, Reason = Reason };
}
