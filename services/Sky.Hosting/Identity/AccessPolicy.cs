using System.Reflection;
using Google.Protobuf.Reflection;
using Sky.Common.V1;

namespace Sky.Hosting.Identity;

/// <summary>
/// Who may call each RPC, read once from the <c>(sky.common.v1.access)</c> option in the contracts.
/// The rule lives beside the RPC in its .proto, so clients in any language can read it too.
/// </summary>
public sealed class AccessPolicy
{
    /// <summary>Services any caller, even without a key, may use: probes and tools need them.</summary>
    private static readonly string[] OpenPrefixes = ["/grpc.health.v1.Health/", "/grpc.reflection.v1alpha.ServerReflection/", "/grpc.reflection.v1.ServerReflection/"];

    private readonly Dictionary<string, HashSet<PrincipalKind>> _rules = new(StringComparer.Ordinal);

    public AccessPolicy(IEnumerable<FileDescriptor> files)
    {
        foreach (var file in files)
        foreach (var service in file.Services)
        foreach (var method in service.Methods)
        {
            var allowed = new HashSet<PrincipalKind> { PrincipalKind.Operator };
            var rule = method.GetOptions()?.GetExtension(AccessExtensions.Access);
            if (rule is not null) allowed.UnionWith(rule.Allow);
            _rules[$"/{service.FullName}/{method.Name}"] = allowed;
        }
    }

    /// <summary>The policy of every contract compiled into Sky.Contracts.</summary>
    public static AccessPolicy FromContracts() => new(ContractFiles());

    public static bool IsOpen(string method) => OpenPrefixes.Any(p => method.StartsWith(p, StringComparison.Ordinal));

    /// <summary>True when <paramref name="kind"/> may call <paramref name="method"/> ("/pkg.Service/Method"). Unknown methods admit the operator only.</summary>
    public bool Admits(string method, PrincipalKind kind) =>
        kind == PrincipalKind.Operator || (_rules.TryGetValue(method, out var allowed) && allowed.Contains(kind));

    public IReadOnlyCollection<PrincipalKind> AllowedFor(string method) =>
        _rules.TryGetValue(method, out var allowed) ? allowed : [PrincipalKind.Operator];

    public IEnumerable<string> Methods => _rules.Keys;

    private static readonly Lazy<IReadOnlyList<FileDescriptor>> Files = new(() =>
        typeof(AccessExtensions).Assembly.GetTypes()
            .Select(t => t.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static))
            .Where(p => p?.PropertyType == typeof(FileDescriptor))
            .Select(p => (FileDescriptor)p!.GetValue(null)!)
            .ToList());

    /// <summary>The file descriptors of every generated *Reflection class in the contracts assembly (found once, by reflection).</summary>
    public static IReadOnlyList<FileDescriptor> ContractFiles() => Files.Value;
}
