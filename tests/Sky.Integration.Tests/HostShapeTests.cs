using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Sky.Hosting.Options;
using Sky.Mesh.V1;
using Sky.Testing;
using static Grpc.Health.V1.HealthCheckResponse.Types;

namespace Sky.Integration.Tests;

public sealed class HostShapeTests
{
    private static async Task<ServingStatus> StatusOf(TestMesh mesh, string service)
    {
        try
        {
            return (await mesh.Client<Health.HealthClient>(token: null).CheckAsync(new HealthCheckRequest { Service = service })).Status;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return ServingStatus.ServiceUnknown;
        }
    }

    [Fact]
    public async Task All_five_services_and_the_host_are_serving_without_a_key()
    {
        await using var mesh = await TestMesh.StartAsync();
        Assert.Equal(ServingStatus.Serving, await StatusOf(mesh, ""));
        foreach (var service in MeshService.All)
            Assert.Equal(ServingStatus.Serving, await StatusOf(mesh, service.GrpcService));
    }

    [Fact]
    public async Task A_subset_host_serves_only_its_services()
    {
        await using var mesh = await TestMesh.StartAsync("naming,directory");
        Assert.Equal(ServingStatus.Serving, await StatusOf(mesh, "sky.naming.v1.Naming"));
        Assert.Equal(ServingStatus.Serving, await StatusOf(mesh, "sky.directory.v1.Directory"));
        Assert.Equal(ServingStatus.ServiceUnknown, await StatusOf(mesh, "sky.placement.v1.Placement"));
        // A service not hosted here is not mapped at all: the call is UNIMPLEMENTED, after authentication.
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            mesh.Client<Sky.Placement.V1.Placement.PlacementClient>().GetJobAsync(new()).ResponseAsync);
        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
    }

    [Fact]
    public async Task Two_hosts_split_the_services_and_each_sees_all_five_through_its_peers()
    {
        await using var a = await TestMesh.StartAsync("naming,directory");
        await using var b = await TestMesh.StartAsync("placement,transfer,accounting",
            peers: new Dictionary<string, TestMesh> { ["naming"] = a, ["directory"] = a }, operatorToken: a.OperatorToken);

        foreach (var service in MeshService.All)
            Assert.Equal(ServingStatus.Serving, await StatusOf(b, service.GrpcService));

        var info = await b.Client<Sky.Mesh.V1.Mesh.MeshClient>().GetMeshInfoAsync(new());
        var directory = info.Services.Single(s => s.Kind == ServiceKind.Directory);
        Assert.False(directory.Local);
        Assert.Equal("http://directory.peer.test/", directory.PeerAddress);
        Assert.True(info.Services.Single(s => s.Kind == ServiceKind.Placement).Local);
    }

    [Fact]
    public async Task A_service_whose_peer_is_down_is_not_serving()
    {
        var a = await TestMesh.StartAsync("naming,directory");
        await using var b = await TestMesh.StartAsync("placement,transfer,accounting",
            peers: new Dictionary<string, TestMesh> { ["directory"] = a });
        Assert.Equal(ServingStatus.Serving, await StatusOf(b, "sky.directory.v1.Directory"));
        await a.DisposeAsync();
        Assert.Equal(ServingStatus.NotServing, await StatusOf(b, "sky.directory.v1.Directory"));
        Assert.Equal(ServingStatus.Serving, await StatusOf(b, ""));
        Assert.Equal(ServingStatus.ServiceUnknown, await StatusOf(b, "sky.naming.v1.Naming"));
    }

    [Fact]
    public async Task Reflection_lists_every_service_without_a_key()
    {
        await using var mesh = await TestMesh.StartAsync();
        using var call = mesh.Client<ServerReflection.ServerReflectionClient>(token: null).ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var names = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        foreach (var service in MeshService.All) Assert.Contains(service.GrpcService, names);
        Assert.Contains("sky.mesh.v1.Mesh", names);
        Assert.Contains("grpc.health.v1.Health", names);
    }

    [Fact]
    public async Task Read_rpcs_are_served_as_json_over_http_with_the_same_keys()
    {
        await using var mesh = await TestMesh.StartAsync();
        using var anonymous = mesh.Http();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/mesh")).StatusCode);

        using var op = mesh.Http(mesh.OperatorToken);
        var response = await op.GetAsync("/v1/mesh");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"grpcService\":\"sky.directory.v1.Directory\"", body);
        Assert.Contains("PRINCIPAL_KIND_OPERATOR", body);
    }

    [Fact]
    public async Task Metrics_are_served_in_prometheus_format_without_a_key()
    {
        await using var mesh = await TestMesh.StartAsync();
        await mesh.Client<Sky.Mesh.V1.Mesh.MeshClient>().GetMeshInfoAsync(new());
        using var http = mesh.Http();
        var text = await http.GetStringAsync("/metrics");
        Assert.Contains("# TYPE", text);
        Assert.Contains("http_server_request_duration_seconds", text);
    }
}
