namespace Sky.Deploy.Tests;

/// <summary>The apiVersion/kind pairs a manifest here may use: Kubernetes' own, Dapr's, and kustomize's files.</summary>
public static class Kinds
{
    private static readonly Dictionary<string, string[]> ByApiVersion = new(StringComparer.Ordinal)
    {
        ["v1"] = ["ConfigMap", "Secret", "Service", "ServiceAccount", "Namespace", "PersistentVolumeClaim"],
        ["apps/v1"] = ["Deployment", "StatefulSet", "DaemonSet"],
        ["autoscaling/v2"] = ["HorizontalPodAutoscaler"],
        ["policy/v1"] = ["PodDisruptionBudget"],
        ["networking.k8s.io/v1"] = ["NetworkPolicy", "Ingress"],
        ["dapr.io/v1alpha1"] = ["Component", "Configuration", "Resiliency", "Subscription"],
        ["dapr.io/v2alpha1"] = ["Subscription"],
        ["kustomize.config.k8s.io/v1beta1"] = ["Kustomization"],
    };

    /// <summary>Kinds with no namespace: kustomize's namespace transformer leaves them alone.</summary>
    private static readonly HashSet<string> ClusterScoped = ["Namespace"];

    public static bool IsKnown(string apiVersion, string kind) =>
        ByApiVersion.TryGetValue(apiVersion, out var kinds) && kinds.Contains(kind, StringComparer.Ordinal);

    public static bool IsNamespaced(string kind) => !ClusterScoped.Contains(kind);

    /// <summary>
    /// Kubernetes' built-in kinds are patched with strategic merge (lists of containers merge by name); kinds it has no
    /// schema for (Dapr's) with JSON merge patch, where a list in a patch replaces the list.
    /// </summary>
    public static bool HasStrategicMerge(string apiVersion) =>
        ByApiVersion.ContainsKey(apiVersion) && !apiVersion.StartsWith("dapr.io/", StringComparison.Ordinal)
        && !apiVersion.StartsWith("kustomize.config.k8s.io/", StringComparison.Ordinal);

    public static string Describe() =>
        string.Join("; ", ByApiVersion.Select(kv => $"{kv.Key}: {string.Join(", ", kv.Value)}"));
}
