using YamlDotNet.RepresentationModel;

namespace Sky.Deploy.Tests;

/// <summary>Checks on how Services, ports and images of the rendered workloads fit together.</summary>
public static class Workloads
{
    /// <summary>The one image every service runs, whatever registry an overlay moves it to.</summary>
    public static bool IsMeshImage(string image)
    {
        var (name, _) = ImageRef.Split(image);
        return name == "sky-mesh" || name.EndsWith("/sky-mesh", StringComparison.Ordinal);
    }

    /// <summary>The container port a Service port's targetPort (a name or a number) reaches in a workload's pods.</summary>
    public static int TargetContainerPort(Resource workload, YamlMappingNode servicePort)
    {
        var target = servicePort.StrOrNull("targetPort") ?? servicePort.Str("port");
        var ports = workload.Spec.Map("template").Map("spec").Maps("containers").SelectMany(c => c.Maps("ports")).ToList();
        var match = int.TryParse(target, out var number)
            ? ports.SingleOrDefault(p => p.Int("containerPort") == number)
            : ports.SingleOrDefault(p => p.StrOrNull("name") == target);
        return match?.Int("containerPort") ?? throw new Xunit.Sdk.XunitException($"{workload}: no container port '{target}'");
    }

    /// <summary>A Kubernetes Service named <paramref name="host"/> exposes <paramref name="port"/> and reaches pods listening on it.</summary>
    public static void AssertServiceReaches(Rendered mesh, string host, int port)
    {
        var service = mesh.Find("Service", host) ?? throw new Xunit.Sdk.XunitException($"no Service named {host}");
        var servicePort = service.Spec.Maps("ports").SingleOrDefault(p => p.Int("port") == port)
            ?? throw new Xunit.Sdk.XunitException($"Service {host} does not expose port {port}");
        var workloads = mesh.WorkloadsSelectedBy(service.Spec.StringMap("selector"));
        Assert.True(workloads.Count > 0, $"Service {host} selects no pods");
        foreach (var workload in workloads) TargetContainerPort(workload, servicePort);
    }
}
