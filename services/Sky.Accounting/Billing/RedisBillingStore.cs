using Google.Protobuf;
using Sky.Accounting.V1;
using Sky.Hosting.Events;
using Sky.Hosting.Options;
using StackExchange.Redis;

namespace Sky.Accounting.Billing;

/// <summary>
/// The billing store in Redis. A close is one Lua script: the summary (HSETNX, so a second close writes nothing), the
/// invoices and settlements with their index sets, the tenants' journal entries and the outbox entries of their
/// <c>billing.invoice.issued</c> events. Journalling usage is one script too, guarded by the checkpoint. Each tenant's
/// journal is a stream trimmed by MINID to <see cref="IBillingStore.JournalRetention"/>.
///
/// Keys under <c>&lt;prefix&gt;billing:</c>: <c>close</c> (hash period -> summary), <c>invoice</c> and <c>invoice-head</c>
/// (hash id -> invoice, and without lines), <c>settlement</c> (hash), <c>ix:...</c> (sets of ids per tenant, provider,
/// period, and all), <c>checkpoint</c>, <c>journal:&lt;tenant&gt;</c> (stream: i = event id, b = StreamBillingResponse).
/// </summary>
public sealed class RedisBillingStore(IConnectionMultiplexer redis, TimeProvider time, string prefix = "sky:accounting:") : IBillingStore
{
    private readonly string _p = prefix + "billing:";
    private RedisKey Close => _p + "close";
    private RedisKey InvoiceKey => _p + "invoice";
    private RedisKey InvoiceHead => _p + "invoice-head";
    private RedisKey SettlementKey => _p + "settlement";
    private RedisKey Checkpoint => _p + "checkpoint";
    private static readonly RedisKey Outbox = EventOutbox.Key(MeshService.Accounting.Name);
    private string Ix(string kind, string name) => _p + "ix:" + kind + ":" + name;
    private string JournalKey(string tenant) => _p + "journal:" + tenant;

    private IDatabase Db => redis.GetDatabase();

    // A journal append: ARGV from j: count, then count x (stream key, event id, body); MINID trims what is older than retention.
    private const string JournalLua = """

        local function journal(j, minid)
          local n = tonumber(ARGV[j])
          for k = 0, n - 1 do
            local b = j + 1 + k * 3
            redis.call('XADD', ARGV[b], 'MINID', '~', minid, '*', 'i', ARGV[b + 1], 'b', ARGV[b + 2])
          end
          return j + 1 + n * 3
        end

        """;

    // KEYS: close, invoice, invoice-head, settlement, outbox. ARGV: period, summary, minid, n invoices x (id, body, head,
    // ix tenant, ix period, ix all), m settlements x (id, body, ix provider, ix period, ix all), journal, outbox count, events.
    private const string IssueScript = EventOutbox.LuaAppend + JournalLua + """
        if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return {} end
        local p = 4
        local n = tonumber(ARGV[p])
        p = p + 1
        for i = 1, n do
          redis.call('HSET', KEYS[2], ARGV[p], ARGV[p + 1])
          redis.call('HSET', KEYS[3], ARGV[p], ARGV[p + 2])
          for x = p + 3, p + 5 do redis.call('SADD', ARGV[x], ARGV[p]) end
          p = p + 6
        end
        local m = tonumber(ARGV[p])
        p = p + 1
        for i = 1, m do
          redis.call('HSET', KEYS[4], ARGV[p], ARGV[p + 1])
          for x = p + 2, p + 4 do redis.call('SADD', ARGV[x], ARGV[p]) end
          p = p + 5
        end
        p = journal(p, ARGV[3])
        local ids = sky_outbox(KEYS[5], 0, p + 1, tonumber(ARGV[p]))
        table.insert(ids, 1, 'ok')
        return ids
        """;

    // KEYS: checkpoint, outbox. ARGV: expected, next, minid, journal, outbox count, events.
    private const string AppendScript = EventOutbox.LuaAppend + JournalLua + """
        if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then return {} end
        redis.call('SET', KEYS[1], ARGV[2])
        local p = journal(4, ARGV[3])
        local ids = sky_outbox(KEYS[2], 0, p + 1, tonumber(ARGV[p]))
        table.insert(ids, 1, 'ok')
        return ids
        """;

    public async Task<CloseBillingPeriodResponse?> GetCloseAsync(string periodId, CancellationToken ct)
    {
        var body = await Db.HashGetAsync(Close, periodId);
        return body.IsNull ? null : CloseBillingPeriodResponse.Parser.ParseFrom((byte[])body!);
    }

    public async Task<IssueResult> IssueAsync(PeriodIssue issue, CancellationToken ct)
    {
        var period = issue.Summary.Period.PeriodId;
        var args = new List<RedisValue> { period, issue.Summary.ToByteArray(), MinId(), issue.Invoices.Count };
        foreach (var invoice in issue.Invoices)
        {
            var head = invoice.Clone();
            head.Lines.Clear();
            args.AddRange([invoice.InvoiceId, invoice.ToByteArray(), head.ToByteArray(),
                Ix("inv-tenant", invoice.TenantId), Ix("inv-period", period), Ix("inv", "all")]);
        }
        args.Add(issue.Settlements.Count);
        foreach (var s in issue.Settlements)
            args.AddRange([s.SettlementId, s.ToByteArray(), Ix("stl-provider", s.Provider), Ix("stl-period", period), Ix("stl", "all")]);
        AddEvents(args, issue.Events);
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(IssueScript, [Close, InvoiceKey, InvoiceHead, SettlementKey, Outbox], [.. args]))!;
        return result.Length == 0 ? new IssueResult(false, []) : new IssueResult(true, [.. result.Skip(1).Select(r => (RedisValue)r)]);
    }

    public async Task<Invoice?> GetInvoiceAsync(string invoiceId, CancellationToken ct)
    {
        var body = await Db.HashGetAsync(InvoiceKey, invoiceId);
        return body.IsNull ? null : Invoice.Parser.ParseFrom((byte[])body!);
    }

    public async Task<IReadOnlyList<Invoice>> ListInvoicesAsync(string? tenant, string? periodId, CancellationToken ct)
    {
        var ids = await MembersAsync(tenant is not null ? Ix("inv-tenant", tenant) : periodId is not null ? Ix("inv-period", periodId) : Ix("inv", "all"));
        if (ids.Length == 0) return [];
        var bodies = await Db.HashGetAsync(InvoiceHead, ids);
        return bodies.Where(b => !b.IsNull).Select(b => Invoice.Parser.ParseFrom((byte[])b!))
            .Where(i => (tenant is null || i.TenantId == tenant) && (periodId is null || i.Period.PeriodId == periodId))
            .OrderByDescending(i => i.Period.PeriodId, StringComparer.Ordinal).ThenBy(i => i.InvoiceId, StringComparer.Ordinal).ToList();
    }

    public async Task<IReadOnlyList<Settlement>> ListSettlementsAsync(string? provider, string? periodId, CancellationToken ct)
    {
        var ids = await MembersAsync(provider is not null ? Ix("stl-provider", provider) : periodId is not null ? Ix("stl-period", periodId) : Ix("stl", "all"));
        if (ids.Length == 0) return [];
        var bodies = await Db.HashGetAsync(SettlementKey, ids);
        return bodies.Where(b => !b.IsNull).Select(b => Settlement.Parser.ParseFrom((byte[])b!))
            .Where(s => (provider is null || s.Provider == provider) && (periodId is null || s.Period.PeriodId == periodId))
            .OrderByDescending(s => s.Period.PeriodId, StringComparer.Ordinal).ThenBy(s => s.Provider, StringComparer.Ordinal).ToList();
    }

    public async Task<long> UsageCheckpointAsync(CancellationToken ct)
    {
        var value = await Db.StringGetAsync(Checkpoint);
        return value.IsNull ? 0 : (long)value;
    }

    public async Task<IssueResult?> AppendUsageAsync(long expected, long next, IReadOnlyList<BillingJournalEntry> events, CancellationToken ct)
    {
        var args = new List<RedisValue> { expected, next, MinId() };
        AddEvents(args, events);
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(AppendScript, [Checkpoint, Outbox], [.. args]))!;
        return result.Length == 0 ? null : new IssueResult(true, [.. result.Skip(1).Select(r => (RedisValue)r)]);
    }

    public async Task<JournalCursor?> FindAsync(string tenant, string eventId, CancellationToken ct)
    {
        // Newest first: a resuming client usually names an event it saw moments ago.
        RedisValue end = "+";
        while (true)
        {
            var entries = await Db.StreamRangeAsync(JournalKey(tenant), "-", end, 500, Order.Descending);
            foreach (var e in entries)
                if (e["i"] == eventId) return new JournalCursor(e.Id!);
            if (entries.Length < 500) return null;
            end = "(" + entries[^1].Id;
        }
    }

    public async Task<JournalCursor> EndAsync(string tenant, CancellationToken ct)
    {
        var last = await Db.StreamRangeAsync(JournalKey(tenant), "-", "+", 1, Order.Descending);
        return new JournalCursor(last.Length == 0 ? "0-0" : (string)last[0].Id!);
    }

    public async Task<(IReadOnlyList<StreamBillingResponse> Events, JournalCursor Next)> ReadAsync(string tenant, JournalCursor after, int max, CancellationToken ct)
    {
        var entries = await Db.StreamRangeAsync(JournalKey(tenant), "(" + after.Position, "+", max);
        if (entries.Length == 0) return ([], after);
        return (entries.Select(e => StreamBillingResponse.Parser.ParseFrom((byte[])e["b"]!)).ToList(), new JournalCursor(entries[^1].Id!));
    }

    private void AddEvents(List<RedisValue> args, IReadOnlyList<BillingJournalEntry> events)
    {
        args.Add(events.Count);
        foreach (var e in events) args.AddRange([JournalKey(e.Tenant), e.Event.EventId, e.Event.ToByteArray()]);
        args.Add(events.Count);
        EventOutbox.AppendArguments(args, [.. events.Select(e => e.Published)]);
    }

    private RedisValue MinId() => (time.GetUtcNow() - IBillingStore.JournalRetention).ToUnixTimeMilliseconds();

    private async Task<RedisValue[]> MembersAsync(string key) => await Db.SetMembersAsync(key);
}
