using System.Globalization;
using System.Text.RegularExpressions;
using CsvHelper;
using Sky.Common.V1;
using Sky.Directory.V1;

namespace Sky.Directory.Catalog;

/// <summary>
/// Reads Skyplane's planner grids (../shared/anchors/skyplane/SOURCE.md) as directory grid entries: cost.csv
/// (USD per GB egressed) and throughput.csv (iperf3 bits per second, 64 connections). Endpoints are written
/// "provider:region", GCP's as zones ("gcp:us-central1-a"). These are operator-supplied files, so a bad row
/// fails the whole read with a <see cref="FormatException"/> naming its line.
/// </summary>
public static partial class SkyplaneGrids
{
    private const string Premium = "PREMIUM";

    /// <summary>
    /// Reads cost.csv (<c>src,dest,src_tier,dest_tier,cost</c>: PREMIUM to PREMIUM rows only) or
    /// cost_2022-11-28.csv (<c>src,dest,cost</c>) as one flat tier per pair. GCP zones become their region
    /// (egress is priced per region); a later row for the same region pair replaces an earlier one.
    /// </summary>
    public static IReadOnlyList<EgressPrice> ReadCost(TextReader csv)
    {
        ArgumentNullException.ThrowIfNull(csv);
        using var table = Table.Open(csv, "cost", ["src", "dest", "cost"], ["src_tier", "dest_tier"]);
        if (table.Has("src_tier") != table.Has("dest_tier"))
            throw new FormatException("line 1: cost header has src_tier without dest_tier or the other way round");
        var tiered = table.Has("src_tier");

        var entries = new List<EgressPrice>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        while (table.Next())
        {
            if (tiered && !(table.IsPremium("src_tier") & table.IsPremium("dest_tier"))) continue;
            var src = table.Endpoint("src");
            var dst = table.Endpoint("dest");
            var cost = table.Decimal("cost");
            var entry = new EgressPrice
            {
                Src = new Location { Provider = src.Provider, Region = src.Region },
                Dst = new Location { Provider = dst.Provider, Region = dst.Region },
            };
            entry.Tiers.Add(new EgressTier { UpToGb = 0, PricePerGb = Money.FromDecimal(cost, "USD") });
            KeepLatest(entries, index, src, dst, entry);
        }
        return entries;
    }

    /// <summary>
    /// Reads throughput.csv (also the 2022-11-28 re-measurement, whose header spells "throughput_recieved"):
    /// PREMIUM to PREMIUM rows only, bits_per_second = throughput_sent rounded (the sender's iperf3 rate, which Skyplane's
    /// planner reads; throughput_received where a file has no throughput_sent), connections =
    /// iperf3_connections. GCP endpoints keep their zone and gain its region. Rows whose success column is
    /// False are failed measurements and are left out. A pair measured twice (61 pairs in throughput.csv)
    /// keeps the later row: both come from one run, and the later one is what the file says last.
    /// </summary>
    public static IReadOnlyList<Throughput> ReadThroughput(TextReader csv)
    {
        ArgumentNullException.ThrowIfNull(csv);
        using var table = Table.Open(csv, "throughput",
            ["src_region", "src_tier", "dst_region", "dst_tier", "iperf3_connections"], ["throughput_sent", "throughput_received", "throughput_recieved", "success"]);
        var received = table.Has("throughput_sent") ? "throughput_sent"
            : table.Has("throughput_received") ? "throughput_received"
            : table.Has("throughput_recieved") ? "throughput_recieved"
            : throw new FormatException("line 1: throughput header has no throughput_sent (or throughput_received) column");

        var entries = new List<Throughput>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        while (table.Next())
        {
            if (!(table.IsPremium("src_tier") & table.IsPremium("dst_tier"))) continue;
            if (table.Has("success") && table.Is("success", "False")) continue;
            var src = table.Endpoint("src_region");
            var dst = table.Endpoint("dst_region");
            var bits = table.Double(received);
            if (!(bits >= 0.5) || bits > long.MaxValue / 2.0)
                throw table.Error($"{received} must be a positive number of bits per second, found '{table.Text(received)}'");
            var connections = table.Int("iperf3_connections");
            if (connections < 0) throw table.Error($"iperf3_connections must be >= 0, found {connections}");
            var entry = new Throughput
            {
                Src = src,
                Dst = dst,
                BitsPerSecond = (long)Math.Round(bits, MidpointRounding.AwayFromZero),
                Connections = connections,
            };
            KeepLatest(entries, index, src, dst, entry);
        }
        return entries;
    }

    /// <summary>A pair measured or priced twice keeps its first position and its later row.</summary>
    private static void KeepLatest<T>(List<T> entries, Dictionary<string, int> index, Location src, Location dst, T entry)
    {
        var key = $"{src.Provider}/{src.Region}>{dst.Provider}/{dst.Region}";
        if (index.TryGetValue(key, out var at)) entries[at] = entry;
        else
        {
            index[key] = entries.Count;
            entries.Add(entry);
        }
    }

    /// <summary>A "provider:region" endpoint; GCP zones ("us-central1-a") become region + zone.</summary>
    internal static Location ParseEndpoint(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == text.Length - 1) throw new FormatException($"'{text}' is not provider:region");
        var provider = text[..colon].Trim().ToLowerInvariant();
        var region = text[(colon + 1)..].Trim();
        if (!IsName(provider) || !IsName(region)) throw new FormatException($"'{text}' is not provider:region");
        if (provider == "gcp" && GcpZone().Match(region) is { Success: true } zone)
            return new Location { Provider = provider, Region = zone.Groups[1].Value, Zone = region };
        return new Location { Provider = provider, Region = region };
    }

    private static bool IsName(string value) =>
        value.Length is >= 1 and <= 63 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    // A GCP zone is its region ("europe-west4", always ending in a digit) plus "-<letter>".
    [GeneratedRegex("^([a-z]+-[a-z]+[0-9]+)-[a-z]$")]
    private static partial Regex GcpZone();

    /// <summary>A header-addressed CSV whose every problem is a <see cref="FormatException"/> with a line number.</summary>
    private sealed class Table : IDisposable
    {
        private readonly CsvReader _reader;
        private readonly Dictionary<string, int> _columns;
        private readonly string _file;
        private readonly int _fieldCount;
        private CsvMalformedRecord? _malformed;

        private Table(CsvReader reader, Dictionary<string, int> columns, string file)
        {
            _reader = reader;
            _columns = columns;
            _file = file;
            _fieldCount = reader.FieldCount;
        }

        public static Table Open(TextReader csv, string file, string[] required, string[] optional)
        {
            Table? table = null;
            var reader = CsvReader.Create(csv, new CsvReaderOptions
            {
                Separator = ',',
                HasHeader = false,
                SkipEmptyLines = true,
                TrackLineNumbers = true,
                AllowLineBreaksInQuotes = false,
                MalformedData = CsvMalformedDataHandling.Skip,
                FieldCountMismatch = CsvFieldCountHandling.Allow,
                OnMalformedRecord = m => { if (table is not null) table._malformed ??= m; },
                PoolStrings = true,
            }, leaveOpen: true);
            try
            {
                if (!reader.Read()) throw new FormatException($"line 1: the {file} file is empty; expected columns {string.Join(",", required)}");
                var columns = new Dictionary<string, int>(StringComparer.Ordinal);
                for (var i = 0; i < reader.FieldCount; i++) columns.TryAdd(reader.GetString(i).Trim().TrimStart('\uFEFF'), i);
                var missing = required.Where(c => !columns.ContainsKey(c)).ToList();
                if (missing.Count > 0)
                    throw new FormatException($"line 1: the {file} header lacks {string.Join(", ", missing)}; expected columns {string.Join(",", required.Concat(optional))}");
                return table = new Table(reader, columns, file);
            }
            catch
            {
                reader.Dispose();
                throw;
            }
        }

        public bool Has(string column) => _columns.ContainsKey(column);

        public bool Next()
        {
            var more = _reader.Read();
            if (_malformed is { } m) throw new FormatException($"line {m.LineNumber}: malformed quoting in the {_file} file ({m.Reason})");
            if (more && _reader.FieldCount != _fieldCount) throw Error($"expected {_fieldCount} fields, found {_reader.FieldCount}");
            return more;
        }

        public string Text(string column) => _reader.GetString(_columns[column]).Trim();

        public bool Is(string column, string value) => string.Equals(Text(column), value, StringComparison.OrdinalIgnoreCase);

        /// <summary>A GCP network tier: PREMIUM (true) or STANDARD (false); anything else is an error.</summary>
        public bool IsPremium(string column)
        {
            if (Is(column, Premium)) return true;
            if (Is(column, "STANDARD")) return false;
            throw Error($"{column} must be PREMIUM or STANDARD, found '{Text(column)}'");
        }

        public Location Endpoint(string column)
        {
            try { return ParseEndpoint(Text(column)); }
            catch (FormatException ex) { throw Error($"{column}: {ex.Message}"); }
        }

        public decimal Decimal(string column)
        {
            var text = Text(column);
            if (!decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || decimal.Round(value, 9) != value)
                throw Error($"{column} must be a non-negative decimal with at most 9 decimal places, found '{text}'");
            return value;
        }

        public double Double(string column)
        {
            var text = Text(column);
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
                throw Error($"{column} must be a number, found '{text}'");
            return value;
        }

        public int Int(string column)
        {
            var text = Text(column);
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
                throw Error($"{column} must be a whole number, found '{text}'");
            return value;
        }

        public FormatException Error(string message) => new($"line {_reader.LineNumber}: {message}");

        public void Dispose() => _reader.Dispose();
    }
}
