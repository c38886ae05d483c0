using System.Diagnostics;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Sky.Accounting.Billing;
using Sky.Accounting.Ledger;
using Sky.Accounting.V1;
using Sky.Common.V1;

namespace Sky.Accounting.Focus;

/// <summary>What <see cref="FocusLoad.RunAsync"/> did and how fast.</summary>
/// <param name="Rows">Data rows exported.</param>
/// <param name="Bytes">Size of the CSV file.</param>
/// <param name="Fill">Time to post the usage to the ledger (not part of the export).</param>
/// <param name="Export">Time to export.</param>
/// <param name="ExportCpu">Processor time the process used during the export (all threads, the GC's included): the
/// figure to compare when the machine is busy with other work.</param>
/// <param name="ExportHeapPeakBytes">Highest managed heap seen during the export, above the heap with the filled ledger.</param>
/// <param name="ExportAllocatedBytes">Bytes allocated by the export in all.</param>
/// <param name="ProcessPeakWorkingSetBytes">The process's peak working set, ledger included.</param>
/// <param name="BilledCost">The BilledCost total, checked against the tenant's ledger balance.</param>
public sealed record FocusLoadResult(long Rows, long Bytes, TimeSpan Fill, TimeSpan Export, TimeSpan ExportCpu, long ExportHeapPeakBytes,
    long ExportAllocatedBytes, long ProcessPeakWorkingSetBytes, string BilledCost)
{
    public double RowsPerSecond => Rows / Export.TotalSeconds;

    /// <summary>Rows per second of processor time.</summary>
    public double RowsPerCpuSecond => Rows / ExportCpu.TotalSeconds;
}

/// <summary>
/// A synthetic FOCUS export for bench/: one tenant's month of usage in a <see cref="MemoryLedger"/> (compute on four
/// providers, every tenth record egress, half of those under a peering discount), exported to a stream that only counts.
/// </summary>
public static class FocusLoad
{
    public const string Tenant = "tenant-0";
    public const string Period = "2026-01";
    private const int Batch = 1000;
    private static readonly string[] Providers = ["aws", "gcp", "azure", "lambda"];
    private static readonly DateTimeOffset MonthStart = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <exception cref="InvalidOperationException">The export's row count or BilledCost total does not match the ledger.</exception>
    public static async Task<FocusLoadResult> RunAsync(int rows, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        var ledger = new MemoryLedger(TimeProvider.System);
        var fill = Stopwatch.StartNew();
        var batch = new List<LedgerTransaction>(Batch);
        for (var r = 0; r < rows; r++)
        {
            batch.Add(Record(r));
            if (batch.Count == Batch || r == rows - 1)
            {
                await ledger.PostAsync(batch, ct);
                batch.Clear();
            }
        }
        fill.Stop();

        var exporter = new FocusExporter(ledger, new BillingCalendar());
        var scope = exporter.Scope(Tenant, Period);
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        await using var output = new CountingStream();
        var export = Stopwatch.StartNew();
        var summary = await exporter.WriteAsync(scope, output, ct);
        export.Stop();
        process.Refresh();
        var exportCpu = process.TotalProcessorTime - cpu;
        var exportAllocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;

        var owed = -(await ledger.BalancesAsync(ct)).GetValueOrDefault(scope.TenantAccount);
        if (summary.Rows != rows) throw new InvalidOperationException($"exported {summary.Rows} rows of {rows}");
        if (summary.BilledCostNanos != owed)
            throw new InvalidOperationException($"BilledCost sums to {summary.BilledCost}, the tenant owes {FocusFormat.Nanos(owed)}");
        return new FocusLoadResult(summary.Rows, output.Length, fill.Elapsed, export.Elapsed, exportCpu, Math.Max(0, output.HeapPeak - baseline),
            exportAllocated, process.PeakWorkingSet64, summary.BilledCost);
    }

    private static LedgerTransaction Record(int r)
    {
        var provider = Providers[r % Providers.Length];
        var region = "region-" + (r % 7).ToString(CultureInfo.InvariantCulture);
        var start = MonthStart.AddSeconds(r * 2L % (30L * 86_400));
        var egress = r % 10 == 9;
        RatedUsage usage;
        long list, discount = 0;
        if (egress)
        {
            var gb = 1 + r % 50;
            list = gb * 90_000_000L; // 0.09 per GB
            if (r % 20 == 19) discount = list / 4;
            usage = new RatedUsage
            {
                Service = "egress", Sku = "egress", Quantity = gb.ToString(CultureInfo.InvariantCulture), Unit = "gb", PriceUnit = "gb",
                UnitPrice = Usd(90_000_000), Destination = new Location { Provider = Providers[(r + 1) % Providers.Length], Region = "region-0" },
                PeeringAgreementId = discount > 0 ? "peer-" + provider : "",
                UsageStart = Timestamp.FromDateTimeOffset(start), UsageEnd = Timestamp.FromDateTimeOffset(start.AddSeconds(30)),
            };
        }
        else
        {
            var seconds = 60 + r % 3600;
            long hourly = 96_000_000 + r % 5 * 100_000_000L;
            list = (hourly * seconds + 1800) / 3600;
            usage = new RatedUsage
            {
                Service = "compute", Sku = "m5.large", OfferId = $"{provider}/{region}/m5.large",
                Quantity = seconds.ToString(CultureInfo.InvariantCulture), Unit = "second", PriceUnit = "hour", UnitPrice = Usd(hourly),
                UsageStart = Timestamp.FromDateTimeOffset(start), UsageEnd = Timestamp.FromDateTimeOffset(start.AddSeconds(seconds)),
            };
        }
        var margin = (list - discount) / 20;
        usage.TenantId = Tenant;
        usage.Provider = provider;
        usage.Location = new Location { Provider = provider, Region = region, Zone = r % 3 == 0 ? region + "a" : "" };
        usage.ListAmount = Usd(list);
        usage.PeeringDiscount = Usd(discount);
        usage.Margin = Usd(margin);
        usage.Amount = Usd(list - discount + margin);
        usage.PriceBookRevision = 1 + r / 100_000;
        usage.SubjectId = "job-" + (r / 100).ToString(CultureInfo.InvariantCulture);
        var entries = new List<LedgerEntry>(4)
        {
            new(LedgerAccounts.Tenant(Tenant), -(list - discount + margin)),
            new(LedgerAccounts.Provider(provider), list),
            new(LedgerAccounts.BrokerMargin, margin),
        };
        if (discount > 0) entries.Add(new(LedgerAccounts.Peering(usage.PeeringAgreementId, provider), -discount));
        return new LedgerTransaction
        {
            IdempotencyKey = "placement:focus-load:" + r.ToString(CultureInfo.InvariantCulture),
            PeriodId = Period,
            Entries = entries,
            Usage = usage,
        };
    }

    private static Money Usd(long nanos) => new() { CurrencyCode = "USD", Units = nanos / 1_000_000_000, Nanos = (int)(nanos % 1_000_000_000) };

    /// <summary>A write-only stream that keeps nothing: it counts bytes and samples the managed heap as the export writes.</summary>
    private sealed class CountingStream : Stream
    {
        private long _length;

        public long HeapPeak { get; private set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _length += buffer.Length;
            HeapPeak = Math.Max(HeapPeak, GC.GetTotalMemory(forceFullCollection: false));
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
