using System.CommandLine;
using Sky.Accounting.V1;
using Sky.Common.V1;
using AccountingClient = Sky.Accounting.V1.Accounting.AccountingClient;

namespace Sky.Cli.Commands;

/// <summary><c>sky bill usage</c>: rated usage as the ledger holds it (tenants see their own; the operator all).</summary>
public static class BillCommand
{
    private sealed record UsageFlags(ListUsageRequest Request, int Limit);

    public static Command Create()
    {
        var bill = new Command("bill", "Usage and billing from the accounting service");
        bill.Add(UsageCommand());
        return bill;
    }

    private static Command UsageCommand()
    {
        var tenant = new Option<string?>("--tenant") { HelpName = "TENANT", Description = "Only this tenant's usage (a tenant key sees only its own anyway)" };
        var provider = new Option<string?>("--provider") { HelpName = "PROVIDER", Description = "Only usage of this provider" };
        var period = new Option<string?>("--period") { HelpName = "YYYY-MM", Description = "Only usage posted to this billing period" };
        var job = new Option<string?>("--job") { HelpName = "JOB", Description = "Only usage of this job or transfer" };
        var limit = new Option<int>("--limit") { HelpName = "N", Description = "At most this many records, newest first (default 100)", DefaultValueFactory = _ => 100 };
        var command = new Command("usage", "Rated usage, newest first: what each tenant pays, what each provider is owed, the broker's margin")
        {
            tenant, provider, period, job, limit,
        };
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct,
            () =>
            {
                var n = parse.GetValue(limit);
                if (n < 1) throw new FormatException("--limit must be at least 1");
                return new UsageFlags(new ListUsageRequest
                {
                    TenantId = parse.GetValue(tenant) ?? "",
                    Provider = parse.GetValue(provider) ?? "",
                    PeriodId = parse.GetValue(period) ?? "",
                    SubjectId = parse.GetValue(job) ?? "",
                }, n);
            },
            async (mesh, json, flags) =>
            {
                var client = new AccountingClient(mesh.Channel);
                var all = new ListUsageResponse { Page = new PageResponse() };
                var token = "";
                do
                {
                    var request = flags.Request.Clone();
                    request.Page = new PageRequest { PageSize = Math.Min(1000, flags.Limit - all.Usage.Count), PageToken = token };
                    var page = await client.ListUsageAsync(request, cancellationToken: ct);
                    all.Usage.AddRange(page.Usage);
                    token = page.Page?.NextPageToken ?? "";
                } while (token.Length > 0 && all.Usage.Count < flags.Limit);

                if (json) ProtoJson.Write(all);
                else
                {
                    var table = Format.Table("period", "tenant", "provider", "service", "where", "sku", "quantity", "list $", "margin $", "billed $", "job");
                    foreach (var u in all.Usage)
                        table.AddTextRow(u.PeriodId + (u.AdjustsPeriodId.Length > 0 ? $" (adj. {u.AdjustsPeriodId})" : ""), u.TenantId, u.Provider, u.Service,
                            Format.Location(u.Location), u.Sku, $"{u.Quantity} {u.Unit}", Format.Money(u.ListAmount), Format.Money(u.Margin), Format.Money(u.Amount), u.SubjectId);
                    Format.Write(table);
                }
                return 0;
            }));
        return command;
    }
}
