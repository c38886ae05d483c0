using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Sky.Hosting.Identity;
using Sky.Naming.Domain;
using Sky.Naming.V1;

namespace Sky.Naming.Api;

/// <summary>
/// gRPC adapter of sky.naming.v1.Naming (protos/sky/naming/v1/naming.proto): maps requests to
/// <see cref="NameRegistry"/>, which holds the rules, and its results back to responses.
/// </summary>
public sealed class NamingApi(NameRegistry registry) : Sky.Naming.V1.Naming.NamingBase
{
    public override async Task<CreateZoneResponse> CreateZone(CreateZoneRequest request, ServerCallContext context) =>
        new() { Zone = await registry.CreateZoneAsync(context.GetCaller(), request.Zone, context.CancellationToken) };

    public override async Task<GetZoneResponse> GetZone(GetZoneRequest request, ServerCallContext context) =>
        new() { Zone = await registry.GetZoneAsync(request.Name, context.CancellationToken) };

    public override async Task<ListZonesResponse> ListZones(ListZonesRequest request, ServerCallContext context)
    {
        var (zones, page) = await registry.ListZonesAsync(request.Owner, request.Under, request.Page, context.CancellationToken);
        return new ListZonesResponse { Zones = { zones }, Page = page };
    }

    public override async Task<DeleteZoneResponse> DeleteZone(DeleteZoneRequest request, ServerCallContext context)
    {
        await registry.DeleteZoneAsync(context.GetCaller(), request.Name, context.CancellationToken);
        return new DeleteZoneResponse();
    }

    public override async Task<CreateRecordResponse> CreateRecord(CreateRecordRequest request, ServerCallContext context) =>
        new() { Record = await registry.CreateRecordAsync(context.GetCaller(), request.Record, context.CancellationToken) };

    public override async Task<UpdateRecordResponse> UpdateRecord(UpdateRecordRequest request, ServerCallContext context) =>
        new() { Record = await registry.UpdateRecordAsync(context.GetCaller(), request.Record, request.ExpectedRevision, context.CancellationToken) };

    public override async Task<DeleteRecordResponse> DeleteRecord(DeleteRecordRequest request, ServerCallContext context) =>
        new() { Revision = await registry.DeleteRecordAsync(context.GetCaller(), request.Name, request.ExpectedRevision, context.CancellationToken) };

    public override async Task<ListRecordsResponse> ListRecords(ListRecordsRequest request, ServerCallContext context)
    {
        var (records, page) = await registry.ListRecordsAsync(request.Under, request.Page, context.CancellationToken);
        return new ListRecordsResponse { Records = { records }, Page = page };
    }

    public override async Task<ResolveResponse> Resolve(ResolveRequest request, ServerCallContext context) =>
        new() { Record = await registry.ResolveAsync(request.Name, context.CancellationToken) };

    public override async Task<LookupResponse> Lookup(LookupRequest request, ServerCallContext context)
    {
        var (endpoints, ttl) = await registry.LookupAsync(request.Name, context.CancellationToken);
        return new LookupResponse { Endpoints = { endpoints }, Ttl = Duration.FromTimeSpan(ttl) };
    }
}
