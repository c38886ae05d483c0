using System.CommandLine;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Sky.Accounting.V1;
using Sky.Common.V1;
using AccountingClient = Sky.Accounting.V1.Accounting.AccountingClient;

namespace Sky.Cli.Commands;

/// <summary>
/// <c>sky peering add|list|rm</c>: peering agreements between two providers (free, discounted or capped egress both
/// ways, with effective dates). Writes are the operator's; every key may list.
/// </summary>
public static class PeeringCommand
{
    private sealed record AddFlags(CreatePeeringAgreementRequest Request);

    private sealed record RmFlags(DeletePeeringAgreementRequest Request);

    private sealed record ListFlags(string Provider, Timestamp? ActiveAt);

    public static Command Create()
    {
        var peering = new Command("peering", "Manage peering agreements between providers (cheaper egress between them); writes are operator only");
        peering.Add(AddCommand());
        peering.Add(ListCommand());
        peering.Add(RmCommand());
        return peering;
    }

    private static Command AddCommand()
    {
        var a = new Argument<string>("PROVIDER_A") { Description = "One provider, e.g. aws" };
        var b = new Argument<string>("PROVIDER_B") { Description = "The other provider, e.g. gcp (the agreement covers egress both ways)" };
        var free = new Option<bool>("--free") { Description = "Egress between them costs nothing" };
        var discount = new Option<int?>("--discount-bps") { HelpName = "BPS", Description = "Egress at the list price less this many basis points, 1 to 9999 (2500 = 25 %)" };
        var cap = new Option<string?>("--max-price-per-gb") { HelpName = "USD", Description = "Egress at the list price but at most this many dollars per GB (10^9 bytes), e.g. 0.01" };
        var id = new Option<string?>("--id") { HelpName = "ID", Description = "Agreement id (lower case letters, digits, '-'; at most 63); default: the mesh picks one. Adding the same id and terms again is a no-op" };
        var from = new Option<string?>("--from") { HelpName = "TIME", Description = "Applies from this time, e.g. 2026-12-01 or 2026-12-01T08:00:00Z (UTC unless an offset is given; default: now)" };
        var until = new Option<string?>("--until") { HelpName = "TIME", Description = "Applies until this time, exclusive (default: open-ended)" };
        var description = new Option<string?>("--description") { HelpName = "TEXT", Description = "Free text shown in listings (at most 200 characters)" };
        var command = new Command("add", "Add a peering agreement; give exactly one of --free, --discount-bps or --max-price-per-gb")
        {
            a, b, free, discount, cap, id, from, until, description,
        };
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct, () =>
            {
                var request = new CreatePeeringAgreementRequest
                {
                    AgreementId = parse.GetValue(id) ?? "",
                    ProviderA = parse.GetValue(a)!,
                    ProviderB = parse.GetValue(b)!,
                    EffectiveFrom = ParseTime("--from", parse.GetValue(from)),
                    EffectiveUntil = ParseTime("--until", parse.GetValue(until)),
                    Description = parse.GetValue(description) ?? "",
                };
                var chosen = (parse.GetValue(free) ? 1 : 0) + (parse.GetValue(discount) is null ? 0 : 1) + (parse.GetValue(cap) is null ? 0 : 1);
                if (chosen != 1) throw new FormatException("give exactly one of --free, --discount-bps BPS or --max-price-per-gb USD");
                if (parse.GetValue(free)) request.Terms = PeeringTerms.Free;
                else if (parse.GetValue(discount) is { } bps) (request.Terms, request.DiscountBps) = (PeeringTerms.Discounted, bps);
                else (request.Terms, request.MaxPricePerGb) = (PeeringTerms.Capped, ParseUsd("--max-price-per-gb", parse.GetValue(cap)!));
                return new AddFlags(request);
            },
            async (mesh, json, flags) =>
            {
                var reply = await new AccountingClient(mesh.Channel).CreatePeeringAgreementAsync(flags.Request, cancellationToken: ct);
                if (json) ProtoJson.Write(reply);
                else Console.WriteLine($"peering agreement {reply.Agreement.AgreementId}: {Describe(reply.Agreement)}");
                return 0;
            }));
        return command;
    }

    private static Command ListCommand()
    {
        var provider = new Option<string?>("--provider") { HelpName = "PROVIDER", Description = "Only agreements this provider is party to" };
        var activeAt = new Option<string?>("--active-at")
        {
            HelpName = "TIME",
            Description = "Only agreements in effect at this time ('now', 2026-12-01, 2026-12-01T08:00:00Z); default: all, past and future",
        };
        var command = new Command("list", "List peering agreements, newest start first") { provider, activeAt };
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct,
            () => new ListFlags(parse.GetValue(provider) ?? "", parse.GetValue(activeAt) is "now"
                ? Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow)
                : ParseTime("--active-at", parse.GetValue(activeAt))),
            async (mesh, json, flags) =>
            {
                var client = new AccountingClient(mesh.Channel);
                var all = new ListPeeringAgreementsResponse { Page = new PageResponse() };
                var token = "";
                do
                {
                    var page = await client.ListPeeringAgreementsAsync(new ListPeeringAgreementsRequest
                    {
                        Provider = flags.Provider,
                        ActiveAt = flags.ActiveAt,
                        Page = new PageRequest { PageSize = 1000, PageToken = token },
                    }, cancellationToken: ct);
                    all.Agreements.AddRange(page.Agreements);
                    token = page.Page?.NextPageToken ?? "";
                } while (token.Length > 0);

                if (json) ProtoJson.Write(all);
                else
                {
                    var table = Format.Table("agreement", "providers", "terms", "from", "until", "description");
                    foreach (var p in all.Agreements)
                        table.AddTextRow(p.AgreementId, $"{p.ProviderA} <-> {p.ProviderB}", Terms(p), Format.Timestamp(p.EffectiveFrom),
                            p.EffectiveUntil is null ? "open-ended" : Format.Timestamp(p.EffectiveUntil), p.Description);
                    Format.Write(table);
                }
                return 0;
            }));
        return command;
    }

    private static Command RmCommand()
    {
        var id = new Argument<string>("ID") { Description = "The agreement to end (from 'sky peering list')" };
        var at = new Option<string?>("--at") { HelpName = "TIME", Description = "When it stops applying, not in the past (default: now)" };
        var command = new Command("rm", "End a peering agreement (one that has not taken effect is removed); idempotent") { id, at };
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct,
            () => new RmFlags(new DeletePeeringAgreementRequest { AgreementId = parse.GetValue(id)!, EndTime = ParseTime("--at", parse.GetValue(at)) }),
            async (mesh, json, flags) =>
            {
                var reply = await new AccountingClient(mesh.Channel).DeletePeeringAgreementAsync(flags.Request, cancellationToken: ct);
                if (json) ProtoJson.Write(reply);
                else if (reply.Agreement is null) Console.WriteLine($"removed peering agreement {flags.Request.AgreementId} (it had not taken effect)");
                else Console.WriteLine($"peering agreement {reply.Agreement.AgreementId} ends {Format.Timestamp(reply.Agreement.EffectiveUntil)}");
                return 0;
            }));
        return command;
    }

    /// <summary>"free", "25% off", "at most $0.01/GB".</summary>
    public static string Terms(PeeringAgreement agreement) => agreement.Terms switch
    {
        PeeringTerms.Free => "free",
        PeeringTerms.Discounted => (agreement.DiscountBps / 100m).ToString("0.##", CultureInfo.InvariantCulture) + "% off",
        PeeringTerms.Capped => $"at most {Format.Money(agreement.MaxPricePerGb)}/GB",
        _ => agreement.Terms.ToString(),
    };

    private static string Describe(PeeringAgreement p) =>
        $"{p.ProviderA} <-> {p.ProviderB} {Terms(p)} from {Format.Timestamp(p.EffectiveFrom)}" +
        (p.EffectiveUntil is null ? "" : " until " + Format.Timestamp(p.EffectiveUntil));

    /// <summary>An ISO 8601 date or date and time; UTC unless it carries an offset. Null stays null (the flag was not given).</summary>
    private static Timestamp? ParseTime(string flag, string? value)
    {
        if (value is null) return null;
        if (!DateTimeOffset.TryParse(value.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
            throw new FormatException($"{flag}: '{value}' is not a time such as 2026-12-01 or 2026-12-01T08:00:00Z");
        return Timestamp.FromDateTimeOffset(time);
    }

    private static Money ParseUsd(string flag, string value)
    {
        if (!decimal.TryParse(value.Trim().TrimStart('$'), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            throw new FormatException($"{flag}: '{value}' is not an amount of dollars >= 0, e.g. 0.01");
        try
        {
            return Money.FromDecimal(amount, "USD");
        }
        catch (ArgumentException)
        {
            throw new FormatException($"{flag}: '{value}' has more than 9 decimal places");
        }
    }
}
