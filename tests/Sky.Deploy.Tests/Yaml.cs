using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sky.Deploy.Tests;

/// <summary>Reads manifest files: every document of a file, each a mapping, with its file and line kept for messages.</summary>
public static class Yaml
{
    /// <summary>Every .yaml/.yml file under dapr/ and deploy/, as '/'-separated paths relative to the checkout.</summary>
    public static IReadOnlyList<string> ManifestFiles() =>
        new[] { "dapr", "deploy" }
            .Select(Repo.PathOf)
            .Where(System.IO.Directory.Exists)
            .SelectMany(dir => System.IO.Directory.EnumerateFiles(dir, "*.*", SearchOption.AllDirectories))
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Select(Repo.Relative)
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The documents of a file (multi-document files too); documents that hold nothing are left out.</summary>
    public static IReadOnlyList<YamlMappingNode> LoadDocuments(string fullPath)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(fullPath))
        {
            try { stream.Load(reader); }
            catch (YamlException ex) { throw new InvalidDataException($"{Repo.Relative(fullPath)}: {ex.Message}", ex); }
        }
        var documents = new List<YamlMappingNode>();
        foreach (var document in stream.Documents)
        {
            switch (document.RootNode)
            {
                case YamlMappingNode mapping:
                    documents.Add(mapping);
                    break;
                case YamlScalarNode { Value: null or "" }:
                    break;
                default:
                    throw new InvalidDataException(
                        $"{Repo.Relative(fullPath)} line {document.RootNode.Start.Line}: a manifest document must be a mapping");
            }
        }
        return documents;
    }

    public static YamlMappingNode? MapOrNull(this YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value as YamlMappingNode
            ?? throw new InvalidDataException($"line {value.Start.Line}: '{key}' is not a mapping") : null;

    public static YamlMappingNode Map(this YamlMappingNode node, string key) =>
        node.MapOrNull(key) ?? throw new InvalidDataException($"line {node.Start.Line}: '{key}' is missing");

    /// <summary>Follows a path of mapping keys; null when any is absent.</summary>
    public static YamlMappingNode? At(this YamlMappingNode node, params string[] keys)
    {
        YamlMappingNode? current = node;
        foreach (var key in keys) current = current?.MapOrNull(key);
        return current;
    }

    public static string? StrOrNull(this YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value is YamlScalarNode scalar ? scalar.Value
            : throw new InvalidDataException($"line {value.Start.Line}: '{key}' is not a scalar") : null;

    public static string Str(this YamlMappingNode node, string key) =>
        node.StrOrNull(key) ?? throw new InvalidDataException($"line {node.Start.Line}: '{key}' is missing");

    public static int Int(this YamlMappingNode node, string key) =>
        int.TryParse(node.Str(key), out var value) ? value
            : throw new InvalidDataException($"line {node.Start.Line}: '{key}' is not an integer");

    public static YamlSequenceNode? SeqOrNull(this YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value as YamlSequenceNode
            ?? throw new InvalidDataException($"line {value.Start.Line}: '{key}' is not a sequence") : null;

    /// <summary>The mappings of a sequence (containers, env, ports...); none when the key is absent.</summary>
    public static IEnumerable<YamlMappingNode> Maps(this YamlMappingNode node, string key) =>
        node.SeqOrNull(key)?.Children.Select(child => child as YamlMappingNode
            ?? throw new InvalidDataException($"line {child.Start.Line}: an item of '{key}' is not a mapping")) ?? [];

    /// <summary>The scalars of a sequence (args, scopes...); none when the key is absent.</summary>
    public static IReadOnlyList<string> Strings(this YamlMappingNode node, string key) =>
        node.SeqOrNull(key)?.Children.Select(child => (child as YamlScalarNode)?.Value
            ?? throw new InvalidDataException($"line {child.Start.Line}: an item of '{key}' is not a scalar")).ToList() ?? [];

    /// <summary>A mapping of scalars (labels, annotations, ConfigMap data) as a dictionary; empty when absent.</summary>
    public static IReadOnlyDictionary<string, string> StringMap(this YamlMappingNode node, string key)
    {
        var map = node.MapOrNull(key);
        if (map is null) return new Dictionary<string, string>();
        return map.Children.ToDictionary(
            kv => ((YamlScalarNode)kv.Key).Value!,
            kv => (kv.Value as YamlScalarNode)?.Value ?? throw new InvalidDataException($"line {kv.Value.Start.Line}: not a scalar"));
    }

    public static bool Has(this YamlMappingNode node, string key) => node.Children.ContainsKey(new YamlScalarNode(key));

    /// <summary>
    /// True when a scalar is read as a string by Kubernetes' YAML reader (YAML 1.1 rules: plain <c>yes</c>, <c>on</c>,
    /// <c>7101</c>, <c>1.0</c> or <c>null</c> are not strings). Labels, annotations, env values and args must be strings.
    /// </summary>
    public static bool IsString(this YamlScalarNode scalar) =>
        scalar.Style is not ScalarStyle.Plain and not ScalarStyle.Any || !NonStringPlain.IsMatch(scalar.Value ?? "");

    private static readonly Regex NonStringPlain = new(
        @"^(?:~|null|Null|NULL|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|" +
        @"[-+]?(?:0|[1-9][0-9_]*)|0[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+|[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?|" +
        @"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|)$",
        RegexOptions.CultureInvariant);
}
