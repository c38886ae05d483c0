using YamlDotNet.RepresentationModel;

namespace Sky.Deploy.Tests;

/// <summary>One rendered resource: a manifest document as kustomize would emit it, with the file it came from.</summary>
public sealed record Resource(YamlMappingNode Node, string Source)
{
    public string ApiVersion => Node.Str("apiVersion");
    public string Kind => Node.Str("kind");
    public string Name => Node.Map("metadata").Str("name");
    public string? Namespace => Node.Map("metadata").StrOrNull("namespace");
    public YamlMappingNode Spec => Node.Map("spec");

    /// <summary>The pod template's labels of a Deployment or StatefulSet; null for other kinds.</summary>
    public IReadOnlyDictionary<string, string>? PodLabels =>
        Kind is "Deployment" or "StatefulSet" ? Spec.Map("template").Map("metadata").StringMap("labels") : null;

    public override string ToString() => $"{Kind} {Name} ({Source})";
}

/// <summary>What a kustomization renders to.</summary>
public sealed class Rendered(IReadOnlyList<Resource> resources)
{
    public IReadOnlyList<Resource> Resources => resources;

    public IEnumerable<Resource> OfKind(string kind) => resources.Where(r => r.Kind == kind);

    public Resource? Find(string kind, string name) => resources.SingleOrDefault(r => r.Kind == kind && r.Name == name);

    public Resource Get(string kind, string name) =>
        Find(kind, name) ?? throw new Xunit.Sdk.XunitException($"no {kind} named {name}; have: {string.Join(", ", resources)}");

    /// <summary>The workloads (Deployments, StatefulSets) whose pods carry every label of <paramref name="selector"/>.</summary>
    public IReadOnlyList<Resource> WorkloadsSelectedBy(IReadOnlyDictionary<string, string> selector) =>
        selector.Count == 0 ? [] : resources.Where(r => r.PodLabels is { } labels
            && selector.All(kv => labels.TryGetValue(kv.Key, out var v) && v == kv.Value)).ToList();
}

/// <summary>
/// Renders a kustomization as <c>kustomize build</c> (and <c>kubectl apply -k</c>) does, for the features this
/// repository uses: resources (files below the kustomization, and folders holding a kustomization of their own),
/// strategic-merge patches given by path, images and namespace. Any other field, or a patch construct whose kustomize
/// semantics this renderer does not model, fails the render: the tests never silently check something other than what
/// a cluster would get.
/// </summary>
public static class Kustomize
{
    private static readonly HashSet<string> KnownFields = ["apiVersion", "kind", "namespace", "resources", "patches", "images"];

    /// <summary>Lists that strategic merge patches merge item by item, matching on <c>name</c>.</summary>
    private static readonly HashSet<string> MergedByName = ["containers", "initContainers", "env", "volumes"];

    /// <summary>Lists that strategic merge patches replace whole (no merge key in the Kubernetes schema).</summary>
    private static readonly HashSet<string> Replaced = ["args", "command", "volumeClaimTemplates"];

    public static Rendered Build(string relativeDir) => new(BuildFull(Repo.PathOf(relativeDir)));

    /// <summary>A kustomization's fields, for tests that look at the file itself rather than its output.</summary>
    public static YamlMappingNode Read(string fullDir)
    {
        var file = Path.Combine(fullDir, "kustomization.yaml");
        if (!File.Exists(file)) throw new FileNotFoundException($"{Repo.Relative(fullDir)} holds no kustomization.yaml", file);
        var docs = Yaml.LoadDocuments(file);
        if (docs.Count != 1) throw new InvalidDataException($"{Repo.Relative(file)}: expected one document, found {docs.Count}");
        return docs[0];
    }

    /// <summary>The full paths of the patch files a kustomization lists.</summary>
    public static IReadOnlyList<string> PatchFiles(string fullDir) =>
        Read(fullDir).Maps("patches").Select(p => ResolveFile(fullDir, p.Str("path"), "patch")).ToList();

    private static List<Resource> BuildFull(string dir)
    {
        var k = Read(dir);
        var where = Repo.Relative(Path.Combine(dir, "kustomization.yaml"));
        foreach (var key in k.Children.Keys.Cast<YamlScalarNode>().Select(s => s.Value!))
            if (!KnownFields.Contains(key))
                throw new NotSupportedException($"{where}: field '{key}' is not modelled by the tests' renderer (Kustomize.cs); extend it");
        if (k.Str("apiVersion") != "kustomize.config.k8s.io/v1beta1" || k.Str("kind") != "Kustomization")
            throw new InvalidDataException($"{where}: not a kustomize.config.k8s.io/v1beta1 Kustomization");

        var resources = new List<Resource>();
        foreach (var entry in k.Strings("resources"))
        {
            var full = Path.GetFullPath(Path.Combine(dir, entry));
            var added = System.IO.Directory.Exists(full)
                ? BuildFull(full)
                : Yaml.LoadDocuments(ResolveFile(dir, entry, "resource")).Select(d => new Resource(d, Repo.Relative(full))).ToList();
            foreach (var resource in added)
            {
                if (resources.Any(r => r.Kind == resource.Kind && r.Name == resource.Name && r.ApiVersion == resource.ApiVersion))
                    throw new InvalidDataException($"{where}: {resource} is already listed (kustomize rejects duplicate ids)");
                resources.Add(resource);
            }
        }

        foreach (var patchEntry in k.Maps("patches"))
        {
            var fields = patchEntry.Children.Keys.Cast<YamlScalarNode>().Select(s => s.Value).ToList();
            if (fields is not ["path"])
                throw new NotSupportedException($"{where}: patches with {string.Join(", ", fields)} are not modelled (only 'path')");
            var file = ResolveFile(dir, patchEntry.Str("path"), "patch");
            var docs = Yaml.LoadDocuments(file);
            if (docs.Count != 1) throw new InvalidDataException($"{Repo.Relative(file)}: a patch file holds one document");
            var patch = new Resource(docs[0], Repo.Relative(file));
            var target = resources.SingleOrDefault(r => r.Kind == patch.Kind && r.Name == patch.Name && r.ApiVersion == patch.ApiVersion)
                ?? throw new InvalidDataException($"{patch.Source}: patches {patch.Kind} {patch.Name}, which {where} does not have");
            Merge(target.Node, patch.Node, Kinds.HasStrategicMerge(patch.ApiVersion), patch.Source);
        }

        foreach (var image in k.Maps("images")) SetImage(resources, image);

        if (k.StrOrNull("namespace") is { } ns)
            foreach (var resource in resources.Where(r => Kinds.IsNamespaced(r.Kind)))
                resource.Node.Map("metadata").Children[new YamlScalarNode("namespace")] = new YamlScalarNode(ns);
        return resources;
    }

    /// <summary>A file a kustomization names: it must exist and lie below the kustomization (kustomize refuses others).</summary>
    private static string ResolveFile(string dir, string entry, string what)
    {
        var full = Path.GetFullPath(Path.Combine(dir, entry));
        var where = Repo.Relative(Path.Combine(dir, "kustomization.yaml"));
        if (!File.Exists(full)) throw new FileNotFoundException($"{where}: {what} '{entry}' does not exist", full);
        if (!full.StartsWith(dir + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidDataException($"{where}: {what} '{entry}' is outside the kustomization's folder; kustomize only loads files below it (list a folder with its own kustomization instead)");
        return full;
    }

    private static void Merge(YamlMappingNode target, YamlMappingNode patch, bool strategic, string path)
    {
        foreach (var (keyNode, value) in patch.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value!;
            var at = $"{path}:{value.Start.Line} {key}";
            if (value is YamlScalarNode { Value: null or "" or "~" or "null" } scalar && scalar.Style == YamlDotNet.Core.ScalarStyle.Plain)
                throw new NotSupportedException($"{at}: deleting a field with null is not modelled");
            if (key.StartsWith('$')) throw new NotSupportedException($"{at}: patch directives are not modelled");
            if (!target.Children.TryGetValue(keyNode, out var existing))
            {
                target.Children[keyNode] = value;
                continue;
            }
            switch (existing, value)
            {
                case (YamlMappingNode t, YamlMappingNode p):
                    Merge(t, p, strategic, path);
                    break;
                case (YamlSequenceNode t, YamlSequenceNode p) when strategic && MergedByName.Contains(key):
                    MergeByName(t, p, path);
                    break;
                case (YamlSequenceNode, YamlSequenceNode) when !strategic || Replaced.Contains(key):
                    target.Children[keyNode] = value;
                    break;
                case (YamlSequenceNode, YamlSequenceNode):
                    throw new NotSupportedException($"{at}: how kustomize merges this list is not modelled (Kustomize.cs)");
                default:
                    target.Children[keyNode] = value;
                    break;
            }
        }
    }

    private static void MergeByName(YamlSequenceNode target, YamlSequenceNode patch, string path)
    {
        foreach (var item in patch.Children.Cast<YamlMappingNode>())
        {
            var name = item.Str("name");
            var match = target.Children.Cast<YamlMappingNode>().SingleOrDefault(t => t.StrOrNull("name") == name);
            if (match is null) target.Children.Add(item);
            else Merge(match, item, strategic: true, path);
        }
    }

    /// <summary>kustomize's images transformer: containers whose image is NAME[:tag] get the new name and tag.</summary>
    private static void SetImage(IEnumerable<Resource> resources, YamlMappingNode image)
    {
        var name = image.Str("name");
        foreach (var resource in resources.Where(r => r.PodLabels is not null))
        {
            var pod = resource.Spec.Map("template").Map("spec");
            foreach (var container in pod.Maps("containers").Concat(pod.Maps("initContainers")))
            {
                var (currentName, currentTag) = ImageRef.Split(container.Str("image"));
                if (currentName != name) continue;
                var newName = image.StrOrNull("newName") ?? currentName;
                var newTag = image.StrOrNull("newTag") ?? currentTag;
                container.Children[new YamlScalarNode("image")] = new YamlScalarNode(newTag is null ? newName : $"{newName}:{newTag}");
            }
        }
    }
}

public static class ImageRef
{
    /// <summary>Splits NAME[:TAG] (a registry port, as in host:5000/name, is part of the name).</summary>
    public static (string Name, string? Tag) Split(string image)
    {
        var slash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        return colon > slash ? (image[..colon], image[(colon + 1)..]) : (image, null);
    }
}
