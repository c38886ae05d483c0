namespace Sky.Placement.Tasks;

/// <summary>
/// The fields SkyPilot's task schema accepts (sky/utils/schemas.py), split into those Sky.Mesh acts on and those it
/// keeps and reports as ignored, each with the reason; and the cloud names `infra` and `cloud` accept.
/// </summary>
internal static class TaskFields
{
    public static readonly string[] Acted =
        ["name", "num_nodes", "resources", "setup", "run", "envs", "secrets", "inputs", "outputs", "depends_on"];

    public static readonly IReadOnlyDictionary<string, string> Ignored = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["workdir"] = "Sky.Mesh does not sync a working directory to the nodes; setup and run start in the launcher's directory",
        ["file_mounts"] = "Sky.Mesh does not mount or copy files; declare data sizes in inputs/outputs so egress is priced",
        ["service"] = "SkyServe service settings; Sky.Mesh places and runs tasks, not services",
        ["pool"] = "SkyPilot worker pools are not supported",
        ["config"] = "per-task SkyPilot configuration overrides do not apply to Sky.Mesh providers",
        ["experimental"] = "per-task SkyPilot configuration overrides do not apply to Sky.Mesh providers",
        ["volumes"] = "volumes are not provisioned",
        ["volume_mounts"] = "volumes are not provisioned",
        ["event_callback"] = "event callbacks are not called; watch the job instead (WatchJob)",
        ["file_mounts_mapping"] = "SkyPilot internal field",
        ["managed_secrets"] = "references to a secret store are not resolved; pass values in secrets",
        ["api_server_access"] = "SkyPilot API server setting",
        ["_metadata"] = "SkyPilot internal field",
    };

    public static readonly string[] ResourceActed =
    [
        "infra", "cloud", "region", "zone", "cpus", "memory", "accelerators", "gpus", "instance_type", "use_spot",
        "disk_size", "max_hourly_cost", "any_of", "ordered",
    ];

    public static readonly IReadOnlyDictionary<string, string> ResourceIgnored = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["image_id"] = "the provider adapter picks the image; a custom image is not applied",
        ["ports"] = "ports are not opened",
        ["labels"] = "labels are not applied to instances",
        ["disk_tier"] = "offers carry no disk tier; any tier is accepted",
        ["network_tier"] = "offers carry no network tier; any tier is accepted",
        ["local_disk"] = "offers carry no local disk; any is accepted",
        ["job_recovery"] = "recovery is the broker's failover (blocked regions, re-planning), not configured per task",
        ["spot_recovery"] = "deprecated name of job_recovery; recovery is the broker's failover",
        ["autostop"] = "nodes are released when the task ends",
        ["priority"] = "jobs have no scheduling priority",
        ["priority_class"] = "jobs have no scheduling priority",
        ["accelerator_args"] = "TPU arguments are not passed to providers",
        ["volumes"] = "volumes are not provisioned",
        ["ephemeral_storage"] = "deprecated in SkyPilot (disk_size replaces it)",
        ["_docker_login_config"] = "SkyPilot internal field",
        ["_docker_username_for_runpod"] = "SkyPilot internal field",
        ["_is_image_managed"] = "SkyPilot internal field",
        ["_requires_fuse"] = "SkyPilot internal field",
        ["_cluster_config_overrides"] = "SkyPilot internal field",
        ["_no_missing_accel_warnings"] = "SkyPilot internal field",
    };

    /// <summary>SkyPilot's ALL_CLOUDS (sky/skylet/constants.py), lower case.</summary>
    public static readonly string[] Clouds =
    [
        "aws", "azure", "gcp", "ibm", "lambda", "scp", "oci", "kubernetes", "runpod", "vast", "vsphere", "cudo",
        "fluidstack", "paperspace", "primeintellect", "do", "nebius", "ssh", "slurm", "hyperbolic", "seeweb",
        "shadeform", "yotta", "mithril", "verda",
    ];

    /// <summary>"unknown field 'num_node' (did you mean 'num_nodes'?)", from the names valid at that place.</summary>
    public static string Unknown(string field, IEnumerable<string> valid)
    {
        if (field.Length > 64) return $"unknown field '{YamlScalars.Shorten(field)}'";
        var best = valid
            .Select(v => (Name: v, Distance: Distance(field.ToLowerInvariant(), v)))
            .Where(c => c.Distance <= Math.Min(2, Math.Max(1, c.Name.Length / 3)))
            .OrderBy(c => c.Distance)
            .Select(c => c.Name)
            .FirstOrDefault();
        return best is null ? $"unknown field '{field}'" : $"unknown field '{field}' (did you mean '{best}'?)";
    }

    // Edit distance counting a swap of neighbours as one edit (optimal string alignment); names are short.
    private static int Distance(string a, string b)
    {
        if (a.Length > 64 || b.Length > 64) return int.MaxValue;
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(d[i - 1, j - 1] + cost, Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1));
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
