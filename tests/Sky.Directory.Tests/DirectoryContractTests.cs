using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Sky.Directory.Api;
using Sky.Common.V1;
using Sky.Hosting.Identity;
using Sky.Testing;

namespace Sky.Directory.Tests;

/// <summary>The directory service on a host of its own: it serves, and every RPC enforces the access rule in its .proto.</summary>
public sealed class DirectoryContractTests
{
    private static readonly AccessPolicy Policy = AccessPolicy.FromContracts();
    private static string Rpc(string method) => "/sky.directory.v1.Directory/" + method;

    [Fact]
    public async Task Serves_on_a_host_of_its_own()
    {
        await using var mesh = await TestMesh.StartAsync("directory");
        var reply = await mesh.Client<Health.HealthClient>(token: null).CheckAsync(new HealthCheckRequest { Service = "sky.directory.v1.Directory" });
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task QueryOffers_is_served_with_the_cached_offer_encoding()
    {
        await using var mesh = await TestMesh.StartAsync("directory");
        var endpoints = mesh.Services.GetRequiredService<EndpointDataSource>().Endpoints;
        var methods = endpoints.Select(e => e.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method)
            .Where(m => m?.ServiceName == "sky.directory.v1.Directory").Distinct().ToList();
        // gRPC and JSON transcoding each bind through DirectoryBinding.
        var queries = methods.OfType<Method<Sky.Directory.V1.QueryOffersRequest, Sky.Directory.V1.QueryOffersResponse>>().ToList();
        Assert.NotEmpty(queries);
        Assert.All(queries, q => Assert.Same(QueryOffersEncoding.Marshaller, q.ResponseMarshaller));
        // Every method is bound once, and JSON transcoding still serves the REST routes from the same binding.
        Assert.Equal(Sky.Directory.V1.DirectoryReflection.Descriptor.Services.Single().Methods.Count, methods.Select(m => m!.Name).Distinct().Count());
        using var http = mesh.Http(mesh.OperatorToken);
        var rest = await http.GetAsync("/v1/offers?selector=provider%3Daws&page.pageSize=2");
        Assert.True(rest.IsSuccessStatusCode, $"GET /v1/offers: {(int)rest.StatusCode}");
        Assert.Contains("\"offers\"", await rest.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Every_rpc_enforces_its_declared_access_rule()
    {
        await using var mesh = await TestMesh.StartAsync("directory");
        await ContractAccess.VerifyAsync(mesh, Sky.Directory.V1.DirectoryReflection.Descriptor.Services.Single());
    }

    [Fact]
    public void Providers_register_offers_tenants_read_and_only_the_operator_imports_catalogs()
    {
        foreach (var write in new[] { "Register", "KeepAlive", "Deregister", "PutEgressPriceGrid" })
        {
            Assert.True(Policy.Admits(Rpc(write), PrincipalKind.Provider), write);
            Assert.False(Policy.Admits(Rpc(write), PrincipalKind.Tenant), write);
        }
        foreach (var read in new[] { "GetOffer", "QueryOffers", "Watch", "ListAccelerators", "GetEgressPriceGrid", "GetThroughputGrid" })
            Assert.True(Policy.Admits(Rpc(read), PrincipalKind.Tenant), read);
        foreach (var operatorOnly in new[] { "ImportCatalog", "PutThroughputGrid" })
            Assert.False(Policy.Admits(Rpc(operatorOnly), PrincipalKind.Provider), operatorOnly);
    }
}
