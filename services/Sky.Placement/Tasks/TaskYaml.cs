using System.Collections.ObjectModel;
using System.Text;
using System.Text.RegularExpressions;
using static Sky.Placement.Tasks.YamlScalars;

namespace Sky.Placement.Tasks;

/// <summary>
/// Reads SkyPilot task YAML as is into a <see cref="TaskGraph"/>. Several documents separated by `---` form a chain;
/// a `depends_on: [names]` list (a Sky.Mesh extension) forms a DAG. Fields SkyPilot accepts that Sky.Mesh does not
/// act on are kept and reported (<see cref="TaskGraph.IgnoredFields"/>); unknown fields and bad values are errors
/// with file, line and column, all of them reported at once in one <see cref="TaskYamlException"/>.
/// </summary>
public static partial class TaskYaml
{
    /// <summary>Largest task YAML accepted, in UTF-8 bytes (as JobSpec.task_yaml says).</summary>
    public const int MaxBytes = 1024 * 1024;

    public const string DefaultFileName = "task.yaml";

    // SkyPilot's task name rule (sky/task.py), in either case: alphanumeric runs joined by one or two of . _ -
    [GeneratedRegex("^[a-zA-Z0-9]+(?:[._-]{1,2}[a-zA-Z0-9]+)*$")]
    private static partial Regex ValidName();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex ValidEnvName();

    /// <summary>Parses <paramref name="yamlText"/>; <paramref name="fileName"/> names the file in error positions.</summary>
    /// <exception cref="TaskYamlException">The YAML is too large, malformed, or has unknown fields or bad values.</exception>
    public static TaskGraph Parse(string yamlText, string fileName = DefaultFileName)
    {
        ArgumentNullException.ThrowIfNull(yamlText);
        var errors = new ErrorSink(string.IsNullOrWhiteSpace(fileName) ? DefaultFileName : fileName);

        var bytes = Encoding.UTF8.GetByteCount(yamlText);
        if (bytes > MaxBytes)
        {
            errors.Add(1, 1, "", $"the task YAML is {bytes} bytes; at most {MaxBytes} (1 MiB) are accepted");
            throw errors.ToException();
        }

        var documents = YamlTreeReader.Read(yamlText, errors);
        if (documents is null) throw errors.ToException();

        // Empty documents ("---" with nothing after it) are skipped; an empty file is one task with default resources.
        var tasks = documents.Where(d => !d.IsEmpty).ToList();
        var graphName = ReadGraphName(tasks, errors);
        if (tasks.Count == 0) tasks.Add(new YamlDocument(new YamlMapping([], 1, 1), 1, 1));

        var drafts = tasks.Select((document, index) => ReadTask(document, index, errors)).ToList();
        // Dependencies are checked whenever every task has its one name, so their errors join the others.
        var namesOk = CheckUniqueNames(drafts, errors) && !drafts.Any(d => d.NameRejected);
        var links = drafts.Select(d => new TaskLink(d.Spec.Name, d.Spec.Index, d.DependsOn, d.DependsOnField)).ToList();
        var resolved = namesOk ? TaskOrder.Resolve(links, errors) : null;
        errors.ThrowIfAny();

        var (dependsOn, order) = resolved!.Value;
        var ordered = order.Select(i => drafts[i].Spec with { DependsOn = dependsOn[i] }).ToList();
        var ignored = drafts.SelectMany(d => d.Spec.Ignored).OrderBy(f => f.Line).ThenBy(f => f.Column).ToList();
        // SkyPilot names a one-task DAG after its task.
        if (graphName is null && drafts.Count == 1 && drafts[0].Named) graphName = drafts[0].Spec.Name;
        return new TaskGraph(graphName, ordered, ignored);
    }

    /// <summary>A task read from its document, before dependencies are resolved.</summary>
    private sealed record TaskDraft(TaskSpec Spec, bool Named, YamlValue? NameValue,
        IReadOnlyList<(string Name, YamlValue At)>? DependsOn, YamlValue? DependsOnField)
    {
        /// <summary>A name was given but refused (an error says why); the task goes by its fallback name.</summary>
        public bool NameRejected => !Named && NameValue is not null && !ResourceValues.IsNull(NameValue);
    }

    // As SkyPilot's chain DAGs: a first document holding only `name` names the whole pipeline.
    private static string? ReadGraphName(List<YamlDocument> documents, ErrorSink errors)
    {
        if (documents.Count < 2 || documents[0].Root is not YamlMapping { Entries: [{ Key.Text: "name" } entry] }) return null;
        documents.RemoveAt(0);
        return ReadName(entry.Value, errors);
    }

    private static string? ReadName(YamlValue value, ErrorSink errors)
    {
        var name = ResourceValues.Text(value, "name", errors, "task name");
        if (name is null || ValidName().IsMatch(name)) return name;
        errors.Add(value, "name", $"'{Shorten(name)}' is not a valid name: ASCII letters and digits, joined by at most two of '.', '_', '-'");
        return null;
    }

    private static TaskDraft ReadTask(YamlDocument document, int index, ErrorSink errors)
    {
        var fallbackName = $"task-{index}";
        if (document.Root is not YamlMapping mapping)
        {
            errors.Add(document.Root, "", $"a task must be a mapping of fields, not {document.Root.Describe()}");
            return new TaskDraft(EmptySpec(fallbackName, index, document), false, null, null, null);
        }

        var nameEntry = mapping.Entries.FirstOrDefault(e => e.Key.Text == "name");
        var givenName = nameEntry is null ? null : ReadName(nameEntry.Value, errors);
        var name = givenName ?? fallbackName;

        var ignored = new List<IgnoredField>();
        var spec = EmptySpec(name, index, document);
        YamlValue? resources = null;
        IReadOnlyList<(string, YamlValue)>? dependsOn = null;
        YamlValue? dependsOnField = null;
        foreach (var entry in mapping.Entries)
        {
            var key = entry.Key.Text;
            var value = entry.Value;
            switch (key)
            {
                case "name":
                    break;
                case "num_nodes":
                    spec = spec with { NumNodes = ResourceValues.PositiveInt(value, key, errors, "num_nodes") ?? 1 };
                    break;
                case "resources":
                    resources = value;
                    break;
                case "setup":
                    spec = spec with { Setup = Command(value, key, errors) };
                    break;
                case "run":
                    spec = spec with { Run = Command(value, key, errors) };
                    break;
                case "envs":
                    spec = spec with { Envs = Variables(value, key, errors, requireEnvNames: true) };
                    break;
                case "secrets":
                    spec = spec with { Secrets = Variables(value, key, errors, requireEnvNames: false) };
                    break;
                case "inputs":
                    spec = spec with { Inputs = Data(value, key, errors, (name, ignored)) };
                    break;
                case "outputs":
                    spec = spec with { Outputs = Data(value, key, errors) };
                    break;
                case "depends_on":
                    dependsOn = DependsOn(value, errors);
                    dependsOnField = value;
                    break;
                default:
                    if (TaskFields.Ignored.TryGetValue(key, out var reason))
                        ignored.Add(new IgnoredField(name, key, entry.Key.Line, entry.Key.Column, reason, value));
                    else if (!errors.IsFull)
                        errors.Add(entry.Key, key, TaskFields.Unknown(key, TaskFields.Acted.Concat(TaskFields.Ignored.Keys)));
                    break;
            }
        }

        var read = new ResourcesReader(name, errors, ignored).Read(resources, spec.Line, spec.Column);
        spec = spec with
        {
            Candidates = read.Candidates,
            CandidatesOrdered = read.Ordered,
            MaxHourlyCost = read.MaxHourlyCost,
            Ignored = ignored.OrderBy(f => f.Line).ThenBy(f => f.Column).ToList(),
        };
        return new TaskDraft(spec, givenName is not null, nameEntry?.Value, dependsOn, dependsOnField);
    }

    private static TaskSpec EmptySpec(string name, int index, YamlDocument document) => new()
    {
        Name = name,
        Index = index,
        Candidates = [new ResourceCandidate { Line = document.Root.Line, Column = document.Root.Column }],
        Line = document.Root.Line,
        Column = document.Root.Column,
    };

    private static bool CheckUniqueNames(List<TaskDraft> drafts, ErrorSink errors)
    {
        var unique = true;
        var first = new Dictionary<string, TaskDraft>(StringComparer.Ordinal);
        foreach (var draft in drafts)
        {
            if (first.TryAdd(draft.Spec.Name, draft)) continue;
            var earlier = first[draft.Spec.Name];
            var at = (YamlValue?)draft.NameValue ?? new YamlScalar("", YamlScalarKind.Null, draft.Spec.Line, draft.Spec.Column);
            errors.Add(at, "name", $"duplicate task name '{Shorten(draft.Spec.Name)}' (also the task at line {earlier.Spec.Line}); names must be unique within a file");
            unique = false;
        }
        return unique;
    }

    /// <summary>`setup` / `run`: the script text exactly as written; any scalar is taken as text.</summary>
    private static string? Command(YamlValue value, string path, ErrorSink errors)
    {
        if (ResourceValues.IsNull(value)) return null;
        if (value is YamlScalar scalar) return scalar.Text;
        errors.Add(value, path, $"must be a shell script (text), not {value.Describe()}");
        return null;
    }

    /// <summary>`envs` / `secrets`: name to value in file order; scalars keep their text ("0" stays "0"), null stays null.</summary>
    private static IReadOnlyDictionary<string, string?> Variables(YamlValue value, string path, ErrorSink errors, bool requireEnvNames)
    {
        var variables = new OrderedDictionary<string, string?>(StringComparer.Ordinal);
        switch (value)
        {
            case YamlScalar { IsNull: true }:
                break;
            case YamlMapping mapping:
                foreach (var entry in mapping.Entries)
                {
                    var name = entry.Key.Text;
                    var entryPath = $"{path}.{Shorten(name)}";
                    if (requireEnvNames && !ValidEnvName().IsMatch(name))
                        errors.Add(entry.Key, entryPath, $"'{Shorten(name)}' is not a valid environment variable name (letters, digits and '_', not starting with a digit)");
                    else if (entry.Value is YamlScalar scalar)
                        variables[name] = scalar.IsNull ? null : scalar.Text;
                    else
                        errors.Add(entry.Value, entryPath, $"the value must be text or null, not {entry.Value.Describe()}");
                }
                break;
            case YamlSequence sequence when !requireEnvNames:
                // SkyPilot's list form names secrets whose values come at launch.
                for (var i = 0; i < sequence.Items.Count; i++)
                {
                    if (sequence.Items[i] is YamlScalar { IsNull: false } scalar) variables[scalar.Text] = null;
                    else errors.Add(sequence.Items[i], $"{path}[{i}]", $"must be a secret name, not {sequence.Items[i].Describe()}");
                }
                break;
            default:
                errors.Add(value, path, $"must be a mapping of names to values{(requireEnvNames ? "" : " or a list of names")}, not {value.Describe()}");
                break;
        }
        return variables.Count == 0 ? TaskSpec.EmptyVariables : new ReadOnlyDictionary<string, string?>(variables);
    }

    /// <summary>
    /// `inputs` / `outputs`: {path: estimated size in GB}. SkyPilot allows one entry; several are summed. Our extension
    /// says where a bucket is, so reading it is priced per region pair: {s3://bucket/data: {size_gb: 100, infra: aws/us-east-1}}.
    /// </summary>
    private static IReadOnlyList<DataEntry> Data(YamlValue value, string path, ErrorSink errors, (string Task, List<IgnoredField> List)? unpriced = null)
    {
        if (ResourceValues.IsNull(value)) return [];
        if (value is not YamlMapping mapping)
        {
            errors.Add(value, path, $"must be a mapping of a path or URI to its size in GB (e.g. s3://bucket/data: 100), not {value.Describe()}");
            return [];
        }
        var entries = new List<DataEntry>();
        foreach (var entry in mapping.Entries)
        {
            var entryPath = $"{path}.{Shorten(entry.Key.Text)}";
            if (ResourceValues.IsNull(entry.Value))
            {
                errors.Add(entry.Key, entryPath, "needs its estimated size in GB");
                continue;
            }
            if (entry.Value is YamlMapping located)
            {
                if (Located(entry.Key, located, entryPath, errors) is { } read) entries.Add(read);
                continue;
            }
            if (ResourceValues.Number(entry.Value, entryPath, errors, "a size in GB", allowZero: true) is not { } size) continue;
            entries.Add(new DataEntry(entry.Key.Text, size, entry.Key.Line, entry.Key.Column));
            // A bucket in an unknown region: its provider alone cannot price a region pair, and a guess would be a wrong quote.
            if (unpriced is { } report && size > 0 && DataEntry.ProviderOf(entry.Key.Text) is { } provider)
                report.List.Add(new IgnoredField(report.Task, entryPath, entry.Key.Line, entry.Key.Column,
                    $"the bucket's region is not given, so reading it is not priced; write {{size_gb: {size}, infra: {provider}/REGION}}", entry.Value));
        }
        return entries;
    }

    /// <summary>{size_gb: N, infra: cloud/region}: a bucket's size and where it is.</summary>
    private static DataEntry? Located(YamlScalar key, YamlMapping value, string path, ErrorSink errors)
    {
        decimal? size = null;
        DataLocation? location = null;
        var errorsBefore = errors.Count;
        foreach (var field in value.Entries)
        {
            var fieldPath = $"{path}.{Shorten(field.Key.Text)}";
            switch (field.Key.Text)
            {
                case "size_gb":
                    size = ResourceValues.Number(field.Value, fieldPath, errors, "a size in GB", allowZero: true);
                    break;
                case "infra":
                    if (ResourceValues.Infra(field.Value, fieldPath, errors) is not { } infra) break;
                    var scheme = DataEntry.ProviderOf(key.Text);
                    if (scheme is null)
                        errors.Add(field.Value, fieldPath, "names where a cloud bucket is; the path is not an s3://, gs://, az:// or Azure blob URI");
                    else if (infra.Provider is null || infra.Region is null || infra.Zone is not null)
                        errors.Add(field.Value, fieldPath, "must be cloud/region, the bucket's region (e.g. aws/us-east-1)");
                    else if (!string.Equals(infra.Provider, scheme, StringComparison.OrdinalIgnoreCase))
                        errors.Add(field.Value, fieldPath, $"says {infra.Provider}, but {Shorten(key.Text)} is on {scheme}");
                    else
                        location = new DataLocation(scheme, infra.Region);
                    break;
                default:
                    errors.Add(field.Key, fieldPath, TaskFields.Unknown(field.Key.Text, ["size_gb", "infra"]));
                    break;
            }
        }
        if (size is null && errors.Count == errorsBefore) errors.Add(value, path, "needs size_gb, its estimated size in GB");
        return size is { } gb && errors.Count == errorsBefore ? new DataEntry(key.Text, gb, key.Line, key.Column) { Location = location } : null;
    }

    /// <summary>`depends_on`: a list of task names, or one name.</summary>
    private static IReadOnlyList<(string, YamlValue)> DependsOn(YamlValue value, ErrorSink errors)
    {
        var names = new List<(string, YamlValue)>();
        IReadOnlyList<YamlValue> items = value switch
        {
            YamlScalar { IsNull: true } => [],
            YamlSequence sequence => sequence.Items,
            _ => [value],
        };
        for (var i = 0; i < items.Count; i++)
        {
            var path = value is YamlSequence ? $"depends_on[{i}]" : "depends_on";
            if (items[i] is YamlScalar { IsNull: false, Kind: not YamlScalarKind.Bool } scalar) names.Add((scalar.Text, scalar));
            else errors.Add(items[i], path, $"must be a task name or a list of task names, not {items[i].Describe()}");
        }
        return names;
    }
}
