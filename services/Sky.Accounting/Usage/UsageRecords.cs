using Grpc.Core;
using Sky.Accounting.V1;
using Sky.Directory.V1;
using Sky.Hosting.Errors;
using Sky.Hosting.Identity;
using Sky.Hosting.Options;
using Sky.Hosting.Peers;
using Sky.Pricing;

namespace Sky.Accounting.Usage;

/// <summary>
/// RecordUsage: usage of services a provider meters itself, checked as a whole batch (one bad record fails it and posts
/// nothing), rated from the offer's hourly price in the directory now (its revision is the price book revision
/// recorded), and posted under "provider:&lt;name&gt;:&lt;key&gt;" so two providers' keys never meet.
/// </summary>
public sealed class UsageRecords(PeerChannels peers, UsagePosting posting, UsageRater rater)
{
    public const int MaxRecords = 1000;

    public async Task<RecordUsageResponse> RecordAsync(RecordUsageRequest request, Principal caller, CancellationToken ct)
    {
        if (request.Records.Count is 0 or > MaxRecords)
            throw RpcErrors.InvalidArgument("records", $"1 to {MaxRecords} records, got {request.Records.Count}");
        var violations = new List<(string, string)>();
        for (var i = 0; i < request.Records.Count; i++) Check(request.Records[i], $"records[{i}]", caller, violations);
        if (violations.Count > 0) throw RpcErrors.InvalidArgument([.. violations]);

        var directory = new Sky.Directory.V1.Directory.DirectoryClient(peers.For(MeshService.Directory));
        var offers = new Dictionary<string, (Offer Offer, long Revision)>(StringComparer.Ordinal);
        var rated = new List<UsagePosting.Rated>(request.Records.Count);
        for (var i = 0; i < request.Records.Count; i++)
        {
            var record = request.Records[i];
            var field = $"records[{i}]";
            if (!offers.TryGetValue(record.OfferId, out var known))
            {
                try
                {
                    var found = await directory.GetOfferAsync(new GetOfferRequest { OfferId = record.OfferId }, cancellationToken: ct);
                    offers[record.OfferId] = known = (found.Offer, found.Offer.Revision);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
                {
                    violations.Add(($"{field}.offer_id", $"no offer '{record.OfferId}' in the directory"));
                    continue;
                }
            }
            if (Rate(record, known.Offer, known.Revision, field, violations) is { } one) rated.Add(one);
        }
        if (violations.Count > 0) throw RpcErrors.InvalidArgument([.. violations]);

        var results = await posting.PostAsync(rated, ct);
        var response = new RecordUsageResponse();
        for (var i = 0; i < results.Count; i++)
            response.Results.Add(new RecordUsageResult
            {
                IdempotencyKey = request.Records[i].IdempotencyKey,
                UsageId = results[i].TransactionId,
                Duplicate = results[i].Outcome == Sky.Accounting.Ledger.PostOutcome.Duplicate,
            });
        return response;
    }

    private static void Check(UsageRecord r, string field, Principal caller, List<(string, string)> violations)
    {
        if (r.IdempotencyKey.Length is 0 or > 200) violations.Add(($"{field}.idempotency_key", "1 to 200 characters"));
        if (r.TenantId.Length == 0) violations.Add(($"{field}.tenant_id", "required"));
        if (r.Provider.Length == 0) violations.Add(($"{field}.provider", "required"));
        else if (!caller.IsOperator && r.Provider != caller.Scope) violations.Add(($"{field}.provider", $"a provider records its own usage only ({caller.Scope})"));
        if (r.Service.Length == 0) violations.Add(($"{field}.service", "required"));
        if (r.OfferId.Length == 0) violations.Add(($"{field}.offer_id", "required"));
        if (r.Location is null || r.Location.Provider != r.Provider) violations.Add(($"{field}.location.provider", "must equal provider"));
        if (r.UsageStart is null) violations.Add(($"{field}.usage_start", "required"));
        if (r.UsageEnd is null) violations.Add(($"{field}.usage_end", "required"));
        else if (r.UsageStart is not null && r.UsageEnd.ToDateTimeOffset() < r.UsageStart.ToDateTimeOffset())
            violations.Add(($"{field}.usage_end", "must not be before usage_start"));
        try { UsagePosting.Quantity(r.Quantity, r.IdempotencyKey); }
        catch (ArgumentException) { violations.Add(($"{field}.quantity", $"'{r.Quantity}' is not a decimal number (digits with an optional fraction)")); }
        if (r.Unit is not ("second" or "hour")) violations.Add(($"{field}.unit", $"'{r.Unit}': offers are priced per hour, so usage is in second or hour"));
    }

    // An offer has one price, per hour: its on-demand price (the sku names nothing else to price by).
    private UsagePosting.Rated? Rate(UsageRecord r, Offer offer, long revision, string field, List<(string, string)> violations)
    {
        if (offer.Location.Provider != r.Provider)
        {
            violations.Add(($"{field}.offer_id", $"offer '{r.OfferId}' is {offer.Location.Provider}'s, not {r.Provider}'s"));
            return null;
        }
        if (r.Sku.Length > 0)
        {
            violations.Add(($"{field}.sku", "directory offers have one price per hour; leave sku empty"));
            return null;
        }
        if (offer.Price?.OnDemandHourly is not { } hourly)
        {
            violations.Add(($"{field}.offer_id", $"offer '{r.OfferId}' has no on-demand price"));
            return null;
        }
        var quantity = UsagePosting.Quantity(r.Quantity, r.IdempotencyKey);
        var seconds = r.Unit == "hour" ? quantity * 3600m : quantity;
        var usage = new RatedUsage
        {
            IdempotencyKey = $"provider:{r.Provider}:{r.IdempotencyKey}",
            TenantId = r.TenantId,
            Provider = r.Provider,
            Service = r.Service,
            Location = r.Location,
            OfferId = r.OfferId,
            Sku = offer.InstanceType.Length > 0 ? offer.InstanceType : offer.Service,
            Quantity = r.Quantity,
            Unit = r.Unit,
            UnitPrice = hourly,
            PriceUnit = "hour",
            PriceBookRevision = revision,
            QuoteId = r.QuoteId,
            UsageStart = r.UsageStart,
            UsageEnd = r.UsageEnd,
        };
        return new UsagePosting.Rated(usage, rater.Compute(hourly.ToDecimal(), seconds, 1));
    }
}

/// <summary>ListUsage: the ledger's usage by filter, newest first; tenants see their own only.</summary>
public sealed class UsageQueries(Sky.Accounting.Ledger.ILedger ledger)
{
    public async Task<ListUsageResponse> ListAsync(ListUsageRequest request, Principal caller, CancellationToken ct)
    {
        string? tenant = request.TenantId.Length == 0 ? null : request.TenantId;
        if (caller.Kind == Sky.Common.V1.PrincipalKind.Tenant)
        {
            if (tenant is not null && tenant != caller.Scope)
                throw RpcErrors.PermissionDenied($"{caller} may not read the usage of tenant '{tenant}'");
            tenant = caller.Scope;
        }
        var size = request.Page?.PageSize ?? 0;
        if (size is < 0 or > Sky.Accounting.Ledger.LedgerQuery.MaxPageSize)
            throw RpcErrors.InvalidArgument("page.page_size", $"0 to {Sky.Accounting.Ledger.LedgerQuery.MaxPageSize}");
        var query = new Sky.Accounting.Ledger.LedgerQuery
        {
            TenantId = tenant,
            Provider = Empty(request.Provider),
            PeriodId = Empty(request.PeriodId),
            QuoteId = Empty(request.QuoteId),
            SubjectId = Empty(request.SubjectId),
            UsageEndFrom = request.StartTime?.ToDateTimeOffset(),
            UsageEndBefore = request.EndTime?.ToDateTimeOffset(),
            PageSize = size,
            PageToken = Empty(request.Page?.PageToken),
        };
        Sky.Accounting.Ledger.LedgerPage page;
        try { page = await ledger.QueryAsync(query, ct); }
        catch (ArgumentException e) { throw RpcErrors.InvalidArgument("page.page_token", e.Message); }
        var response = new ListUsageResponse { Page = new Sky.Common.V1.PageResponse { NextPageToken = page.NextPageToken ?? "" } };
        response.Usage.AddRange(page.Transactions.Select(t => t.Usage));
        return response;
    }

    private static string? Empty(string? text) => string.IsNullOrEmpty(text) ? null : text;
}
