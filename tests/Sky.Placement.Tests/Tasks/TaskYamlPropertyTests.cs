using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sky.Placement.Tasks;

namespace Sky.Placement.Tests.Tasks;

/// <summary>
/// Whatever the input, parsing ends quickly with a graph or a <see cref="TaskYamlException"/> whose errors point
/// inside the text; and generated valid tasks read back as generated.
/// </summary>
public sealed class TaskYamlPropertyTests
{
    // Generous for a 2-core CI machine; a parse of these inputs takes well under a millisecond.
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    private const string Sample = """
        name: train
        resources:
          infra: aws/us-east-1
          cpus: 8+
          memory: 32+
          accelerators: {A100:8, H100:8}
          any_of:
            - use_spot: true
            - use_spot: false
        envs:
          A: 1
        file_mounts:
          /data: s3://bucket
        run: |
          python train.py
        ---
        name: eval
        depends_on: [train]
        inputs: {s3://bucket/model: 10}
        run: echo done
        """;

    /// <summary>True when parsing ends in time with a graph or a TaskYamlException positioned inside the text.</summary>
    private static bool ParsesOrFailsCleanly(string text)
    {
        var parse = Task.Run(() =>
        {
            try
            {
                var graph = TaskYaml.Parse(text);
                return graph.Tasks.Count > 0 && graph.Tasks.All(t => t.Candidates.Count > 0);
            }
            catch (TaskYamlException e)
            {
                // YAML breaks lines at \n, \r, \r\n, NEL, LS and PS; counting each of them bounds the line count.
                var lines = text.Count(c => c is '\n' or '\r' or '\u0085' or '\u2028' or '\u2029') + 2;
                return e.Errors.Count > 0 && e.Errors.All(x => x.Line >= 1 && x.Line <= lines && x.Column >= 1 && x.Message.Length > 0);
            }
        });
        Assert.True(parse.Wait(Limit), $"parsing did not end within {Limit}: {text}");
        return parse.Result;
    }

    [Property(MaxTest = 1000)]
    public bool Random_text_parses_or_fails_with_task_yaml_errors(NonNull<string> text) => ParsesOrFailsCleanly(text.Get);

    [Property(MaxTest = 500)]
    public bool Random_bytes_read_as_utf8_parse_or_fail_with_task_yaml_errors(byte[] bytes) =>
        ParsesOrFailsCleanly(Encoding.UTF8.GetString(bytes));

    [Property(MaxTest = 3000, Arbitrary = [typeof(YamlishGenerators)])]
    public bool Yaml_like_text_parses_or_fails_with_task_yaml_errors(Yamlish input) => ParsesOrFailsCleanly(input.Text);

    [Property(MaxTest = 2000, Arbitrary = [typeof(YamlishGenerators)])]
    public bool A_real_task_file_with_random_edits_parses_or_fails_with_task_yaml_errors(Edit edit)
    {
        var at = Math.Min(edit.Position, Sample.Length);
        var cut = Math.Min(edit.Delete, Sample.Length - at);
        return ParsesOrFailsCleanly(Sample.Remove(at, cut).Insert(at, edit.Insert));
    }

    [Property(MaxTest = 500, Arbitrary = [typeof(YamlishGenerators)])]
    public bool Generated_valid_resources_read_back_as_generated(ValidResources input)
    {
        var candidate = Assert.Single(Assert.Single(TaskYaml.Parse(input.Text).Tasks).Candidates);
        return candidate.Cpus == input.Cpus
               && candidate.MemoryGib == input.Memory
               && candidate.Accelerators.SequenceEqual(input.Accelerators)
               && candidate.AcceleratorsOrdered == (input.AcceleratorsAsList && input.Accelerators.Count > 1)
               && candidate.UseSpot == input.UseSpot
               && candidate.Provider == input.Provider;
    }

    [Fact]
    public void Known_inputs_that_crash_yamldotnets_scanner_are_syntax_errors()
    {
        foreach (var text in new[] { "...\n{\n:  - ", "!!int...[  - {\u0007\u00e9  - :@%TAG !e! tag:y:\n", "a: [1\nb: c" })
        {
            var error = Assert.Single(Assert.Throws<TaskYamlException>(() => TaskYaml.Parse(text)).Errors);
            Assert.StartsWith("YAML syntax:", error.Message);
        }
    }
}

/// <summary>Text built from YAML tokens, field names and values, so random input often comes close to a task.</summary>
public sealed record Yamlish(string Text)
{
    public override string ToString() => System.Text.Json.JsonSerializer.Serialize(Text);
}

/// <summary>Delete <see cref="Delete"/> characters at <see cref="Position"/> of a real task file and insert <see cref="Insert"/>.</summary>
public sealed record Edit(int Position, int Delete, string Insert)
{
    public override string ToString() => $"at {Position} delete {Delete} insert {System.Text.Json.JsonSerializer.Serialize(Insert)}";
}

/// <summary>A valid `resources` block and what it declares.</summary>
public sealed record ValidResources(
    string Text, QuantityBound? Cpus, MemoryBound? Memory, IReadOnlyList<AcceleratorRequest> Accelerators,
    bool AcceleratorsAsList, bool UseSpot, string? Provider)
{
    public override string ToString() => Text;
}

public static class YamlishGenerators
{
    private static readonly string[] Pieces =
    [
        "name", "resources", "run", "setup", "envs", "num_nodes", "depends_on", "any_of", "ordered", "infra", "cpus",
        "memory", "accelerators", "use_spot", "disk_size", "file_mounts", "inputs", ":", ": ", "\n", "\n  ", "\n    ",
        "- ", "[", "]", "{", "}", ", ", "---\n", "...", "&a ", "*a", "<<: ", "!!str ", "!x ", "'", "\"", "#", "|\n",
        ">", "?", "8", "8+", "4x", "A100:8", "aws/us-east-1", "k8s/ctx", "*", "true", "null", "~", "-1", "0.5", "1e3",
        "\t", "\r\n", "%YAML 1.1\n", "\u00e9", "\u0000", "\\", "@", "`",
    ];

    public static Arbitrary<Yamlish> Yamlishes() =>
        Gen.Elements(Pieces).ListOf().Select(p => new Yamlish(string.Concat(p))).ToArbitrary();

    public static Arbitrary<Edit> Edits() =>
        (from position in Gen.Choose(0, 600)
         from delete in Gen.Choose(0, 20)
         from insert in Gen.Elements(Pieces).ListOf().Select(string.Concat)
         select new Edit(position, delete, insert)).ToArbitrary();

    public static Arbitrary<ValidResources> ValidResourcesBlocks()
    {
        var cpus = Gen.OneOf(
            Gen.Constant<QuantityBound?>(null),
            from n in Gen.Choose(1, 192) from more in Gen.Elements(true, false) select (QuantityBound?)new QuantityBound(n, more));
        var memory = Gen.OneOf(
            Gen.Constant<MemoryBound?>(null),
            from n in Gen.Choose(1, 2048) from more in Gen.Elements(true, false) from perVcpu in Gen.Elements(true, false)
            select (MemoryBound?)new MemoryBound(perVcpu ? n % 16 + 1 : n, more, perVcpu));
        var accelerator =
            from name in Gen.Elements("A100", "H100", "L4", "T4", "A10g", "tpu-v4-8", "A100-80GB")
            from count in Gen.Choose(1, 16)
            select new AcceleratorRequest(name, count);
        var accelerators = accelerator.ListOf().Select(l => (IReadOnlyList<AcceleratorRequest>)l.DistinctBy(a => (a.Key, a.Count)).ToList());
        return (from c in cpus
                from m in memory
                from a in accelerators
                from asList in Gen.Elements(true, false)
                from spot in Gen.Elements(true, false)
                from provider in Gen.Elements<string?>(null, "aws", "gcp", "azure", "lambda", "kubernetes")
                select Build(c, m, a, asList, spot, provider)).ToArbitrary();
    }

    private static ValidResources Build(QuantityBound? cpus, MemoryBound? memory, IReadOnlyList<AcceleratorRequest> accelerators,
        bool asList, bool spot, string? provider)
    {
        var text = new StringBuilder("resources:\n");
        if (provider is not null) text.Append("  infra: ").Append(provider == "kubernetes" ? "k8s" : provider.ToUpperInvariant()).Append('\n');
        if (cpus is not null) text.Append("  cpus: ").Append(cpus).Append('\n');
        if (memory is not null) text.Append("  memory: ").Append(memory).Append('\n');
        if (accelerators.Count > 0)
        {
            var items = string.Join(", ", accelerators.Select(a => $"{a.Name}:{a.Count}"));
            text.Append("  accelerators: ").Append(asList ? $"[{items}]" : $"{{{items}}}").Append('\n');
        }
        text.Append("  use_spot: ").Append(spot ? "true" : "false").Append('\n');
        return new ValidResources(text.ToString(), cpus, memory, accelerators, asList, spot, provider);
    }
}
