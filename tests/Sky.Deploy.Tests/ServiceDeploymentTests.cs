using System.Text.RegularExpressions;
using Sky.Hosting.Events;
using Sky.Hosting.Options;
using YamlDotNet.RepresentationModel;

namespace Sky.Deploy.Tests;

/// <summary>
/// Each service's Deployment and Service in each rendered overlay, checked against the code: names and app ids
/// (<see cref="MeshService.AppId"/>), ports (<see cref="MeshOptions"/>), the host's flags (HostCommand.cs) and peers.
/// </summary>
public class ServiceDeploymentTests
{
    public static IEnumerable<object[]> Cases => Overlays.EachWithService;

    private static readonly Regex EnvReference = new(@"\$\(([A-Za-z_][A-Za-z0-9_]*)\)");

    private sealed record Subject(Rendered Mesh, MeshService Service, Resource Deployment, YamlMappingNode Pod, YamlMappingNode Container);

    private static Subject Load(string overlay, string service)
    {
        var mesh = Overlays.Render(overlay);
        var meshService = MeshService.Find(service) ?? throw new ArgumentException($"unknown service {service}");
        var deployment = mesh.Get("Deployment", meshService.AppId);
        var pod = deployment.Spec.Map("template").Map("spec");
        var containers = pod.Maps("containers").Where(c => Workloads.IsMeshImage(c.Str("image"))).ToList();
        Assert.True(containers.Count == 1, $"{overlay}: {deployment} should run one sky-mesh container, has {containers.Count}");
        return new Subject(mesh, meshService, deployment, pod, containers[0]);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DeploymentAndServiceAreNamedForTheAppId(string overlay, string service)
    {
        var s = Load(overlay, service);
        Assert.Equal("sky-" + service, s.Service.AppId);
        var selector = s.Deployment.Spec.Map("selector").StringMap("matchLabels");
        Assert.NotEmpty(selector);
        Assert.Same(s.Deployment, Assert.Single(s.Mesh.WorkloadsSelectedBy(selector)));

        var k8sService = s.Mesh.Get("Service", s.Service.AppId);
        Assert.Same(s.Deployment, Assert.Single(s.Mesh.WorkloadsSelectedBy(k8sService.Spec.StringMap("selector"))));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DaprAnnotationsNameTheAppItsPortAndConfiguration(string overlay, string service)
    {
        var s = Load(overlay, service);
        var annotations = s.Deployment.Spec.Map("template").Map("metadata").StringMap("annotations");
        string Annotation(string key) =>
            annotations.TryGetValue(key, out var value) ? value : throw new Xunit.Sdk.XunitException($"{s.Deployment}: no annotation {key}");

        Assert.Equal("true", Annotation("dapr.io/enabled"));
        Assert.Equal(s.Service.AppId, Annotation("dapr.io/app-id"));
        Assert.Equal(MeshOptions.DefaultHttpPort.ToString(), Annotation("dapr.io/app-port"));
        Assert.Equal("http", Annotation("dapr.io/app-protocol"));
        Assert.Equal(DaprNames.Configuration, Annotation("dapr.io/config"));
        Assert.NotNull(s.Mesh.Find("Configuration", DaprNames.Configuration));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ArgsRunTheServiceOnTheMeshPortsWithRedisAndDapr(string overlay, string service)
    {
        var s = Load(overlay, service);
        var flags = Flags(s);
        var hostCommand = Repo.ReadText("services/Sky.Host/HostCommand.cs");
        foreach (var flag in flags.Select(f => f.Flag).Distinct())
            Assert.True(hostCommand.Contains($"\"{flag}\"", StringComparison.Ordinal),
                $"{s.Deployment}: {flag} is not a flag of services/Sky.Host/HostCommand.cs");
        foreach (var repeated in flags.GroupBy(f => f.Flag).Where(g => g.Key != "--peer" && g.Count() > 1))
            Assert.Fail($"{s.Deployment}: {repeated.Key} given {repeated.Count()} times");

        string Value(string flag) =>
            flags.SingleOrDefault(f => f.Flag == flag).Value ?? throw new Xunit.Sdk.XunitException($"{s.Deployment}: no {flag}");

        Assert.Equal(s.Service.Name, Value("--services"));
        Assert.Equal(s.Service, Assert.Single(MeshOptionParsing.ParseServices(Value("--services"))));
        Assert.Equal("0.0.0.0", Value("--bind"));
        Assert.Equal(MeshOptions.DefaultGrpcPort.ToString(), Value("--grpc-port"));
        Assert.Equal(MeshOptions.DefaultHttpPort.ToString(), Value("--http-port"));
        Assert.Equal("dapr", Value("--events"));

        var store = Value("--store");
        Assert.True(StoreLocation.Parse(store).IsRedis, $"{s.Deployment}: --store {store} is not Redis");
        var storeUri = new Uri(store);
        Workloads.AssertServiceReaches(s.Mesh, storeUri.Host, storeUri.IsDefaultPort || storeUri.Port <= 0 ? 6379 : storeUri.Port);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PeersNameEveryOtherServiceAtItsKubernetesService(string overlay, string service)
    {
        var s = Load(overlay, service);
        var peers = Flags(s).Where(f => f.Flag == "--peer").Select(f => Expand(s, f.Value)).ToList();
        var parsed = MeshOptionParsing.ParsePeers(peers, new HashSet<MeshService> { s.Service });

        Assert.Equal(MeshService.All.Where(o => o != s.Service).Select(o => o.Name).Order(), parsed.Keys.Select(o => o.Name).Order());
        foreach (var (peer, uri) in parsed)
        {
            Assert.Equal("http", uri.Scheme);
            Assert.Equal(peer.AppId, uri.Host);
            Assert.Equal(MeshOptions.DefaultGrpcPort, uri.Port);
            Workloads.AssertServiceReaches(s.Mesh, uri.Host, uri.Port);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PortsAndGrpcHealthProbesUseTheMeshPorts(string overlay, string service)
    {
        var s = Load(overlay, service);
        var ports = s.Container.Maps("ports").ToDictionary(p => p.Int("containerPort"), p => p.StrOrNull("name"));
        Assert.True(ports.ContainsKey(MeshOptions.DefaultGrpcPort), $"{s.Deployment}: no container port {MeshOptions.DefaultGrpcPort}");
        Assert.True(ports.ContainsKey(MeshOptions.DefaultHttpPort), $"{s.Deployment}: no container port {MeshOptions.DefaultHttpPort}");

        foreach (var probeName in new[] { "readinessProbe", "livenessProbe", "startupProbe" })
        {
            var probe = s.Container.MapOrNull(probeName);
            if (probe is null)
            {
                Assert.True(probeName == "startupProbe", $"{s.Deployment}: no {probeName}");
                continue;
            }
            var grpc = probe.MapOrNull("grpc") ?? throw new Xunit.Sdk.XunitException($"{s.Deployment}: {probeName} is not a grpc probe");
            Assert.Equal(MeshOptions.DefaultGrpcPort, grpc.Int("port"));
            var healthService = grpc.StrOrNull("service") ?? "";
            Assert.True(healthService == "" || healthService == s.Service.GrpcService,
                $"{s.Deployment}: {probeName} asks for health of '{healthService}', which is neither \"\" nor {s.Service.GrpcService}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ResourcesAreRequestedAndLimited(string overlay, string service)
    {
        var s = Load(overlay, service);
        var resources = s.Container.Map("resources");
        foreach (var name in new[] { "cpu", "memory" })
        {
            var request = Quantity.Parse(resources.Map("requests").Str(name));
            var limit = Quantity.Parse(resources.Map("limits").Str(name));
            Assert.True(request > 0 && limit >= request, $"{s.Deployment}: {name} request {request} and limit {limit}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OperatorTokenComesFromASecret(string overlay, string service)
    {
        var s = Load(overlay, service);
        var env = s.Container.Maps("env").SingleOrDefault(e => e.Str("name") == "SKY_OPERATOR_TOKEN")
            ?? throw new Xunit.Sdk.XunitException($"{s.Deployment}: no SKY_OPERATOR_TOKEN, so each pod would generate a key of its own");
        var secret = env.At("valueFrom", "secretKeyRef");
        Assert.NotNull(secret);
        Assert.False(string.IsNullOrEmpty(secret.StrOrNull("name")));
        Assert.False(string.IsNullOrEmpty(secret.StrOrNull("key")));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ServiceExposesBothPortsOfThePods(string overlay, string service)
    {
        var s = Load(overlay, service);
        var k8sService = s.Mesh.Get("Service", s.Service.AppId);
        foreach (var port in new[] { MeshOptions.DefaultGrpcPort, MeshOptions.DefaultHttpPort })
        {
            var servicePort = k8sService.Spec.Maps("ports").SingleOrDefault(p => p.Int("port") == port)
                ?? throw new Xunit.Sdk.XunitException($"Service {s.Service.AppId} does not expose {port}");
            Assert.Equal(port, Workloads.TargetContainerPort(s.Deployment, servicePort));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SelectorsInTheDeploymentMatchItsOwnPods(string overlay, string service)
    {
        var s = Load(overlay, service);
        var labels = s.Deployment.PodLabels!;
        // Kubernetes rejects a Deployment whose selector misses its template's labels; a spread constraint that
        // misses them spreads nothing.
        var selectors = s.Pod.Maps("topologySpreadConstraints").Select(c => c.Map("labelSelector").StringMap("matchLabels"))
            .Prepend(s.Deployment.Spec.Map("selector").StringMap("matchLabels"));
        foreach (var selector in selectors)
        {
            Assert.NotEmpty(selector);
            Assert.All(selector, kv => Assert.Equal(kv.Value, labels.GetValueOrDefault(kv.Key)));
        }
    }

    /// <summary>The container's args as (flag, value) pairs; every flag the host takes has a value.</summary>
    private static List<(string Flag, string Value)> Flags(Subject s)
    {
        var args = s.Container.Strings("args");
        Assert.True(args.Count % 2 == 0, $"{s.Deployment}: args should be --flag value pairs: {string.Join(' ', args)}");
        var pairs = new List<(string, string)>();
        for (var i = 0; i < args.Count; i += 2)
        {
            Assert.True(args[i].StartsWith("--", StringComparison.Ordinal) && !args[i].Contains('='),
                $"{s.Deployment}: expected a flag at argument {i}, found '{args[i]}'");
            pairs.Add((args[i], args[i + 1]));
        }
        return pairs;
    }

    /// <summary>Expands $(VAR) as the kubelet does, from the container's env (values, or ConfigMap keys of the overlay).</summary>
    private static string Expand(Subject s, string arg) => EnvReference.Replace(arg, match =>
    {
        var name = match.Groups[1].Value;
        var env = s.Container.Maps("env").SingleOrDefault(e => e.Str("name") == name)
            ?? throw new Xunit.Sdk.XunitException($"{s.Deployment}: '{arg}' uses $({name}), which the container's env does not define (the kubelet would pass it literally)");
        if (env.StrOrNull("value") is { } value) return value;
        var configMapRef = env.At("valueFrom", "configMapKeyRef")
            ?? throw new Xunit.Sdk.XunitException($"{s.Deployment}: env {name} is neither a value nor a ConfigMap key");
        var configMap = s.Mesh.Get("ConfigMap", configMapRef.Str("name"));
        return configMap.Node.StringMap("data").TryGetValue(configMapRef.Str("key"), out var data) ? data
            : throw new Xunit.Sdk.XunitException($"ConfigMap {configMap.Name} has no key {configMapRef.Str("key")} for env {name}");
    });
}
