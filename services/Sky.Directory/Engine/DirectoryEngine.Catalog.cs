using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Sky.Common.V1;
using Sky.Directory.Catalog;
using Sky.Directory.Domain;
using Sky.Directory.Store;
using Sky.Directory.V1;
using Sky.Events.V1;
using Sky.Hosting.Errors;
using Sky.Hosting.Events;
using Sky.Hosting.Identity;
using Sky.Hosting.Store;

namespace Sky.Directory.Engine;

public sealed partial class DirectoryEngine
{
    private const int CommitChunk = 5000;
    private const int EventPart = 1000;

    /// <summary>
    /// Loads one SkyPilot vms.csv as compute offerings without leases. Unchanged rows are not written
    /// again (no revision, no watch noise); <paramref name="replace"/> also removes the provider's offers
    /// of this origin that the file no longer lists. Commits in chunks, so a 50k-row file never holds
    /// the log for long; the response's revision is the last chunk's.
    /// </summary>
    public async Task<ImportCatalogResponse> ImportCatalogAsync(string provider, TextReader csv, bool replace, string origin, CancellationToken ct)
    {
        EnsureReady();
        if (!SkyPilotCatalog.Providers.Contains(provider))
            throw RpcErrors.InvalidArgument("provider", $"must be one of {string.Join(", ", SkyPilotCatalog.Providers.Order())}");
        CatalogReadResult read;
        try { read = SkyPilotCatalog.Read(csv, provider); }
        catch (ArgumentException ex) { throw RpcErrors.InvalidArgument("csv", ex.Message); }
        var response = new ImportCatalogResponse { RowsSkipped = read.RowsSkipped };
        response.Issues.AddRange(read.Issues.Take(100).Select(i => new ImportIssue { Line = i.Line, Message = i.Message }));
        await ApplyCatalogAsync(provider, read.Offers, replace, origin, response, ct);
        return response;
    }

    private async Task ApplyCatalogAsync(string provider, IReadOnlyList<Offer> offers, bool replace, string origin, ImportCatalogResponse response, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var writes = new List<LogWrite>();
        var keep = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in offers)
        {
            Offer clean;
            try { clean = OfferValidation.Validate(raw, options.Currency); }
            catch (Grpc.Core.RpcException ex)
            {
                response.RowsSkipped++;
                if (response.Issues.Count < 100) response.Issues.Add(new ImportIssue { Message = $"{raw.Key}: {ex.Status.Detail}" });
                continue;
            }
            if (clean.Location.Provider != provider)
                throw RpcErrors.InvalidArgument("provider", $"offer {clean.Key} is of provider '{clean.Location.Provider}'");
            var id = OfferIds.For(provider, clean.Key);
            if (!keep.Add(id)) continue;
            var current = Get(id)?.Offer;
            if (current is not null && current.Origin == origin && SameContent(current, clean)) continue;
            var type = current is null ? OfferChangeType.Registered : OfferChangeType.Updated;
            writes.Add(new LogWrite(type, id, Stamp(clean, id, origin, current, now), -1));
            if (type == OfferChangeType.Registered) response.OffersAdded++; else response.OffersUpdated++;
        }
        if (replace)
        {
            List<string> stale;
            _lock.EnterReadLock();
            try
            {
                stale = [.. _index.All.Where(v => v.Offer.Origin == origin && v.Offer.Location.Provider == provider && !keep.Contains(v.OfferId)).Select(v => v.OfferId)];
            }
            finally { _lock.ExitReadLock(); }
            writes.AddRange(stale.Select(id => new LogWrite(OfferChangeType.Deregistered, id, null, -1)));
            response.OffersRemoved = stale.Count;
        }

        // The import is announced once, with the last commit (an import that fails part way is not announced; run
        // again, it skips what is already stored). An import that changes nothing commits nothing and is announced as is.
        response.Revision = Revision;
        var chunks = writes.Chunk(CommitChunk).ToList();
        var imported = new DirectoryCatalogImported
        {
            Provider = provider, OffersAdded = response.OffersAdded, OffersUpdated = response.OffersUpdated,
            OffersRemoved = response.OffersRemoved, Revision = response.Revision, Time = Now(),
        };
        var announce = outbox.Prepare(Topics.Directory, "directory.catalog.imported", imported, provider,
            revisionOf: chunks.Count == 0 ? -1 : chunks[^1].Length - 1);
        if (chunks.Count == 0) await outbox.DeliverAsync([announce], 0, []);
        for (var i = 0; i < chunks.Count; i++)
        {
            var last = i == chunks.Count - 1;
            var result = await log.CommitAsync(chunks[i], last ? [announce] : [], ct);
            response.Revision = result.LastRevision;
            if (last) await outbox.DeliverAsync([announce], result.FirstRevision, result.Outbox);
        }
    }

    /// <summary>True when the client-set fields agree (output-only fields and origin aside).</summary>
    private static bool SameContent(Offer stored, Offer clean)
    {
        var a = stored.Clone();
        a.OfferId = ""; a.LeaseId = ""; a.LeaseExpiresAt = null; a.Origin = ""; a.Revision = 0; a.CreatedAt = null; a.UpdatedAt = null;
        return a.Equals(clean);
    }

    /// <summary>The built-in catalog (a few dozen real instance types per cloud) and its egress prices.</summary>
    private async Task SeedBuiltinAsync(CancellationToken ct)
    {
        foreach (var group in BuiltinCatalog.Offers.GroupBy(o => o.Location.Provider))
            await ApplyCatalogAsync(group.Key, [.. group], replace: false, "builtin", new ImportCatalogResponse(), ct);
        var operatorPrincipal = new Principal(PrincipalKind.Operator, "", "builtin");
        var egress = new PutEgressPriceGridRequest();
        egress.Entries.AddRange(BuiltinCatalog.EgressPrices);
        await PutEgressPriceGridAsync(egress, operatorPrincipal, ct);
    }

    // ---- network grids -------------------------------------------------------------------------

    /// <summary>Writes egress prices; providers may write only entries leaving their own regions.</summary>
    public async Task<PutEgressPriceGridResponse> PutEgressPriceGridAsync(PutEgressPriceGridRequest request, Principal caller, CancellationToken ct)
    {
        EnsureReady();
        if (request.Entries.Count > 10_000) throw RpcErrors.InvalidArgument("entries", "at most 10,000 per call");
        var entries = new List<GridEntry>(request.Entries.Count);
        for (var i = 0; i < request.Entries.Count; i++)
        {
            var e = request.Entries[i];
            var field = $"entries[{i}]";
            RequireRegion(e.Src, field + ".src");
            if (e.Dst is null || e.Dst.Provider.Length == 0) throw RpcErrors.InvalidArgument(field + ".dst.provider", "required");
            if (e.Tiers.Count == 0) throw RpcErrors.InvalidArgument(field + ".tiers", "at least one tier");
            for (var t = 0; t < e.Tiers.Count; t++)
            {
                var tier = e.Tiers[t];
                var last = t == e.Tiers.Count - 1;
                // Every volume must have a price, so the last tier is unbounded (0), and only the last.
                if (tier.UpToGb < 0 || (last != (tier.UpToGb == 0)) || (t > 0 && !last && tier.UpToGb <= e.Tiers[t - 1].UpToGb))
                    throw RpcErrors.InvalidArgument($"{field}.tiers[{t}].up_to_gb", "tiers ascend and the last one, only, is 0 (no bound)");
                CheckPrice(tier.PricePerGb, $"{field}.tiers[{t}].price_per_gb");
            }
            if (!caller.ActsForProvider(e.Src.Provider))
                throw RpcErrors.PermissionDenied($"{caller} may not write egress prices from provider '{e.Src.Provider}'");
            var entry = e.Clone();
            entry.Src.Zone = "";
            entry.Dst.Zone = "";
            entries.Add(new GridEntry(GridKey(entry.Src, entry.Dst), entry.Src.Provider, entry.ToByteArray()));
        }
        var (removed, revision) = await WriteGridAsync(GridKind.Egress, request.Entries, e => e.Src.Provider, entries, request.Replace,
            "directory.grid.egress.updated", (list, replaced, rev, part, parts) => new DirectoryEgressPriceGridUpdated
            {
                Entries = { list }, ReplacedProviders = { replaced }, Revision = rev, Part = part, Parts = parts, Time = Now(),
            }, ct);
        return new PutEgressPriceGridResponse { EntriesWritten = entries.Count, EntriesRemoved = removed, Revision = revision };
    }

    /// <summary>Writes throughput measurements (operator only, by the access rule).</summary>
    public async Task<PutThroughputGridResponse> PutThroughputGridAsync(PutThroughputGridRequest request, CancellationToken ct)
    {
        EnsureReady();
        if (request.Entries.Count > 10_000) throw RpcErrors.InvalidArgument("entries", "at most 10,000 per call");
        var entries = new List<GridEntry>(request.Entries.Count);
        for (var i = 0; i < request.Entries.Count; i++)
        {
            var e = request.Entries[i];
            var field = $"entries[{i}]";
            RequireRegion(e.Src, field + ".src");
            RequireRegion(e.Dst, field + ".dst");
            if (e.BitsPerSecond <= 0) throw RpcErrors.InvalidArgument(field + ".bits_per_second", "must be > 0");
            if (e.Connections < 0) throw RpcErrors.InvalidArgument(field + ".connections", "must be >= 0");
            entries.Add(new GridEntry(GridKey(e.Src, e.Dst), e.Src.Provider, e.ToByteArray()));
        }
        var (removed, revision) = await WriteGridAsync(GridKind.Throughput, request.Entries, e => e.Src.Provider, entries, request.Replace,
            "directory.grid.throughput.updated", (list, replaced, rev, part, parts) => new DirectoryThroughputGridUpdated
            {
                Entries = { list }, ReplacedProviders = { replaced }, Revision = rev, Part = part, Parts = parts, Time = Now(),
            }, ct);
        return new PutThroughputGridResponse { EntriesWritten = entries.Count, EntriesRemoved = removed, Revision = revision };
    }

    public async Task<GetEgressPriceGridResponse> GetEgressPriceGridAsync(GetEgressPriceGridRequest request, CancellationToken ct)
    {
        var (items, page, revision) = await GridPageAsync(GridKind.Egress, EgressPrice.Parser, e => (e.Src, e.Dst), request.Src, request.Dst, request.Page, ct);
        return new GetEgressPriceGridResponse { Entries = { items }, Page = page, Revision = revision };
    }

    public async Task<GetThroughputGridResponse> GetThroughputGridAsync(GetThroughputGridRequest request, CancellationToken ct)
    {
        var (items, page, revision) = await GridPageAsync(GridKind.Throughput, Throughput.Parser, e => (e.Src, e.Dst), request.Src, request.Dst, request.Page, ct);
        return new GetThroughputGridResponse { Entries = { items }, Page = page, Revision = revision };
    }

    /// <summary>
    /// Writes validated grid entries under a new revision (first removing those of the written entries' source
    /// providers when <paramref name="replace"/>), then publishes the write in parts of at most 1,000 entries.
    /// </summary>
    private async Task<(int Removed, long Revision)> WriteGridAsync<T>(GridKind kind, IReadOnlyList<T> messages, Func<T, string> srcProvider,
        IReadOnlyList<GridEntry> entries, bool replace, string eventType,
        Func<IEnumerable<T>, IEnumerable<string>, long, int, int, IMessage> buildEvent, CancellationToken ct)
    {
        IReadOnlySet<string> replaced = replace ? messages.Select(srcProvider).ToHashSet(StringComparer.Ordinal) : new HashSet<string>();
        var parts = messages.Chunk(EventPart).ToList();
        if (parts.Count == 0) parts.Add([]);
        // Every part travels with the write and carries its revision; the subject names the grid.
        var subject = kind.ToString().ToLowerInvariant();
        var announce = parts.Select((part, i) => outbox.Prepare(Topics.Directory, eventType,
            buildEvent(part, replaced.Order(), 0, i + 1, parts.Count), subject, revisionOf: 0)).ToList();
        var (removed, commit) = await log.PutGridAsync(kind, entries, replaced, announce, ct);
        await outbox.DeliverAsync(announce, commit.FirstRevision, commit.Outbox);
        return (removed, commit.LastRevision);
    }

    /// <summary>One page of a grid's entries whose ends match the filters, with the grid's revision.</summary>
    private async Task<(IReadOnlyList<T> Items, Sky.Common.V1.PageResponse Page, long Revision)> GridPageAsync<T>(GridKind kind, MessageParser<T> parser,
        Func<T, (Location Src, Location Dst)> ends, Location? src, Location? dst, Sky.Common.V1.PageRequest? page, CancellationToken ct) where T : IMessage<T>
    {
        EnsureReady();
        var (all, revision) = await GridAsync(kind, parser, ct);
        var matching = all.Where(e => ends(e) is var (s, d) && Matches(src, s) && Matches(dst, d)).ToList();
        var (items, next) = Paging.Slice(matching, page);
        return (items, next, revision);
    }

    /// <summary>A grid decoded and ordered by (src, dst), cached until the grid's revision moves.</summary>
    private async Task<(IReadOnlyList<T> Entries, long Revision)> GridAsync<T>(GridKind kind, MessageParser<T> parser, CancellationToken ct) where T : IMessage<T>
    {
        var (stored, revision) = await log.ReadGridAsync(kind, ct);
        lock (_gridCache)
            if (_gridCache.TryGetValue(kind, out var cached) && cached.Revision == revision)
                return (cached.Entries.Cast<T>().ToList(), revision);
        var decoded = stored.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => parser.ParseFrom(e.Data)).ToList();
        lock (_gridCache) _gridCache[kind] = (revision, decoded.Cast<IMessage>().ToList());
        return (decoded, revision);
    }

    private static string GridKey(Location src, Location dst) => $"{src.Provider}/{src.Region}>{dst.Provider}/{dst.Region}";

    private static bool Matches(Location? filter, Location? value) =>
        filter is null || ((filter.Provider.Length == 0 || filter.Provider == value?.Provider) &&
                           (filter.Region.Length == 0 || filter.Region == value?.Region) &&
                           (filter.Zone.Length == 0 || filter.Zone == value?.Zone));

    private static void RequireRegion(Location? location, string field)
    {
        if (location is null || location.Provider.Length == 0) throw RpcErrors.InvalidArgument(field + ".provider", "required");
        if (location.Region.Length == 0) throw RpcErrors.InvalidArgument(field + ".region", "required");
    }

    private void CheckPrice(Money? money, string field)
    {
        if (money is null) throw RpcErrors.InvalidArgument(field, "required");
        if (money.CurrencyCode != options.Currency) throw RpcErrors.InvalidArgument(field + ".currency_code", $"the directory's currency is {options.Currency}");
        if (!money.IsWellFormed() || money.ToDecimal() < 0) throw RpcErrors.InvalidArgument(field, "must be a well-formed, non-negative amount");
    }
}
