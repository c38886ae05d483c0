using Sky.Placement.Providers;

namespace Sky.Placement.Engine;

/// <summary>
/// Which compute provider brings up a placement's nodes: "local" placements run on this machine, every cloud
/// (aws, gcp, azure, lambda, ...) on the simulated cloud. Real cloud SDK provisioning is not built: no cloud account
/// is reachable from here, and the README says so. Tests swap in their own providers.
/// </summary>
public sealed class ComputeProviders(IComputeProvider local, IComputeProvider cloud)
{
    public IComputeProvider For(string provider) => string.Equals(provider, "local", StringComparison.OrdinalIgnoreCase) ? local : cloud;

    public IComputeProvider Local => local;
    public IComputeProvider Cloud => cloud;
}
