using System.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace Sky.Deploy.Tests;

/// <summary>A fact that runs only where kubectl (with its built-in kustomize) is installed, and says why it skipped.</summary>
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        if (Kubectl.Path is null) Skip = "kubectl is not on PATH, so the renderer cannot be compared with kustomize itself";
    }
}

public static class Kubectl
{
    public static string? Path { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => System.IO.Path.Combine(dir, "kubectl"))
        .FirstOrDefault(File.Exists);

    /// <summary>The documents <c>kubectl kustomize DIR</c> prints (no cluster is contacted).</summary>
    public static IReadOnlyList<YamlMappingNode> Kustomize(string relativeDir)
    {
        var start = new ProcessStartInfo(Path!, ["kustomize", Repo.PathOf(relativeDir)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "kubectl kustomize did not finish within a minute");
        Assert.True(process.ExitCode == 0, $"kubectl kustomize {relativeDir} failed: {stderr.Result}");
        var file = System.IO.Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, stdout.Result);
            return Yaml.LoadDocuments(file);
        }
        finally { File.Delete(file); }
    }
}

/// <summary>
/// The tests read overlays through <see cref="Kustomize"/>; where kubectl is installed, its built-in
/// kustomize renders the same folders and both outputs must be equal, resource by resource and field by field.
/// </summary>
public class KustomizeAgreementTests
{
    [KubectlFact]
    public void TheRendererAgreesWithKustomizeOnEveryOverlayAndPubSubChoice()
    {
        var folders = Overlays.Names().Select(Overlays.Dir)
            .Concat(System.IO.Directory.EnumerateDirectories(Repo.PathOf("dapr/components/pubsub")).Select(Repo.Relative))
            .Append(Overlays.Base)
            .Append("dapr")
            .ToList();
        foreach (var folder in folders)
        {
            var ours = Kustomize.Build(folder).Resources.ToDictionary(Key, r => r.Node);
            var theirs = Kubectl.Kustomize(folder).ToDictionary(d => Key(new Resource(d, "kubectl")));
            Assert.Equal(theirs.Keys.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
            foreach (var (key, node) in theirs)
            {
                var differences = new List<string>();
                Compare(node, ours[key], key, differences);
                Assert.True(differences.Count == 0, $"{folder}: the renderer differs from kustomize:\n" + string.Join("\n", differences));
            }
        }
    }

    private static string Key(Resource r) => $"{r.ApiVersion} {r.Kind} {r.Namespace}/{r.Name}";

    private static void Compare(YamlNode expected, YamlNode actual, string path, List<string> differences)
    {
        switch (expected, actual)
        {
            case (YamlMappingNode e, YamlMappingNode a):
                var keys = e.Children.Keys.Concat(a.Children.Keys).Select(k => ((YamlScalarNode)k).Value!).Distinct();
                foreach (var key in keys)
                {
                    var inE = e.Children.TryGetValue(new YamlScalarNode(key), out var ev);
                    var inA = a.Children.TryGetValue(new YamlScalarNode(key), out var av);
                    if (inE && inA) Compare(ev!, av!, $"{path}.{key}", differences);
                    else differences.Add($"{path}.{key}: {(inE ? "only kustomize has it" : "only the renderer has it")}");
                }
                break;
            case (YamlSequenceNode e, YamlSequenceNode a):
                if (e.Children.Count != a.Children.Count) differences.Add($"{path}: {e.Children.Count} items in kustomize, {a.Children.Count} in the renderer");
                else for (var i = 0; i < e.Children.Count; i++) Compare(e.Children[i], a.Children[i], $"{path}[{i}]", differences);
                break;
            case (YamlScalarNode e, YamlScalarNode a):
                if (e.Value != a.Value) differences.Add($"{path}: kustomize '{e.Value}', renderer '{a.Value}'");
                break;
            default:
                differences.Add($"{path}: kustomize has a {expected.NodeType}, the renderer a {actual.NodeType}");
                break;
        }
    }
}
