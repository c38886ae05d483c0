using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.Billing;
using Sky.Accounting.Focus;
using Sky.Accounting.Ledger;
using Sky.Accounting.V1;
using Sky.Hosting.Options;
using Sky.Host;

namespace Sky.Bench;

/// <summary>
/// Issue #7's figures. `accounting`: usage ingest in memory (1,000,000 distinct records, 30 % delivered twice: exactly
/// 1,000,000 postings and a ledger that sums to zero), closing that period through the service (time, peak managed heap
/// above the filled ledger), and ingest on Redis with AOF everysec beside redis-benchmark SET. `focus-export`: a FOCUS 1.2
/// export of 1,000,000 rows of one tenant. Record counts: SKY_BENCH_LEDGER_RECORDS, SKY_BENCH_REDIS_RECORDS, SKY_BENCH_FOCUS_ROWS.
/// </summary>
public static class AccountingBench
{
    private const string Period = "2026-01";

    public static async Task RunAsync(Figures figures, TimeSpan duration)
    {
        var records = Count("SKY_BENCH_LEDGER_RECORDS", 1_000_000);
        await using (var host = await MeshHost.StartEmbeddedAsync(new MeshOptions { Services = MeshOptionParsing.ParseServices("accounting") }))
        {
            var ledger = host.Services.GetRequiredService<ILedger>();
            var load = await LedgerLoad.RunAsync(ledger, records, batch: 1000, concurrency: 2, duplicateFraction: 0.3, periodId: Period);
            var balances = await ledger.BalancesAsync(CancellationToken.None);
            figures.Add("memory_records", load.Records, 0);
            figures.Add("memory_deliveries", load.Deliveries, 0);
            figures.Add("memory_posted", load.Posted, 0);
            figures.Add("memory_duplicates", load.Duplicates, 0);
            figures.Add("memory_ledger_sum_nanos", balances.Values.Sum(), 0);
            figures.Add("memory_ingest_seconds", load.Elapsed.TotalSeconds, 2);
            figures.Add("memory_ingest_deliveries_per_s", load.RecordsPerSecond, 0);

            // Close the period through the service: sums the frozen period and issues every invoice and settlement.
            var periods = host.Services.GetRequiredService<BillingPeriods>();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            var baseline = GC.GetTotalMemory(forceFullCollection: false);
            long peak = baseline;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    peak = Math.Max(peak, GC.GetTotalMemory(false));
                    try { await Task.Delay(5, sampling.Token); } catch (OperationCanceledException) { }
                }
            });
            var clock = Stopwatch.StartNew();
            var closed = await periods.CloseAsync(new CloseBillingPeriodRequest { PeriodId = Period }, CancellationToken.None);
            clock.Stop();
            await sampling.CancelAsync();
            await sampler;
            figures.Add("close_records", load.Posted, 0);
            figures.Add("close_seconds", clock.Elapsed.TotalSeconds, 2);
            figures.Add("close_records_per_s", load.Posted / clock.Elapsed.TotalSeconds, 0);
            figures.Add("close_heap_peak_above_ledger_mb", (peak - baseline) / 1048576.0, 1);
            figures.Add("close_invoices", closed.InvoicesIssued, 0);
            figures.Add("close_settlements", closed.SettlementsIssued, 0);
            figures.Add("close_invoiced_usd", closed.InvoicedTotal.ToDecimal().ToString(System.Globalization.CultureInfo.InvariantCulture));
            figures.Add("close_invoiced_equals_settled_plus_margin",
                (closed.InvoicedTotal.ToDecimal() == closed.SettledTotal.ToDecimal() + closed.BrokerMargin.ToDecimal()).ToString());
            figures.Add("process_peak_working_set_mb", Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, 0);
        }

        var redisRecords = Count("SKY_BENCH_REDIS_RECORDS", 200_000);
        await using var redis = await BenchRedis.StartAsync();
        figures.Add("redis_benchmark_set_per_s", await redis.BenchmarkSetAsync(pipeline: 1), 0);
        await using (var host = await MeshHost.StartEmbeddedAsync(new MeshOptions
        {
            Services = MeshOptionParsing.ParseServices("accounting"),
            Store = StoreLocation.Parse(redis.Uri),
        }))
        {
            var ledger = host.Services.GetRequiredService<ILedger>();
            var load = await LedgerLoad.RunAsync(ledger, redisRecords, batch: 1000, concurrency: 4, duplicateFraction: 0.3, periodId: Period);
            figures.Add("redis_records", load.Records, 0);
            figures.Add("redis_posted", load.Posted, 0);
            figures.Add("redis_ingest_deliveries_per_s", load.RecordsPerSecond, 0);
        }
        figures.Add("cores", Environment.ProcessorCount, 0);
    }

    public static async Task FocusAsync(Figures figures, TimeSpan duration)
    {
        var result = await FocusLoad.RunAsync(Count("SKY_BENCH_FOCUS_ROWS", 1_000_000));
        figures.Add("focus_rows", result.Rows, 0);
        figures.Add("focus_export_seconds", result.Export.TotalSeconds, 2);
        figures.Add("focus_rows_per_second", result.RowsPerSecond, 0);
        figures.Add("focus_export_cpu_seconds", result.ExportCpu.TotalSeconds, 2);
        figures.Add("focus_rows_per_cpu_second", result.RowsPerCpuSecond, 0);
        figures.Add("focus_csv_mb", result.Bytes / 1048576.0, 1);
        figures.Add("focus_export_heap_peak_mb", result.ExportHeapPeakBytes / 1048576.0, 1);
        figures.Add("focus_export_allocated_mb", result.ExportAllocatedBytes / 1048576.0, 1);
        figures.Add("focus_process_peak_working_set_mb", result.ProcessPeakWorkingSetBytes / 1048576.0, 0);
        figures.Add("focus_ledger_fill_seconds", result.Fill.TotalSeconds, 2);
        figures.Add("focus_billed_cost_usd", result.BilledCost);
        figures.Add("cores", Environment.ProcessorCount, 0);
    }

    private static int Count(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), out var n) && n > 0 ? n : fallback;
}
