using Sky.Mesh.V1;

namespace Sky.Hosting.Options;

/// <summary>One of the five services of the mesh: its short name (as in <c>--services</c>) and its gRPC name.</summary>
public sealed record MeshService(ServiceKind Kind, string Name, string GrpcService)
{
    public static readonly MeshService Naming = new(ServiceKind.Naming, "naming", "sky.naming.v1.Naming");
    public static readonly MeshService Directory = new(ServiceKind.Directory, "directory", "sky.directory.v1.Directory");
    public static readonly MeshService Placement = new(ServiceKind.Placement, "placement", "sky.placement.v1.Placement");
    public static readonly MeshService Transfer = new(ServiceKind.Transfer, "transfer", "sky.transfer.v1.Transfer");
    public static readonly MeshService Accounting = new(ServiceKind.Accounting, "accounting", "sky.accounting.v1.Accounting");

    /// <summary>All five, in the order they are listed everywhere.</summary>
    public static IReadOnlyList<MeshService> All { get; } = [Naming, Directory, Placement, Transfer, Accounting];

    /// <summary>The service's Dapr app id and its Kubernetes Deployment and Service name, e.g. "sky-directory".</summary>
    public string AppId => "sky-" + Name;

    public static MeshService? Find(string name) =>
        All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    public override string ToString() => Name;
}
