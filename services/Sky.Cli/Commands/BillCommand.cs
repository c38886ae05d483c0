using System.CommandLine;
using System.Text.Json.Nodes;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Spectre.Console;
using AccountingClient = Sky.Accounting.V1.Accounting.AccountingClient;

namespace Sky.Cli.Commands;

/// <summary>
/// <c>sky bill usage|invoice|settlements|close|export|reconcile</c>: rated usage, invoices (drafts of the open period and
/// issued ones), provider settlements, closing a period, the FOCUS export, and a job's or transfer's quote against its
/// bill. Tenants see their own; providers their own settlements; the operator all.
/// </summary>
public static class BillCommand
{
    private sealed record UsageFlags(ListUsageRequest Request, int Limit);

    public static Command Create()
    {
        var bill = new Command("bill", "Usage and billing from the accounting service");
        bill.Add(UsageCommand());
        bill.Add(InvoiceCommand());
        bill.Add(SettlementsCommand());
        bill.Add(CloseCommand());
        bill.Add(ExportCommand());
        bill.Add(ReconcileCommand());
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

    private sealed record InvoiceFlags(string? Id, ListInvoicesRequest List);

    private static Command InvoiceCommand()
    {
        var id = new Argument<string?>("INVOICE") { Description = "Show this invoice with its lines; without it, list invoices", Arity = ArgumentArity.ZeroOrOne };
        var tenant = new Option<string?>("--tenant") { HelpName = "TENANT", Description = "Only this tenant's invoices (a tenant key sees only its own anyway)" };
        var period = new Option<string?>("--period") { HelpName = "YYYY-MM", Description = "Only invoices of this billing period" };
        var command = new Command("invoice", "Invoices: the open period's drafts and the issued ones, newest period first; with an id, one invoice line by line")
        {
            id, tenant, period,
        };
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct,
            () => new InvoiceFlags(parse.GetValue(id), new ListInvoicesRequest { TenantId = parse.GetValue(tenant) ?? "", PeriodId = parse.GetValue(period) ?? "" }),
            async (mesh, json, flags) =>
            {
                var client = new AccountingClient(mesh.Channel);
                if (flags.Id is { } one)
                {
                    var invoice = (await client.GetInvoiceAsync(new GetInvoiceRequest { InvoiceId = one }, cancellationToken: ct)).Invoice;
                    if (json) { ProtoJson.Write(invoice); return 0; }
                    Format.KeyValues(("invoice", invoice.InvoiceId), ("tenant", invoice.TenantId), ("period", invoice.Period.PeriodId),
                        ("status", Status(invoice.Status)), ("issued", Format.Timestamp(invoice.IssuedAt)), ("total", Format.Money(invoice.Total)));
                    var table = Format.Table("provider", "service", "where", "sku", "quantity", "amount $", "adjusts");
                    foreach (var l in invoice.Lines)
                        table.AddTextRow(l.Provider, l.Service, Format.Location(l.Location), l.Sku, $"{l.Quantity} {l.Unit}", Format.Money(l.Amount), l.AdjustsPeriodId);
                    Format.Write(table);
                    return 0;
                }
                var all = new ListInvoicesResponse { Page = new PageResponse() };
                var token = "";
                do
                {
                    var request = flags.List.Clone();
                    request.Page = new PageRequest { PageSize = 1000, PageToken = token };
                    var page = await client.ListInvoicesAsync(request, cancellationToken: ct);
                    all.Invoices.AddRange(page.Invoices);
                    token = page.Page?.NextPageToken ?? "";
                } while (token.Length > 0);
                if (json) { ProtoJson.Write(all); return 0; }
                var list = Format.Table("invoice", "tenant", "period", "status", "total $", "issued");
                foreach (var i in all.Invoices)
                    list.AddTextRow(i.InvoiceId, i.TenantId, i.Period.PeriodId, Status(i.Status), Format.Money(i.Total), Format.Timestamp(i.IssuedAt));
                Format.Write(list);
                return 0;
            }));
        return command;
    }

    private static string Status(InvoiceStatus status) => status switch
    {
        InvoiceStatus.Draft => "draft",
        InvoiceStatus.Issued => "issued",
        _ => "",
    };

    private static Command SettlementsCommand()
    {
        var provider = new Option<string?>("--provider") { HelpName = "PROVIDER", Description = "Only this provider's settlements (a provider key sees only its own anyway)" };
        var period = new Option<string?>("--period") { HelpName = "YYYY-MM", Description = "Only settlements of this billing period" };
        var command = new Command("settlements", "What the broker owes each provider per closed period: usage lines, peering discounts, total")
        {
            provider, period,
        };
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct,
            () => new ListSettlementsRequest { Provider = parse.GetValue(provider) ?? "", PeriodId = parse.GetValue(period) ?? "" },
            async (mesh, json, request) =>
            {
                var client = new AccountingClient(mesh.Channel);
                var all = new ListSettlementsResponse { Page = new PageResponse() };
                var token = "";
                do
                {
                    var ask = request.Clone();
                    ask.Page = new PageRequest { PageSize = 1000, PageToken = token };
                    var page = await client.ListSettlementsAsync(ask, cancellationToken: ct);
                    all.Settlements.AddRange(page.Settlements);
                    token = page.Page?.NextPageToken ?? "";
                } while (token.Length > 0);
                if (json) { ProtoJson.Write(all); return 0; }
                var table = Format.Table("period", "provider", "service", "where", "sku", "quantity", "gross $", "peering $", "owed $");
                foreach (var s in all.Settlements)
                {
                    foreach (var l in s.Lines)
                        table.AddTextRow(s.Period.PeriodId, s.Provider, l.Service, Format.Location(l.Location), l.Sku, $"{l.Quantity} {l.Unit}", Format.Money(l.Amount), "", "");
                    foreach (var p in s.PeeringLines)
                        table.AddTextRow(s.Period.PeriodId, s.Provider, "peering " + p.AgreementId, "to " + p.PeerProvider, "", $"{p.Bytes} byte", "", "-" + Format.Money(p.Discount), "");
                    table.AddTextRow(s.Period.PeriodId, s.Provider, "total", "", "", "", Format.Money(s.Gross), "-" + Format.Money(s.PeeringDiscount), Format.Money(s.Total));
                }
                Format.Write(table);
                return 0;
            }));
        return command;
    }

    private static Command CloseCommand()
    {
        var period = new Argument<string?>("PERIOD") { Description = "Billing period to close (YYYY-MM); default: the oldest open one", Arity = ArgumentArity.ZeroOrOne };
        var force = new Option<bool>("--force") { Description = "Close even though the period has not ended (later usage then arrives as adjustments of the next period)" };
        var command = new Command("close", "Close a billing period (operator): one invoice per tenant, one settlement per provider; idempotent") { period, force };
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct,
            () => new CloseBillingPeriodRequest { PeriodId = parse.GetValue(period) ?? "", Force = parse.GetValue(force) },
            async (mesh, json, request) =>
            {
                var reply = await new AccountingClient(mesh.Channel).CloseBillingPeriodAsync(request, cancellationToken: ct);
                if (json) ProtoJson.Write(reply);
                else Format.KeyValues(("period", reply.Period.PeriodId), ("closed", Format.Timestamp(reply.Period.ClosedAt)),
                    ("invoices", reply.InvoicesIssued.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("invoiced $", Format.Money(reply.InvoicedTotal)),
                    ("settlements", reply.SettlementsIssued.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("settled $", Format.Money(reply.SettledTotal)),
                    ("broker margin $", Format.Money(reply.BrokerMargin)));
                return 0;
            }));
        return command;
    }

    private sealed record ExportFlags(ExportFocusRequest Request, string? Output);

    private static Command ExportCommand()
    {
        var focus = new Option<bool>("--focus") { Description = "FOCUS 1.2 CSV (the only format; required so a later format cannot be picked by accident)", Required = true };
        var tenant = new Option<string?>("--tenant") { HelpName = "TENANT", Description = "Tenant to export (a tenant key exports its own; the operator must name one)" };
        var period = new Option<string>("--period") { HelpName = "YYYY-MM", Description = "Billing period to export; the open period gives the rows rated so far", Required = true };
        var output = new Option<string?>("--output", "-o") { HelpName = "FILE", Description = "Write the CSV here (default: standard output); with --json, a summary {file, bytes, format} is printed" };
        var command = new Command("export", "Export a tenant's billing data for one period as a FOCUS 1.2 CSV file") { focus, tenant, period, output };
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct,
            () => new ExportFlags(new ExportFocusRequest { TenantId = parse.GetValue(tenant) ?? "", PeriodId = parse.GetValue(period)! }, parse.GetValue(output)),
            async (mesh, json, flags) =>
            {
                using var call = new AccountingClient(mesh.Channel).ExportFocus(flags.Request, cancellationToken: ct);
                var target = flags.Output is null ? Console.OpenStandardOutput() : File.Create(flags.Output + ".partial");
                long bytes = 0;
                await using (target)
                {
                    while (await call.ResponseStream.MoveNext(ct))
                    {
                        var chunk = call.ResponseStream.Current.Data.Memory;
                        await target.WriteAsync(chunk, ct);
                        bytes += chunk.Length;
                    }
                }
                if (flags.Output is not null)
                {
                    // Renamed only once complete, so a failed export never leaves a file that looks whole.
                    File.Move(flags.Output + ".partial", flags.Output, overwrite: true);
                    if (json) Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object> { ["file"] = flags.Output, ["bytes"] = bytes, ["format"] = "FOCUS 1.2" }));
                    else Console.Error.WriteLine($"wrote {bytes} bytes of FOCUS 1.2 CSV to {flags.Output}");
                }
                return 0;
            }));
        return command;
    }

    private static Command ReconcileCommand()
    {
        var subject = new Argument<string>("ID") { Description = "A job (job-...), a transfer (xfer-...) or a quote (q-...)" };
        var command = new Command("reconcile",
            "Quote against bill for a job or transfer, line by line, every difference assigned to its cause, and every price recomputed from " +
            "the directory's price book at the revision it names (exit code 1 when the book does not confirm a price)") { subject };
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct,
            () => ReconcileRequestFor(parse.GetValue(subject)!),
            async (mesh, json, request) =>
            {
                var r = await new AccountingClient(mesh.Channel).ReconcileAsync(request, cancellationToken: ct);
                if (json) CliContext.WriteJsonNode(ReconcileJson(r));
                else RenderReconciliation(r);
                return r.PriceBook is { Mismatches.Count: > 0 } ? 1 : 0;
            }));
        return command;
    }

    /// <summary>Quote against bill: the totals, each line quoted and billed, and every difference with its cause.</summary>
    public static void RenderReconciliation(ReconcileResponse r)
    {
        Format.KeyValues(("quote", r.QuoteId), ("subject", r.SubjectId), ("quoted", Format.Money(r.Quoted)), ("billed", Format.Money(r.Billed)),
            ("difference", Format.Money(r.Difference)), ("final", r.Final ? "yes" : "no: usage still to come"));
        var lines = Format.Table("line", "description", "quoted $", "billed $", "usage");
        foreach (var l in r.Lines)
            lines.AddTextRow(l.QuoteLineId.Length > 0 ? l.QuoteLineId : "(outside the quote)", l.Description, Format.Money(l.Quoted), Format.Money(l.Billed),
                l.UsageIds.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Format.Write(lines);
        var causes = Format.Table("cause", "amount $", "line", "why", "reference");
        foreach (var c in r.Causes) causes.AddTextRow(CauseName(c.Kind), Format.Money(c.Amount), c.QuoteLineId, c.Description, c.Reference);
        Format.Write(causes);
        RenderPriceBook(r.PriceBook);
    }

    private static void RenderPriceBook(PriceBookCheck? book)
    {
        if (book is null || !book.Checked)
        {
            AnsiConsole.MarkupLine($"[yellow]price book: not checked[/] {Markup.Escape(book?.Reason ?? "")}");
            return;
        }
        var revisions = string.Join(", ", book.Revisions);
        if (book.Mismatches.Count == 0)
        {
            AnsiConsole.MarkupLine($"[green]price book:[/] all {book.Confirmed} prices recomputed from revision(s) {revisions} match");
            return;
        }
        AnsiConsole.MarkupLine($"[red]price book: {book.Mismatches.Count} price(s) not in the book[/] ({book.Confirmed} confirmed, revision(s) {revisions})");
        var table = Format.Table("line", "usage", "revision", "recorded", "book", "why");
        foreach (var m in book.Mismatches)
            table.AddTextRow(m.QuoteLineId, m.UsageId, m.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture), m.Recorded, m.Book, m.Reason);
        Format.Write(table);
    }

    /// <summary>The request for an id by its prefix: transfers are xfer-..., quotes q-..., anything else a job.</summary>
    public static ReconcileRequest ReconcileRequestFor(string id)
    {
        if (string.IsNullOrWhiteSpace(id)) throw new FormatException("ID must name a job, a transfer or a quote");
        return id.StartsWith("xfer-", StringComparison.Ordinal) ? new ReconcileRequest { TransferId = id }
            : id.StartsWith("q-", StringComparison.Ordinal) ? new ReconcileRequest { QuoteId = id }
            : new ReconcileRequest { JobId = id };
    }

    /// <summary>
    /// <c>--json</c>: amounts as exact decimal numbers in US dollars (to the nano, as rated), so <c>causes</c>' amounts sum
    /// exactly to <c>billed_usd - quoted_usd</c>; cause kinds in snake case (longer_run, failover, ...).
    /// </summary>
    public static JsonObject ReconcileJson(ReconcileResponse r) => new()
    {
        ["quote_id"] = r.QuoteId,
        ["subject_id"] = r.SubjectId,
        ["quoted_usd"] = Usd(r.Quoted),
        ["billed_usd"] = Usd(r.Billed),
        ["difference_usd"] = Usd(r.Difference),
        ["final"] = r.Final,
        ["lines"] = new JsonArray([.. r.Lines.Select(l => (JsonNode)new JsonObject
        {
            ["quote_line_id"] = l.QuoteLineId,
            ["description"] = l.Description,
            ["quoted_usd"] = Usd(l.Quoted),
            ["billed_usd"] = Usd(l.Billed),
            ["usage_ids"] = new JsonArray([.. l.UsageIds.Select(u => (JsonNode)u!)]),
        })]),
        ["causes"] = new JsonArray([.. r.Causes.Select(c => (JsonNode)new JsonObject
        {
            ["kind"] = CauseName(c.Kind),
            ["amount_usd"] = Usd(c.Amount),
            ["quote_line_id"] = c.QuoteLineId,
            ["description"] = c.Description,
            ["reference"] = c.Reference,
        })]),
        ["price_book"] = new JsonObject
        {
            ["checked"] = r.PriceBook?.Checked ?? false,
            ["reason"] = r.PriceBook?.Reason ?? "price book not checked",
            ["confirmed"] = r.PriceBook?.Confirmed ?? 0,
            ["revisions"] = new JsonArray([.. (r.PriceBook?.Revisions ?? []).Select(v => (JsonNode)v)]),
            ["mismatches"] = new JsonArray([.. (r.PriceBook?.Mismatches ?? []).Select(m => (JsonNode)new JsonObject
            {
                ["quote_line_id"] = m.QuoteLineId,
                ["usage_id"] = m.UsageId,
                ["revision"] = m.Revision,
                ["recorded"] = m.Recorded,
                ["book"] = m.Book,
                ["reason"] = m.Reason,
            })]),
        },
    };

    private static decimal Usd(Money? money) => money is null ? 0m
        : money.CurrencyCode is "" or "USD" ? money.ToDecimal()
        : throw new InvalidOperationException($"an amount in {money.CurrencyCode}, not USD");

    /// <summary>A cause kind in snake case: CAUSE_KIND_LONGER_RUN -> longer_run.</summary>
    public static string CauseName(CauseKind kind) =>
        System.Text.RegularExpressions.Regex.Replace(kind.ToString(), "(?<=[a-z])([A-Z])", "_$1").ToLowerInvariant();
}
