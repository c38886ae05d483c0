using System.Collections.Concurrent;
using Sky.Hosting.Options;

namespace Sky.Deploy.Tests;

/// <summary>The overlays under deploy/overlays (found, not listed, so a new one is checked too) and their renders.</summary>
public static class Overlays
{
    public const string Base = "deploy/base";
    public const string Namespace = "sky";

    private static readonly ConcurrentDictionary<string, Lazy<Rendered>> Cache = new();

    public static IReadOnlyList<string> Names()
    {
        var root = Repo.PathOf("deploy/overlays");
        return System.IO.Directory.Exists(root)
            ? System.IO.Directory.EnumerateDirectories(root)
                .Where(d => File.Exists(Path.Combine(d, "kustomization.yaml")))
                .Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList()
            : [];
    }

    public static string Dir(string overlay) => "deploy/overlays/" + overlay;

    /// <summary>The overlay as kustomize renders it; shared between tests, which only read it.</summary>
    public static Rendered Render(string overlay) =>
        Cache.GetOrAdd(Dir(overlay), dir => new Lazy<Rendered>(() => Kustomize.Build(dir))).Value;

    public static IEnumerable<object[]> Each => Names().Select(n => new object[] { n });

    public static IEnumerable<object[]> EachWithService =>
        from overlay in Names() from service in MeshService.All select new object[] { overlay, service.Name };
}
