using Sky.Hosting.Events;
using Sky.Hosting.Options;

namespace Sky.Deploy.Tests;

/// <summary>Each overlay as a whole: what it patches, what it adds, and whether every selector and reference lands.</summary>
public class OverlayTests
{
    public static IEnumerable<object[]> Each => Overlays.Each;

    /// <summary>The pub/sub types the mesh supports, one chosen per environment.</summary>
    public static readonly string[] PubSubTypes =
        ["pubsub.redis", "pubsub.aws.snssqs", "pubsub.azure.servicebus.topics", "pubsub.gcp.pubsub"];

    [Theory]
    [MemberData(nameof(Each))]
    public void RendersEverythingIntoTheMeshNamespace(string overlay)
    {
        var mesh = Overlays.Render(overlay);
        Assert.NotEmpty(mesh.Resources);
        foreach (var resource in mesh.Resources.Where(r => Kinds.IsNamespaced(r.Kind)))
            Assert.True(resource.Namespace == Overlays.Namespace, $"{overlay}: {resource} is in namespace '{resource.Namespace}'");
    }

    [Theory]
    [MemberData(nameof(Each))]
    public void PatchesOnlyResourcesOfTheBase(string overlay)
    {
        var baseResources = Kustomize.Build(Overlays.Base);
        var patches = Kustomize.PatchFiles(Repo.PathOf(Overlays.Dir(overlay)));
        foreach (var file in patches)
        {
            var patch = new Resource(Assert.Single(Yaml.LoadDocuments(file)), Repo.Relative(file));
            Assert.True(baseResources.Resources.Any(r => r.ApiVersion == patch.ApiVersion && r.Kind == patch.Kind && r.Name == patch.Name),
                $"{patch.Source} patches {patch.ApiVersion} {patch.Kind} {patch.Name}, which deploy/base does not have");
        }
    }

    [Theory]
    [MemberData(nameof(Each))]
    public void HasOnePubSubAndTheSharedDaprResources(string overlay)
    {
        var mesh = Overlays.Render(overlay);
        var components = mesh.OfKind("Component").ToList();
        var pubsub = Assert.Single(components, c => c.Name == DaprNames.PubSub);
        Assert.Contains(pubsub.Spec.Str("type"), PubSubTypes);
        Assert.Single(components, c => c.Spec.Str("type").StartsWith("pubsub.", StringComparison.Ordinal));
        Assert.Equal("state.redis", mesh.Get("Component", DaprNames.StateStore).Spec.Str("type"));
        mesh.Get("Configuration", DaprNames.Configuration);
        mesh.Get("Resiliency", DaprNames.Resiliency);
    }

    [Theory]
    [MemberData(nameof(Each))]
    public void EveryServiceReachesPodsOnTheirPorts(string overlay)
    {
        var mesh = Overlays.Render(overlay);
        foreach (var service in mesh.OfKind("Service"))
            foreach (var port in service.Spec.Maps("ports"))
                Workloads.AssertServiceReaches(mesh, service.Name, port.Int("port"));
    }

    [Theory]
    [MemberData(nameof(Each))]
    public void AutoscalersTargetDeploymentsThatExist(string overlay)
    {
        var mesh = Overlays.Render(overlay);
        foreach (var hpa in mesh.OfKind("HorizontalPodAutoscaler"))
        {
            var target = hpa.Spec.Map("scaleTargetRef");
            Assert.Equal("apps/v1", target.Str("apiVersion"));
            var deployment = mesh.Get(target.Str("kind"), target.Str("name"));
            var (min, max) = (hpa.Spec.Int("minReplicas"), hpa.Spec.Int("maxReplicas"));
            Assert.True(min >= 1 && max > min, $"{hpa}: minReplicas {min}, maxReplicas {max}");
            Assert.False(deployment.Spec.Has("replicas"),
                $"{overlay}: {deployment} sets replicas while {hpa} owns the count; every apply would reset the autoscaler's choice");
            Assert.NotEmpty(hpa.Spec.Maps("metrics"));
        }
    }

    [Theory]
    [MemberData(nameof(Each))]
    public void DisruptionBudgetsAndNetworkPoliciesSelectPodsThatExist(string overlay)
    {
        var mesh = Overlays.Render(overlay);
        foreach (var pdb in mesh.OfKind("PodDisruptionBudget"))
        {
            Assert.NotEmpty(mesh.WorkloadsSelectedBy(pdb.Spec.Map("selector").StringMap("matchLabels")));
            Assert.True(pdb.Spec.Has("minAvailable") ^ pdb.Spec.Has("maxUnavailable"), $"{pdb}: set minAvailable or maxUnavailable");
        }
        foreach (var policy in mesh.OfKind("NetworkPolicy"))
        {
            Assert.NotEmpty(mesh.WorkloadsSelectedBy(policy.Spec.Map("podSelector").StringMap("matchLabels")));
            foreach (var from in policy.Spec.Maps("ingress").SelectMany(i => i.Maps("from")))
                Assert.NotEmpty(mesh.WorkloadsSelectedBy(from.Map("podSelector").StringMap("matchLabels")));
        }
    }

    [Theory]
    [MemberData(nameof(Each))]
    public void RedisKeepsAnAppendOnlyFileOnAPersistentVolume(string overlay)
    {
        var redis = Overlays.Render(overlay).Get("StatefulSet", "sky-redis");
        Assert.Equal(1, redis.Spec.Int("replicas"));
        var container = Assert.Single(redis.Spec.Map("template").Map("spec").Maps("containers"));
        var args = container.Strings("args").ToList();
        string Arg(string flag) => args.IndexOf(flag) is var i and >= 0 && i + 1 < args.Count ? args[i + 1]
            : throw new Xunit.Sdk.XunitException($"{redis}: no {flag}");
        Assert.Equal("yes", Arg("--appendonly"));

        var claim = Assert.Single(redis.Spec.Maps("volumeClaimTemplates"));
        Assert.True(Quantity.Parse(claim.Map("spec").Map("resources").Map("requests").Str("storage")) > 0);
        var mount = Assert.Single(container.Maps("volumeMounts"), m => m.Str("name") == claim.Map("metadata").Str("name"));
        Assert.Equal(Arg("--dir"), mount.Str("mountPath"));
    }

    [Theory]
    [MemberData(nameof(Each))]
    public void EveryServiceRunsTheOneMeshImage(string overlay)
    {
        var mesh = Overlays.Render(overlay);
        var images = MeshService.All
            .Select(s => mesh.Get("Deployment", s.AppId))
            .SelectMany(d => d.Spec.Map("template").Map("spec").Maps("containers"))
            .Select(c => c.Str("image"))
            .Distinct()
            .ToList();
        var image = Assert.Single(images);
        Assert.True(Workloads.IsMeshImage(image), $"{overlay}: services run {image}, not sky-mesh");
        Assert.NotNull(ImageRef.Split(image).Tag);
    }

    [Fact]
    public void DevIsOneReplicaOfEverythingWithRedisPubSub()
    {
        var mesh = Overlays.Render("dev");
        foreach (var service in MeshService.All)
            Assert.Equal(1, mesh.Get("Deployment", service.AppId).Spec.Int("replicas"));
        Assert.Equal(1, mesh.Get("StatefulSet", "sky-redis").Spec.Int("replicas"));
        Assert.Empty(mesh.OfKind("HorizontalPodAutoscaler"));
        Assert.Equal("pubsub.redis", mesh.Get("Component", DaprNames.PubSub).Spec.Str("type"));
        Assert.Equal("sky-mesh:dev", mesh.Get("Deployment", MeshService.Naming.AppId).Spec.Map("template").Map("spec")
            .Maps("containers").Single().Str("image"));
    }

    [Fact]
    public void ProdAutoscalesDirectoryAndPlacementAndKeepsTwoOfEveryService()
    {
        var mesh = Overlays.Render("prod");
        var scaled = mesh.OfKind("HorizontalPodAutoscaler").ToDictionary(h => h.Spec.Map("scaleTargetRef").Str("name"));
        Assert.Equal([MeshService.Directory.AppId, MeshService.Placement.AppId], scaled.Keys.Order(StringComparer.Ordinal));

        foreach (var service in MeshService.All)
        {
            var deployment = mesh.Get("Deployment", service.AppId);
            var least = scaled.TryGetValue(service.AppId, out var hpa) ? hpa.Spec.Int("minReplicas") : deployment.Spec.Int("replicas");
            Assert.True(least >= 2, $"prod: {deployment} may run {least} replica(s)");

            var budget = Assert.Single(mesh.OfKind("PodDisruptionBudget"),
                p => mesh.WorkloadsSelectedBy(p.Spec.Map("selector").StringMap("matchLabels")).Contains(deployment));
            if (int.TryParse(budget.Spec.StrOrNull("minAvailable"), out var minAvailable))
                Assert.True(minAvailable < least, $"{budget} would block every eviction of {deployment}");
            if (int.TryParse(budget.Spec.StrOrNull("maxUnavailable"), out var maxUnavailable))
                Assert.True(maxUnavailable >= 1 && maxUnavailable < least, $"{budget} lets every pod of {deployment} go at once, or none");
        }
    }

    [Fact]
    public void ProdUsesACloudPubSubAndRequestsMoreThanDev()
    {
        var prod = Overlays.Render("prod");
        var dev = Overlays.Render("dev");
        Assert.NotEqual("pubsub.redis", prod.Get("Component", DaprNames.PubSub).Spec.Str("type"));

        foreach (var name in MeshService.All.Select(s => ("Deployment", s.AppId)).Append(("StatefulSet", "sky-redis")))
        {
            decimal Request(Rendered mesh, string resource) => Quantity.Parse(mesh.Get(name.Item1, name.Item2).Spec
                .Map("template").Map("spec").Maps("containers").First().Map("resources").Map("requests").Str(resource));
            Assert.True(Request(prod, "cpu") > Request(dev, "cpu"), $"{name.Item2}: prod requests no more CPU than dev");
            Assert.True(Request(prod, "memory") > Request(dev, "memory"), $"{name.Item2}: prod requests no more memory than dev");
        }
    }
}
