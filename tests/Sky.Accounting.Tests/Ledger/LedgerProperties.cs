using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using Sky.Accounting.Billing;
using Sky.Accounting.Ledger;
using static Sky.Accounting.Tests.Ledger.LedgerSamples;

namespace Sky.Accounting.Tests.Ledger;

/// <summary>
/// Properties over random workloads (FsCheck): whatever is delivered, however often, and however periods close in
/// between, every key posts once, the ledger sums to exactly zero, and a period's statement adds up to its entries.
/// </summary>
public sealed class LedgerProperties
{
    /// <summary>One delivery: which record (keys repeat: a re-delivery), its amounts, tenant, provider, and whether a close of its period precedes it.</summary>
    public sealed record Delivery(byte Key, uint List, ushort Margin, bool OtherTenant, bool OtherProvider, bool CloseFirst, bool Reverse);

    [Property(MaxTest = 200)]
    public Property Every_key_posts_once_and_the_ledger_sums_to_zero(Delivery[] deliveries)
    {
        var ledger = new MemoryLedger(new FakeTimeProvider(Now));
        var posted = new Dictionary<string, LedgerTransaction>(StringComparer.Ordinal);
        var closed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in deliveries)
        {
            var period = d.Key % 2 == 0 ? "2026-01" : "2026-02";
            if (d.CloseFirst && closed.Add(period)) ledger.ClosePeriodAsync(period, default).GetAwaiter().GetResult();
            var key = $"k-{d.Key}";
            var tx = Charge(key, period, d.OtherTenant ? "globex" : "acme", d.OtherProvider ? "gcp" : "aws", d.List, d.Margin);
            var result = ledger.PostAsync([tx], default).GetAwaiter().GetResult()[0];
            if (result.Outcome == PostOutcome.Posted) posted.Add(key, tx);
            else if (result.Outcome == PostOutcome.Duplicate && !posted.ContainsKey(key)) return false.Label($"{key} called a duplicate before it was posted");
            else if (result.Outcome == PostOutcome.PeriodClosed && !closed.Contains(period)) return false.Label($"{key} refused for an open period");
            if (d.Reverse && result.Outcome == PostOutcome.Posted && !closed.Contains(period))
                ledger.PostAsync([Reversal("rev-" + key, tx)], default).GetAwaiter().GetResult();
        }
        var balances = ledger.BalancesAsync(default).GetAwaiter().GetResult();
        var statement = PeriodStatement.ReadAsync(ledger, "2026-01", default).GetAwaiter().GetResult();
        var tenantMovement = -balances.Where(b => b.Key.StartsWith("tenant:", StringComparison.Ordinal)).Sum(b => b.Value);
        var february = PeriodStatement.ReadAsync(ledger, "2026-02", default).GetAwaiter().GetResult();
        return (balances.Values.Sum() == 0).Label("the ledger sums to zero")
            .And((statement.InvoicedNanos + february.InvoicedNanos == tenantMovement).Label("invoices add up to the tenants' accounts"))
            .And((statement.InvoicedNanos == statement.SettledNanos + statement.MarginNanos).Label("invoiced = settled + margin"))
            .And((Stored(ledger).SequenceEqual(posted.Keys.Order(StringComparer.Ordinal))).Label("the ledger holds each posted key once"));
    }

    private static IEnumerable<string> Stored(ILedger ledger)
    {
        var keys = new List<string>();
        var all = ledger.ReadFromAsync(0, default).GetAsyncEnumerator();
        while (all.MoveNextAsync().AsTask().GetAwaiter().GetResult())
            if (all.Current.Corrects is null) keys.Add(all.Current.IdempotencyKey);
        return keys.Order(StringComparer.Ordinal);
    }
}
