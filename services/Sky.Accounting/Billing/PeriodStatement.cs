using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Sky.Accounting.Ledger;
using Sky.Accounting.V1;
using Sky.Common.V1;

namespace Sky.Accounting.Billing;

/// <summary>
/// The books of one period, summed from its ledger transactions in one pass: per tenant the invoice lines (provider,
/// service, region, SKU, unit, and the closed period a late line adjusts), per provider the settlement lines and the
/// peering discounts it gave, and the broker's margin. Amounts come from the ledger entries, not from the usage records,
/// so the invoices are exactly what the tenant accounts moved and the settlements exactly what the provider accounts
/// moved; memory grows with the number of distinct lines, never with the number of transactions.
/// </summary>
public sealed class PeriodStatement
{
    private readonly Dictionary<string, TenantBook> _tenants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ProviderBook> _providers = new(StringComparer.Ordinal);

    public PeriodStatement(string periodId) => PeriodId = periodId;

    public string PeriodId { get; }

    /// <summary>Transactions summed so far.</summary>
    public long Transactions { get; private set; }

    /// <summary>The broker's margin for the period, in nanos.</summary>
    public long MarginNanos { get; private set; }

    public IReadOnlyCollection<string> Tenants => _tenants.Keys;

    public IReadOnlyCollection<string> Providers => _providers.Keys;

    /// <summary>Sums every transaction of the period (only those posted to <see cref="PeriodId"/> count).</summary>
    public static async Task<PeriodStatement> ReadAsync(ILedger ledger, string periodId, CancellationToken ct, string? tenant = null)
    {
        var statement = new PeriodStatement(periodId);
        if (tenant is null)
        {
            await foreach (var tx in ledger.ReadPeriodAsync(periodId, ct)) statement.Add(tx);
            return statement;
        }
        // One tenant (a draft invoice): walk its own index of the period, a page at a time.
        string? token = null;
        do
        {
            var page = await ledger.QueryAsync(new LedgerQuery { TenantId = tenant, PeriodId = periodId, PageSize = LedgerQuery.MaxPageSize, PageToken = token }, ct);
            foreach (var tx in page.Transactions) statement.Add(tx);
            token = page.NextPageToken;
        } while (token is not null);
        return statement;
    }

    /// <summary>Adds one transaction of the period.</summary>
    public void Add(LedgerTransaction tx)
    {
        if (tx.PeriodId != PeriodId) return;
        Transactions++;
        var u = tx.Usage;
        // A correction or credit moves money but used nothing more: its quantity is not counted again.
        var quantity = tx.Corrects is null && decimal.TryParse(u.Quantity, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var q) ? q : 0m;
        var region = u.Location is null ? "" : u.Location.Region;
        foreach (var e in tx.Entries)
        {
            if (e.Account == LedgerAccounts.BrokerMargin) MarginNanos += e.AmountNanos;
            else if (u.TenantId.Length > 0 && e.Account == LedgerAccounts.Tenant(u.TenantId))
            {
                if (!_tenants.TryGetValue(u.TenantId, out var book)) _tenants[u.TenantId] = book = new TenantBook();
                var key = new InvoiceKey(u.Provider, u.Service, region, u.Sku, u.Unit, u.AdjustsPeriodId);
                var line = book.Lines.TryGetValue(key, out var l) ? l : default;
                book.Lines[key] = new Sum(line.Quantity + quantity, line.Nanos - e.AmountNanos);
                book.TotalNanos -= e.AmountNanos;
            }
            else if (u.Provider.Length > 0 && e.Account == LedgerAccounts.Provider(u.Provider))
            {
                var book = Provider(u.Provider);
                var key = new SettlementKey(u.Service, region, u.Sku, u.Unit);
                var line = book.Lines.TryGetValue(key, out var l) ? l : default;
                book.Lines[key] = new Sum(line.Quantity + quantity, line.Nanos + e.AmountNanos);
                book.GrossNanos += e.AmountNanos;
            }
            else if (e.Account.StartsWith("peering:", StringComparison.Ordinal) && u.Provider.Length > 0)
            {
                var book = Provider(u.Provider);
                var agreement = u.PeeringAgreementId.Length > 0 ? u.PeeringAgreementId : e.Account["peering:".Length..e.Account.LastIndexOf(':')];
                var key = new PeeringKey(agreement, u.Destination?.Provider ?? "");
                var line = book.Peering.TryGetValue(key, out var l) ? l : default;
                book.Peering[key] = new PeeringSum(line.Bytes + Bytes(quantity, u.Unit), line.Nanos - e.AmountNanos);
                book.PeeringNanos -= e.AmountNanos;
            }
        }
    }

    /// <summary>The tenant's invoice for the period (lines sorted by provider, service, region, SKU).</summary>
    public Invoice Invoice(string tenant, BillingPeriod period, InvoiceStatus status, DateTimeOffset? issuedAt)
    {
        var invoice = new Invoice
        {
            InvoiceId = InvoiceIds.For(PeriodId, tenant),
            TenantId = tenant,
            Period = period,
            Status = status,
            Total = Usd(0),
        };
        if (issuedAt is { } at) invoice.IssuedAt = Timestamp.FromDateTimeOffset(at);
        if (!_tenants.TryGetValue(tenant, out var book)) return invoice;
        foreach (var (key, sum) in book.Lines.OrderBy(l => l.Key))
            invoice.Lines.Add(new InvoiceLine
            {
                Provider = key.Provider,
                Service = key.Service,
                Location = new Location { Provider = key.Provider, Region = key.Region },
                Sku = key.Sku,
                Quantity = Text(sum.Quantity),
                Unit = key.Unit,
                Amount = Usd(sum.Nanos),
                AdjustsPeriodId = key.AdjustsPeriodId,
            });
        invoice.Total = Usd(book.TotalNanos);
        return invoice;
    }

    /// <summary>What the broker owes the provider for the period.</summary>
    public Settlement Settlement(string provider, BillingPeriod period, DateTimeOffset issuedAt)
    {
        var book = _providers.GetValueOrDefault(provider) ?? new ProviderBook();
        var settlement = new Settlement
        {
            SettlementId = SettlementIds.For(PeriodId, provider),
            Provider = provider,
            Period = period,
            Gross = Usd(book.GrossNanos),
            PeeringDiscount = Usd(book.PeeringNanos),
            Total = Usd(book.GrossNanos - book.PeeringNanos),
            IssuedAt = Timestamp.FromDateTimeOffset(issuedAt),
        };
        foreach (var (key, sum) in book.Lines.OrderBy(l => l.Key))
            settlement.Lines.Add(new SettlementLine
            {
                Service = key.Service,
                Location = new Location { Provider = provider, Region = key.Region },
                Sku = key.Sku,
                Quantity = Text(sum.Quantity),
                Unit = key.Unit,
                Amount = Usd(sum.Nanos),
            });
        foreach (var (key, sum) in book.Peering.OrderBy(l => l.Key))
            settlement.PeeringLines.Add(new PeeringSettlementLine { AgreementId = key.AgreementId, PeerProvider = key.Peer, Bytes = sum.Bytes, Discount = Usd(sum.Nanos) });
        return settlement;
    }

    /// <summary>Sum of every tenant's total, in nanos.</summary>
    public long InvoicedNanos => _tenants.Values.Sum(t => t.TotalNanos);

    /// <summary>Sum of every provider's settlement total, in nanos.</summary>
    public long SettledNanos => _providers.Values.Sum(p => p.GrossNanos - p.PeeringNanos);

    private ProviderBook Provider(string provider)
    {
        if (!_providers.TryGetValue(provider, out var book)) _providers[provider] = book = new ProviderBook();
        return book;
    }

    private static long Bytes(decimal quantity, string unit) => unit switch
    {
        "byte" => decimal.ToInt64(quantity),
        "gb" => decimal.ToInt64(quantity * 1_000_000_000m),
        "gib" => decimal.ToInt64(quantity * 1_073_741_824m),
        _ => 0,
    };

    /// <summary>A quantity as the contract writes it: invariant, no exponent, no trailing zeros.</summary>
    internal static string Text(decimal quantity) => (quantity / 1.000000000000000000000000000000000m).ToString(CultureInfo.InvariantCulture);

    internal static Money Usd(long nanos) => new() { CurrencyCode = "USD", Units = nanos / 1_000_000_000, Nanos = (int)(nanos % 1_000_000_000) };

    private readonly record struct Sum(decimal Quantity, long Nanos);
    private readonly record struct PeeringSum(long Bytes, long Nanos);

    private readonly record struct InvoiceKey(string Provider, string Service, string Region, string Sku, string Unit, string AdjustsPeriodId) : IComparable<InvoiceKey>
    {
        public int CompareTo(InvoiceKey o) => string.CompareOrdinal(Joined, o.Joined);
        private string Joined => string.Join('\0', AdjustsPeriodId, Provider, Service, Region, Sku, Unit);
    }

    private readonly record struct SettlementKey(string Service, string Region, string Sku, string Unit) : IComparable<SettlementKey>
    {
        public int CompareTo(SettlementKey o) => string.CompareOrdinal(string.Join('\0', Service, Region, Sku, Unit), string.Join('\0', o.Service, o.Region, o.Sku, o.Unit));
    }

    private readonly record struct PeeringKey(string AgreementId, string Peer) : IComparable<PeeringKey>
    {
        public int CompareTo(PeeringKey o) => string.CompareOrdinal(AgreementId + "\0" + Peer, o.AgreementId + "\0" + o.Peer);
    }

    private sealed class TenantBook
    {
        public Dictionary<InvoiceKey, Sum> Lines { get; } = [];
        public long TotalNanos { get; set; }
    }

    private sealed class ProviderBook
    {
        public Dictionary<SettlementKey, Sum> Lines { get; } = [];
        public Dictionary<PeeringKey, PeeringSum> Peering { get; } = [];
        public long GrossNanos { get; set; }
        public long PeeringNanos { get; set; }
    }
}
