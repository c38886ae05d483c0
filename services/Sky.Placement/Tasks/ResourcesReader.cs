using static Sky.Placement.Tasks.YamlScalars;
namespace Sky.Placement.Tasks;

/// <summary>The candidates of one task's `resources`, and the base `max_hourly_cost`.</summary>
internal sealed record TaskResources(IReadOnlyList<ResourceCandidate> Candidates, bool Ordered, decimal? MaxHourlyCost);

/// <summary>
/// Reads a task's `resources` as SkyPilot does (Resources.from_yaml_config): the fields outside `any_of` /
/// `ordered` are defaults, each entry overrides them key by key (a null value unsets a default), and each merged
/// entry is one candidate. `gpus` is SkyPilot's alias of `accelerators`.
/// </summary>
internal sealed class ResourcesReader(string task, ErrorSink errors, List<IgnoredField> ignored)
{
    private const string Root = "resources";

    /// <summary>A field kept for merging: its entry (with positions) and its dotted path.</summary>
    private sealed record Field(YamlEntry Entry, string Path)
    {
        public YamlValue Value => Entry.Value;
    }

    public TaskResources Read(YamlValue? resources, int taskLine, int taskColumn)
    {
        if (resources is null || ResourceValues.IsNull(resources))
            return new TaskResources([new ResourceCandidate { Line = taskLine, Column = taskColumn }], false, null);
        if (resources is not YamlMapping mapping)
        {
            errors.Add(resources, Root, $"must be a mapping of resource fields, not {resources.Describe()}");
            return new TaskResources([new ResourceCandidate { Line = resources.Line, Column = resources.Column }], false, null);
        }

        var defaults = ReadFields(mapping, Root, candidateEntry: false);
        defaults.Remove("any_of", out var anyOf);
        defaults.Remove("ordered", out var ordered);
        if (anyOf is not null && ordered is not null)
            errors.Add(ordered.Entry.Key, ordered.Path, "'any_of' and 'ordered' cannot both be given");
        var list = anyOf ?? ordered;
        CheckAcceleratorsWithList(defaults, anyOf, ordered);

        var maxHourlyCost = defaults.TryGetValue("max_hourly_cost", out var cost)
            ? ResourceValues.Number(cost.Value, cost.Path, errors, "max_hourly_cost", allowZero: false)
            : null;

        var entries = list is null ? [] : ReadEntries(list);
        if (entries.Count == 0)
            return new TaskResources([Build(defaults, mapping.Line, mapping.Column)], false, maxHourlyCost);

        var candidates = entries.Select(entry =>
        {
            var merged = new Dictionary<string, Field>(defaults, StringComparer.Ordinal);
            foreach (var (key, field) in entry.Fields) merged[key] = field;
            return Build(merged, entry.Mapping.Line, entry.Mapping.Column);
        }).ToList();
        return new TaskResources(candidates, Ordered: list == ordered, maxHourlyCost);
    }

    private List<(YamlMapping Mapping, Dictionary<string, Field> Fields)> ReadEntries(Field list)
    {
        var entries = new List<(YamlMapping, Dictionary<string, Field>)>();
        var name = list.Entry.Key.Text;
        if (ResourceValues.IsNull(list.Value)) return entries;
        if (list.Value is not YamlSequence sequence)
        {
            errors.Add(list.Value, list.Path, $"'{name}' must be a list of resource mappings, not {list.Value.Describe()}");
            return entries;
        }
        for (var i = 0; i < sequence.Items.Count; i++)
        {
            var path = $"{list.Path}[{i}]";
            var item = sequence.Items[i];
            if (item is YamlMapping mapping)
                entries.Add((mapping, ReadFields(mapping, path, candidateEntry: true)));
            else if (ResourceValues.IsNull(item))
                entries.Add((new YamlMapping([], item.Line, item.Column), [])); // "- " alone: the defaults as they are
            else
                errors.Add(item, path, $"an entry of '{name}' must be a mapping of resource fields, not {item.Describe()}");
        }
        return entries;
    }

    // SkyPilot refuses several accelerators with `ordered`, and a preference list of them with `any_of`.
    private void CheckAcceleratorsWithList(Dictionary<string, Field> defaults, Field? anyOf, Field? ordered)
    {
        if (!defaults.TryGetValue("accelerators", out var accelerators)) return;
        var choice = ResourceValues.Accelerators(accelerators.Value, accelerators.Path, errors);
        if (choice is null || choice.Items.Count < 2) return;
        if (ordered is not null && ordered.Value is YamlSequence { Items.Count: > 0 })
            errors.Add(accelerators.Value, accelerators.Path, "several accelerators cannot be combined with 'ordered'; list them in the 'ordered' entries instead");
        else if (anyOf is not null && anyOf.Value is YamlSequence { Items.Count: > 0 } && choice.Ordered)
            errors.Add(accelerators.Value, accelerators.Path, "an ordered list of accelerators cannot be combined with 'any_of'; use a set such as {A100:8, H100:8}");
    }

    /// <summary>The acted-on fields of one mapping by name; ignored ones are reported, unknown ones are errors.</summary>
    private Dictionary<string, Field> ReadFields(YamlMapping mapping, string path, bool candidateEntry)
    {
        var fields = new Dictionary<string, Field>(StringComparer.Ordinal);
        foreach (var entry in mapping.Entries)
        {
            var key = entry.Key.Text;
            var fieldPath = $"{path}.{Shorten(key)}";
            if (TaskFields.ResourceIgnored.TryGetValue(key, out var reason))
            {
                ignored.Add(new IgnoredField(task, fieldPath, entry.Key.Line, entry.Key.Column, reason, entry.Value));
                continue;
            }
            if (!TaskFields.ResourceActed.Contains(key))
            {
                if (!errors.IsFull)
                    errors.Add(entry.Key, fieldPath, TaskFields.Unknown(key, TaskFields.ResourceActed.Concat(TaskFields.ResourceIgnored.Keys)));
                continue;
            }
            if (candidateEntry && key is "any_of" or "ordered")
            {
                errors.Add(entry.Key, fieldPath, $"'{key}' cannot be nested inside an 'any_of' or 'ordered' entry");
                continue;
            }
            var name = key == "gpus" ? "accelerators" : key;
            if (fields.ContainsKey(name))
            {
                errors.Add(entry.Key, fieldPath, "'gpus' and 'accelerators' are the same field; give only one");
                continue;
            }
            fields[name] = new Field(entry, fieldPath);
        }
        return fields;
    }

    private ResourceCandidate Build(Dictionary<string, Field> fields, int line, int column)
    {
        YamlValue? Value(string name) => fields.TryGetValue(name, out var field) ? field.Value : null;
        string PathOf(string name) => fields[name].Path;

        var candidate = new ResourceCandidate { Line = line, Column = column };
        var infra = Value("infra");
        var legacy = new[] { "cloud", "region", "zone" }.Where(n => Value(n) is { } v && !ResourceValues.IsNull(v)).ToList();
        if (infra is not null && !ResourceValues.IsNull(infra))
        {
            if (legacy.Count > 0)
                errors.Add(infra, PathOf("infra"), $"'infra' cannot be combined with {string.Join(", ", legacy.Select(n => $"'{n}'"))}; put everything in infra");
            else if (ResourceValues.Infra(infra, PathOf("infra"), errors) is { } location)
                candidate = candidate with { Provider = location.Provider, Region = location.Region, Zone = location.Zone };
        }
        else
        {
            candidate = candidate with
            {
                Provider = Value("cloud") is { } cloud ? ResourceValues.Cloud(cloud, PathOf("cloud"), errors) : null,
                Region = Value("region") is { } region ? ResourceValues.Text(region, PathOf("region"), errors, "region") : null,
                Zone = Value("zone") is { } zone ? ResourceValues.Text(zone, PathOf("zone"), errors, "zone") : null,
            };
        }

        var accelerators = Value("accelerators") is { } a ? ResourceValues.Accelerators(a, PathOf("accelerators"), errors) : null;
        return candidate with
        {
            Cpus = Value("cpus") is { } cpus ? ResourceValues.Cpus(cpus, PathOf("cpus"), errors) : null,
            MemoryGib = Value("memory") is { } memory ? ResourceValues.Memory(memory, PathOf("memory"), errors) : null,
            Accelerators = accelerators?.Items ?? [],
            AcceleratorsOrdered = accelerators is { Ordered: true, Items.Count: > 1 },
            InstanceType = Value("instance_type") is { } type ? ResourceValues.Text(type, PathOf("instance_type"), errors, "instance type") : null,
            UseSpot = Value("use_spot") is { } spot && ResourceValues.Bool(spot, PathOf("use_spot"), errors) == true,
            DiskSizeGib = Value("disk_size") is { } disk ? ResourceValues.DiskSize(disk, PathOf("disk_size"), errors) : null,
            MaxHourlyCost = Value("max_hourly_cost") is { } max
                ? ResourceValues.Number(max, PathOf("max_hourly_cost"), errors, "max_hourly_cost", allowZero: false)
                : null,
        };
    }
}
