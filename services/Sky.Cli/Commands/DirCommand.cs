using System.CommandLine;
using System.Globalization;
using Grpc.Core;
using Sky.Common.V1;
using Sky.Directory.V1;
using Spectre.Console;

namespace Sky.Cli.Commands;

/// <summary><c>sky dir query|watch</c>: find offers in the directory by selector and preference, and follow their changes.</summary>
public static class DirCommand
{
    private const string SelectorHelp =
        "Which offers, e.g. \"service=postgres, version>=15 <17, provider in (aws,gcp), region~eu-*, price<=3.5\" or \"gpu=A100:8\" (empty: all). "
        + "Clauses: f=v f!=v, f in (a,b), f notin (a,b), f<v <= > >=, f~glob, f, !f; fields: kind service name provider region zone "
        + "instance_type version api_version vcpus memory (GiB) gpu (NAME or NAME:COUNT) arch price spot_price (per hour) load (0..1) availability origin, or an attribute name";

    public static Command Create()
    {
        var dir = new Command("dir", "Query and watch the directory of offers (service instances and compute offerings)");
        dir.Add(QueryCommand());
        dir.Add(WatchCommand());
        return dir;
    }

    private static Argument<string> Selector() => new("SELECTOR")
    {
        Description = SelectorHelp,
        Arity = ArgumentArity.ZeroOrOne,
        DefaultValueFactory = _ => "",
    };

    private sealed record QueryFlags(string Selector, Preference? Preference, int? Limit);

    private static Command QueryCommand()
    {
        var selector = Selector();
        var prefer = new Option<string?>("--prefer") { HelpName = "RANKING", Description = OfferPreference.Help };
        var near = new Option<string?>("--near") { HelpName = "PROVIDER/REGION", Description = "Reference location for distance ranking, PROVIDER/REGION[/ZONE]; alone it means --prefer nearest" };
        var spot = new Option<bool>("--spot") { Description = "Rank by the spot price instead of the on-demand price; alone it means cheapest spot first" };
        var limit = new Option<int>("--limit") { HelpName = "N", Description = "At most this many offers, best first", DefaultValueFactory = _ => 20 };
        var all = new Option<bool>("--all") { Description = "Every matching offer (all pages), ignoring --limit" };
        var command = new Command("query", "List the offers that match a selector, best first (a table; --json prints the QueryOffersResponse)")
        {
            selector, prefer, near, spot, limit, all,
        };
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct, () =>
        {
            var max = parse.GetValue(limit);
            if (max <= 0) throw new FormatException("--limit: must be at least 1 (or pass --all)");
            return new QueryFlags(parse.GetValue(selector) ?? "", OfferPreference.Parse(parse.GetValue(prefer), parse.GetValue(near), parse.GetValue(spot)),
                parse.GetValue(all) ? null : max);
        }, async (mesh, json, flags) =>
        {
            var result = await QueryAsync(new Sky.Directory.V1.Directory.DirectoryClient(mesh.Channel), flags.Selector, flags.Preference, flags.Limit, ct);
            if (json) ProtoJson.Write(result);
            else
            {
                Format.Write(OfferTable(result.Offers));
                var more = result.Page.NextPageToken.Length > 0 ? "; more match (raise --limit or pass --all)" : "";
                Console.WriteLine($"{result.Offers.Count} offer{(result.Offers.Count == 1 ? "" : "s")} at revision {result.Revision}{more}");
            }
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Pages through QueryOffers up to <paramref name="limit"/> offers (null: all), merged into one response whose
    /// page token continues after the last offer returned and whose revision is the earliest page's (watching from
    /// it + 1 then misses nothing).
    /// </summary>
    public static async Task<QueryOffersResponse> QueryAsync(Sky.Directory.V1.Directory.DirectoryClient client, string selector, Preference? preference, int? limit, CancellationToken ct)
    {
        var result = new QueryOffersResponse { Page = new PageResponse() };
        long? revision = null;
        var token = "";
        do
        {
            var want = limit is { } max ? Math.Min(1000, max - result.Offers.Count) : 1000;
            var request = new QueryOffersRequest { Selector = selector, Preference = preference, Page = new PageRequest { PageSize = want, PageToken = token } };
            var page = await FieldCaret.CallAsync(() => client.QueryOffersAsync(request, cancellationToken: ct).ResponseAsync, ("selector", selector));
            result.Offers.AddRange(page.Offers);
            revision = revision is { } r ? Math.Min(r, page.Revision) : page.Revision;
            token = page.Page?.NextPageToken ?? "";
        } while (token.Length > 0 && (limit is null || result.Offers.Count < limit));
        result.Page.NextPageToken = token;
        result.Revision = revision ?? 0;
        return result;
    }

    public static Table OfferTable(IEnumerable<Offer> offers)
    {
        var table = Format.Table("offer id", "kind", "provider", "region", "zone", "service / instance type", "version", "vCPUs", "mem GiB",
            "accelerators", "$/h", "spot $/h", "load", "availability");
        foreach (var o in offers)
        {
            var hw = o.Hardware ?? new Hardware();
            table.AddTextRow(o.OfferId, Format.Kind(o.Kind), o.Location?.Provider ?? "", o.Location?.Region ?? "", o.Location?.Zone ?? "",
                What(o), o.Version, Format.Number(hw.Vcpus), Format.Number(hw.MemoryGib), Format.Accelerators(hw.Accelerators),
                Format.Money(o.Price?.OnDemandHourly), Format.Money(o.Price?.SpotHourly), Format.Load(o.Load), Format.Availability(o.Availability));
        }
        foreach (var column in table.Columns.Skip(7).Take(7)) column.RightAligned();
        return table;
    }

    /// <summary>A service instance's service (and the machine under it, if known); a compute offering's instance type.</summary>
    private static string What(Offer offer) =>
        offer.Service.Length == 0 ? offer.InstanceType
        : offer.InstanceType.Length == 0 ? offer.Service
        : $"{offer.Service} on {offer.InstanceType}";

    private sealed record WatchFlags(string Selector, long From);

    private static Command WatchCommand()
    {
        var selector = Selector();
        var from = new Option<long>("--from")
        {
            HelpName = "REVISION",
            Description = "First revision to show: replays retained changes from there (default: only changes after the watch starts; 'sky dir query' prints a revision to continue from, + 1)",
        };
        var command = new Command("watch", "Print changes to matching offers as they happen, one line each (\"REV TYPE offer_id provider/region ...\"; --json: one WatchResponse per line), until Ctrl-C")
        {
            selector, from,
        };
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct, () =>
        {
            var start = parse.GetValue(from);
            if (start < 0) throw new FormatException("--from: must be a revision (>= 0)");
            return new WatchFlags(parse.GetValue(selector) ?? "", start);
        }, async (mesh, json, flags) =>
        {
            var client = new Sky.Directory.V1.Directory.DirectoryClient(mesh.Channel);
            using var call = client.Watch(new WatchRequest { Selector = flags.Selector, StartRevision = flags.From }, cancellationToken: ct);
            long revision = 0;
            var first = true;
            var output = StreamOutput.Open();
            try
            {
                await foreach (var response in call.ResponseStream.ReadAllAsync(ct))
                {
                    if (response.Compacted)
                    {
                        if (json) ProtoJson.WriteLine(response, output);
                        throw new CliException($"revision {flags.From} is compacted (the oldest retained is {response.CompactRevision}): "
                            + "read the current state with 'sky dir query' and watch from the revision it prints, + 1");
                    }
                    revision = response.Revision;
                    // After the first response, one without changes is a progress notification: nothing to show.
                    if (!first && response.Changes.Count == 0) continue;
                    if (first && !json)
                        Console.Error.WriteLine($"watching {(flags.Selector.Length == 0 ? "all offers" : $"offers matching '{flags.Selector}'")} (the directory is at revision {response.Revision}; Ctrl-C to stop)");
                    first = false;
                    if (json) ProtoJson.WriteLine(response, output);
                    else foreach (var change in response.Changes) output.WriteLine(ChangeLine(change));
                }
            }
            catch (RpcException ex) when (FieldCaret.Explain(ex, ("selector", flags.Selector)) is { } explained)
            {
                throw explained;
            }
            catch (Exception ex) when (ct.IsCancellationRequested && ex is RpcException or OperationCanceledException)
            {
                // Ctrl-C is how a watch is meant to end.
                return 0;
            }
            catch (IOException)
            {
                // Whoever read the output has gone (sky dir watch | head): done, as with SIGPIPE elsewhere.
                return 0;
            }
            throw new CliException($"the mesh ended the watch at revision {revision}; continue with --from {revision + 1}");
        }));
        return command;
    }

    /// <summary>"42 REGISTERED off-1 aws/us-east-1/use1-az1 compute p4d.24xlarge $32.7726/h spot $9.8/h".</summary>
    public static string ChangeLine(OfferChange change)
    {
        var o = change.Offer ?? new Offer();
        var parts = new List<string>
        {
            change.Revision.ToString(CultureInfo.InvariantCulture),
            change.Type switch
            {
                OfferChangeType.Registered => "REGISTERED",
                OfferChangeType.Updated => "UPDATED",
                OfferChangeType.Expired => "EXPIRED",
                OfferChangeType.Deregistered => "DEREGISTERED",
                _ => "UNSPECIFIED",
            },
            o.OfferId,
            Format.Location(o.Location),
            Format.Kind(o.Kind),
            What(o).Replace(' ', '_'),
        };
        if (o.Version.Length > 0) parts.Add("v" + o.Version);
        if (o.Price?.OnDemandHourly is { } price) parts.Add(Format.Money(price) + "/h");
        if (o.Price?.SpotHourly is { } spotPrice) parts.Add("spot " + Format.Money(spotPrice) + "/h");
        if (o.Load is { } load) parts.Add("load " + Format.Load(load));
        if (o.Availability is Availability.Limited or Availability.Unavailable) parts.Add(Format.Availability(o.Availability));
        if (!change.Matches && change.Type is OfferChangeType.Registered or OfferChangeType.Updated) parts.Add("(no longer matches)");
        return string.Join(' ', parts.Where(p => p.Length > 0));
    }
}
