using Google.Protobuf.Reflection;
using Grpc.Core;
using Sky.Common.V1;
using Sky.Hosting.Identity;
using Xunit;

namespace Sky.Testing;

/// <summary>
/// Checks over the wire that a service enforces, for every RPC, the access rule its .proto declares:
/// no key is UNAUTHENTICATED, a principal kind the rule leaves out is PERMISSION_DENIED, and an
/// admitted one gets past authorization to the handler (whatever the handler then answers).
/// </summary>
public static class ContractAccess
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    public static async Task VerifyAsync(TestMesh mesh, ServiceDescriptor service)
    {
        var policy = AccessPolicy.FromContracts();
        var tokens = new Dictionary<PrincipalKind, string>
        {
            [PrincipalKind.Operator] = mesh.OperatorToken,
            [PrincipalKind.Provider] = await mesh.IssueKeyAsync(PrincipalKind.Provider, "aws"),
            [PrincipalKind.Tenant] = await mesh.IssueKeyAsync(PrincipalKind.Tenant, "acme"),
        };
        Assert.NotEmpty(service.Methods);
        foreach (var method in service.Methods)
        {
            var path = $"/{service.FullName}/{method.Name}";
            Assert.Equal(StatusCode.Unauthenticated, await CallAsync(mesh, null, service, method));
            foreach (var (kind, token) in tokens)
            {
                var code = await CallAsync(mesh, token, service, method);
                if (policy.Admits(path, kind))
                    Assert.True(code is not (StatusCode.PermissionDenied or StatusCode.Unauthenticated),
                        $"{path} should admit {kind} but answered {code}");
                else
                    Assert.True(code == StatusCode.PermissionDenied, $"{path} should refuse {kind} but answered {code}");
            }
        }
    }

    /// <summary>Calls the RPC with an empty request message and returns the status it ends with.</summary>
    private static async Task<StatusCode> CallAsync(TestMesh mesh, string? token, ServiceDescriptor service, MethodDescriptor method)
    {
        var type = (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (true, false) => MethodType.ClientStreaming,
            (false, true) => MethodType.ServerStreaming,
            _ => MethodType.DuplexStreaming,
        };
        var rpc = new Method<byte[], byte[]>(type, service.FullName, method.Name, Bytes, Bytes);
        var invoker = mesh.Channel(token).CreateCallInvoker();
        var options = new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10));
        try
        {
            switch (type)
            {
                case MethodType.Unary:
                    await invoker.AsyncUnaryCall(rpc, null, options, []);
                    break;
                case MethodType.ServerStreaming:
                    // A first response proves the call got past authorization; a watch-like stream never ends by itself.
                    using (var call = invoker.AsyncServerStreamingCall(rpc, null, options, []))
                        await call.ResponseStream.MoveNext(CancellationToken.None);
                    break;
                case MethodType.ClientStreaming:
                    using (var call = invoker.AsyncClientStreamingCall(rpc, null, options))
                    {
                        await call.RequestStream.CompleteAsync();
                        await call.ResponseAsync;
                    }
                    break;
                default:
                    using (var call = invoker.AsyncDuplexStreamingCall(rpc, null, options))
                    {
                        await call.RequestStream.CompleteAsync();
                        while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
                    }
                    break;
            }
            return StatusCode.OK;
        }
        catch (RpcException ex)
        {
            return ex.StatusCode;
        }
    }
}
