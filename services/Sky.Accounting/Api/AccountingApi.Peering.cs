using Grpc.Core;
using Sky.Accounting.V1;

namespace Sky.Accounting.Api;

/// <summary>The peering RPCs: thin mappings onto <see cref="Peering.PeeringRegistry"/>, which holds the rules.</summary>
public sealed partial class AccountingApi
{
    public override async Task<CreatePeeringAgreementResponse> CreatePeeringAgreement(CreatePeeringAgreementRequest request, ServerCallContext context) =>
        new() { Agreement = await peering.CreateAsync(request, context.CancellationToken) };

    public override async Task<ListPeeringAgreementsResponse> ListPeeringAgreements(ListPeeringAgreementsRequest request, ServerCallContext context)
    {
        var (agreements, page) = await peering.ListAsync(request, context.CancellationToken);
        return new ListPeeringAgreementsResponse { Agreements = { agreements }, Page = page };
    }

    public override async Task<DeletePeeringAgreementResponse> DeletePeeringAgreement(DeletePeeringAgreementRequest request, ServerCallContext context) =>
        new() { Agreement = await peering.EndAsync(request, context.CancellationToken) };
}
