using Grpc.Core;
using Sky.Accounting.Billing;
using Sky.Accounting.V1;
using Sky.Hosting.Errors;
using Sky.Hosting.Identity;

namespace Sky.Accounting.Api;

/// <summary>Billing: period close, invoices, settlements and the tenant's billing stream.</summary>
public sealed partial class AccountingApi
{
    public override Task<CloseBillingPeriodResponse> CloseBillingPeriod(CloseBillingPeriodRequest request, ServerCallContext context) =>
        billing.CloseAsync(request, context.CancellationToken);

    public override Task<GetInvoiceResponse> GetInvoice(GetInvoiceRequest request, ServerCallContext context) =>
        billing.GetInvoiceAsync(request, context.GetCaller(), context.CancellationToken);

    public override Task<ListInvoicesResponse> ListInvoices(ListInvoicesRequest request, ServerCallContext context) =>
        billing.ListInvoicesAsync(request, context.GetCaller(), context.CancellationToken);

    public override Task<ListSettlementsResponse> ListSettlements(ListSettlementsRequest request, ServerCallContext context) =>
        billing.ListSettlementsAsync(request, context.GetCaller(), context.CancellationToken);

    public override async Task StreamBilling(StreamBillingRequest request, IServerStreamWriter<StreamBillingResponse> responseStream, ServerCallContext context)
    {
        var caller = context.GetCaller();
        var tenant = BillingPeriods.ScopeTenant(request.TenantId, caller)
            ?? throw RpcErrors.InvalidArgument("tenant_id", "the operator must name the tenant whose billing to stream");
        try
        {
            await foreach (var e in streams.ReadAsync(tenant, request.AfterEventId, context.CancellationToken))
                await responseStream.WriteAsync(e, context.CancellationToken);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested) { }
    }
}
