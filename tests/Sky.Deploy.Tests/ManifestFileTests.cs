using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Sky.Deploy.Tests;

/// <summary>Every YAML file under dapr/ and deploy/, one by one: it parses, its kinds exist, and it writes no secret down.</summary>
public class ManifestFileTests
{
    public static IEnumerable<object[]> Files => Yaml.ManifestFiles().Select(f => new object[] { f });

    public static IEnumerable<object[]> Kustomizations =>
        Yaml.ManifestFiles().Where(f => Path.GetFileName(f) == "kustomization.yaml").Select(f => new object[] { f });

    private static readonly Regex ResourceName = new("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$");

    /// <summary>
    /// Component metadata that is a credential (redisPassword, accessKey, secretKey, sessionToken, connectionString,
    /// privateKey...): it must come from a secret, never be written in the file. tokenUri and the like are not.
    /// </summary>
    private static readonly Regex CredentialField = new("(password|secret|secretkey|accesskey|privatekey|masterkey|connectionstring|token|credentials?)$",
        RegexOptions.IgnoreCase);

    private static readonly Regex CredentialEnv = new("TOKEN|PASSWORD|SECRET|API_?KEY|_KEY$", RegexOptions.IgnoreCase);

    [Fact]
    public void TheManifestsAreThere()
    {
        var files = Yaml.ManifestFiles();
        Assert.Contains(files, f => f.StartsWith("dapr/", StringComparison.Ordinal));
        Assert.Contains("deploy/base/kustomization.yaml", files);
        Assert.Contains("dev", Overlays.Names());
        Assert.Contains("prod", Overlays.Names());
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryDocumentIsAKnownKindWithAValidName(string file)
    {
        var documents = Yaml.LoadDocuments(Repo.PathOf(file));
        Assert.NotEmpty(documents);
        foreach (var doc in documents)
        {
            var apiVersion = doc.StrOrNull("apiVersion");
            var kind = doc.StrOrNull("kind");
            Assert.True(apiVersion is not null && kind is not null, $"{file} line {doc.Start.Line}: apiVersion and kind are required");
            Assert.True(Kinds.IsKnown(apiVersion, kind),
                $"{file} line {doc.Start.Line}: {apiVersion} {kind} is not a known pair ({Kinds.Describe()})");
            if (kind == "Kustomization") continue;
            var name = doc.At("metadata")?.StrOrNull("name");
            Assert.True(name is not null && name.Length <= 253 && ResourceName.IsMatch(name),
                $"{file} line {doc.Start.Line}: {kind} needs metadata.name in lower-case DNS form, found '{name}'");
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void FieldsKubernetesReadsAsStringsAreStrings(string file)
    {
        var problems = new List<string>();
        foreach (var doc in Yaml.LoadDocuments(Repo.PathOf(file)))
        {
            var stringMaps = doc.StrOrNull("kind") is "ConfigMap" or "Secret"
                ? new[] { "labels", "annotations", "matchLabels", "data", "stringData" }
                : ["labels", "annotations", "matchLabels"];
            Walk(doc, null, stringMaps, problems);
        }
        Assert.True(problems.Count == 0, $"{file}: quote these, Kubernetes would not read them as strings:\n" + string.Join("\n", problems));
    }

    private static void Walk(YamlNode node, string? key, string[] stringMaps, List<string> problems)
    {
        void Check(YamlNode value, string what)
        {
            if (value is not YamlScalarNode scalar || !scalar.IsString())
                problems.Add($"line {value.Start.Line}: {what} = {value}");
        }

        switch (node)
        {
            case YamlMappingNode mapping when key is not null && stringMaps.Contains(key):
                foreach (var (k, v) in mapping.Children) Check(v, $"{key}.{k}");
                break;
            case YamlMappingNode mapping:
                foreach (var (k, v) in mapping.Children) Walk(v, (k as YamlScalarNode)?.Value, stringMaps, problems);
                break;
            case YamlSequenceNode sequence when key is "args" or "command":
                foreach (var item in sequence.Children) Check(item, key);
                break;
            case YamlSequenceNode sequence when key is "env":
                foreach (var item in sequence.Children.OfType<YamlMappingNode>())
                {
                    if (item.Children.TryGetValue(new YamlScalarNode("value"), out var value)) Check(value, $"env {item.StrOrNull("name")}");
                    Walk(item, null, stringMaps, problems);
                }
                break;
            case YamlSequenceNode sequence:
                foreach (var item in sequence.Children) Walk(item, null, stringMaps, problems);
                break;
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void NoCredentialIsWrittenDown(string file)
    {
        foreach (var doc in Yaml.LoadDocuments(Repo.PathOf(file)))
        {
            var kind = doc.StrOrNull("kind");
            Assert.False(kind == "Secret" && (doc.Has("data") || doc.Has("stringData")),
                $"{file}: a Secret with its data is a credential in the repository; create it with kubectl (deploy/README.md)");

            if (kind == "Component")
            {
                foreach (var item in doc.At("spec")?.Maps("metadata") ?? [])
                {
                    var name = item.Str("name");
                    if (!CredentialField.IsMatch(name)) continue;
                    Assert.False(item.Has("value"), $"{file}: component metadata '{name}' is a credential written as a value; use secretKeyRef");
                    Assert.True(item.At("secretKeyRef")?.StrOrNull("name") is { Length: > 0 } && item.At("secretKeyRef")?.StrOrNull("key") is { Length: > 0 },
                        $"{file}: component metadata '{name}' needs secretKeyRef with name and key");
                }
            }

            foreach (var container in Containers(doc))
            {
                foreach (var env in container.Maps("env").Where(e => CredentialEnv.IsMatch(e.Str("name"))))
                {
                    Assert.False(env.Has("value"), $"{file}: env {env.Str("name")} is a credential written as a value");
                    Assert.NotNull(env.At("valueFrom", "secretKeyRef"));
                }
                var args = container.Strings("args");
                Assert.DoesNotContain("--operator-token", args);
                Assert.DoesNotContain(args, a => Regex.IsMatch(a, @"redis://[^/@]*:[^/@]+@"));
            }
        }
    }

    /// <summary>The containers of a workload document, or of a patch of one.</summary>
    private static IEnumerable<YamlMappingNode> Containers(YamlMappingNode doc) =>
        doc.At("spec", "template", "spec") is { } pod ? pod.Maps("containers").Concat(pod.Maps("initContainers")) : [];

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void KustomizationListsOnlyWhatExists(string file)
    {
        var dir = Path.GetDirectoryName(Repo.PathOf(file))!;
        var k = Kustomize.Read(dir);
        Assert.Equal("kustomize.config.k8s.io/v1beta1", k.Str("apiVersion"));
        var resources = k.Strings("resources");
        Assert.NotEmpty(resources);
        foreach (var entry in resources)
        {
            var full = Path.GetFullPath(Path.Combine(dir, entry));
            if (System.IO.Directory.Exists(full))
                Assert.True(File.Exists(Path.Combine(full, "kustomization.yaml")), $"{file}: resource folder '{entry}' holds no kustomization.yaml");
            else
            {
                Assert.True(File.Exists(full), $"{file}: resource '{entry}' does not exist");
                Assert.True(full.StartsWith(dir + Path.DirectorySeparatorChar, StringComparison.Ordinal),
                    $"{file}: resource file '{entry}' is outside the kustomization's folder, which kustomize refuses to load");
            }
        }
        foreach (var patch in Kustomize.PatchFiles(dir)) Assert.True(File.Exists(patch));
    }

    [Fact]
    public void EveryManifestIsUsedByAKustomization()
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var kustomization in Yaml.ManifestFiles().Where(f => Path.GetFileName(f) == "kustomization.yaml"))
        {
            var dir = Path.GetDirectoryName(Repo.PathOf(kustomization))!;
            foreach (var entry in Kustomize.Read(dir).Strings("resources")) used.Add(Repo.Relative(Path.GetFullPath(Path.Combine(dir, entry))));
            foreach (var patch in Kustomize.PatchFiles(dir)) used.Add(Repo.Relative(patch));
        }
        var unused = Yaml.ManifestFiles().Where(f => Path.GetFileName(f) != "kustomization.yaml" && !used.Contains(f)).ToList();
        Assert.True(unused.Count == 0, "listed by no kustomization, so never applied: " + string.Join(", ", unused));
    }

    [Fact]
    public void EverySecretTheManifestsReadIsCreatedInTheReadme()
    {
        var readme = Repo.ReadText("deploy/README.md");
        var refs = Yaml.ManifestFiles()
            .SelectMany(f => Yaml.LoadDocuments(Repo.PathOf(f)))
            .SelectMany(doc => doc.AllNodes.OfType<YamlMappingNode>())
            .Select(m => m.MapOrNull("secretKeyRef"))
            .OfType<YamlMappingNode>()
            .Select(r => (Name: r.Str("name"), Key: r.Str("key")))
            .Distinct()
            .ToList();
        Assert.Contains(refs, r => r.Name == "sky-operator");
        foreach (var (name, key) in refs)
        {
            Assert.True(readme.Contains($"secret generic {name} ", StringComparison.Ordinal),
                $"deploy/README.md does not say how to create the secret {name}");
            Assert.True(Regex.IsMatch(readme, $@"secret generic {Regex.Escape(name)} [^\n]*--from-(literal|file)={Regex.Escape(key)}="),
                $"deploy/README.md does not create key {key} of the secret {name}");
        }
    }
}
