using Google.Protobuf;
using Grpc.Core;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Hosting.Errors;
using Sky.Hosting.Identity;

namespace Sky.Accounting.Focus;

/// <summary>
/// ExportFocus: a tenant's FOCUS file for one period as a server stream of chunks of at most 64 KiB. Tenants export
/// their own data only (an empty tenant_id means their own); the operator names the tenant. Every check runs before
/// the first chunk, so a refused call sends no data.
/// </summary>
public sealed class FocusExportRpc(FocusExporter exporter)
{
    public async Task ExportAsync(ExportFocusRequest request, Principal caller, IServerStreamWriter<ExportFocusResponse> responses, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(responses);
        var scope = Scope(request, caller);
        await foreach (var chunk in exporter.ChunksAsync(scope, ct))
            await responses.WriteAsync(new ExportFocusResponse { Data = UnsafeByteOperations.UnsafeWrap(chunk) });
    }

    /// <summary>The tenant and period the caller may export.</summary>
    /// <exception cref="RpcException">PERMISSION_DENIED for another tenant's data; INVALID_ARGUMENT for a missing or malformed field.</exception>
    public FocusScope Scope(ExportFocusRequest request, Principal caller)
    {
        var tenant = request.TenantId;
        if (caller.Kind == PrincipalKind.Tenant)
        {
            if (tenant.Length > 0 && tenant != caller.Scope)
                throw RpcErrors.PermissionDenied($"{caller} may not export the billing data of tenant '{tenant}'");
            tenant = caller.Scope;
        }
        else if (!caller.IsOperator) throw RpcErrors.PermissionDenied($"{caller} may not export tenants' billing data");
        else if (tenant.Length == 0) throw RpcErrors.InvalidArgument("tenant_id", "required when the operator exports");
        if (FocusScope.Problem(tenant, request.PeriodId, exporter.Calendar) is { } problem)
            throw RpcErrors.InvalidArgument(problem.Field, problem.Description);
        // Every row names the tenant's invoice of the period (the open period's draft has its id already).
        return exporter.Scope(tenant, request.PeriodId, Sky.Accounting.Billing.InvoiceIds.For(request.PeriodId, tenant));
    }
}
