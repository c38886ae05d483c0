using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Sky.Common.V1;
using Sky.Directory.V1;
using Spectre.Console;

namespace Sky.Cli.Commands;

/// <summary>How tables spell money, places, durations and hardware. Money stays exact (decimal, never double).</summary>
public static class Format
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>"$3.06", "$32.7726", "0.50 EUR"; empty for no price. At least two decimals, then as many as the amount has.</summary>
    public static string Money(Money? money)
    {
        if (money is null) return "";
        var amount = money.ToDecimal().ToString("0.00#######", Invariant);
        return money.CurrencyCode is "USD" or "" ? "$" + amount : amount + " " + money.CurrencyCode;
    }

    /// <summary>"aws/us-east-1/us-east-1a", leaving out empty trailing parts.</summary>
    public static string Location(Location? location)
    {
        if (location is null) return "";
        var parts = new[] { location.Provider, location.Region, location.Zone };
        var count = parts.Length;
        while (count > 0 && parts[count - 1].Length == 0) count--;
        return string.Join('/', parts.Take(count));
    }

    /// <summary>"30s", "5m", "1h30m", "250ms"; empty when unset.</summary>
    public static string Duration(Duration? duration)
    {
        if (duration is null) return "";
        var span = duration.ToTimeSpan();
        if (span == TimeSpan.Zero) return "0s";
        var text = "";
        if (span.Days > 0 || span.Hours > 0) text += $"{(int)span.TotalHours}h";
        if (span.Minutes > 0) text += $"{span.Minutes}m";
        if (span.Seconds > 0) text += $"{span.Seconds}s";
        if (span.Milliseconds > 0) text += $"{span.Milliseconds}ms";
        return text;
    }

    /// <summary>A count of something fractional (vCPUs, GiB): "8", "0.25", "15.5".</summary>
    public static string Number(double value) => value == 0 ? "" : value.ToString("0.##", Invariant);

    public static string Accelerators(IEnumerable<Accelerator> accelerators) =>
        string.Join(", ", accelerators.Select(a => $"{a.Name}:{a.Count}"));

    public static string Load(double? load) => load is { } l ? l.ToString("0.00", Invariant) : "";

    /// <summary>The selector language's spelling of an offer kind.</summary>
    public static string Kind(OfferKind kind) => kind switch
    {
        OfferKind.ServiceInstance => "service_instance",
        OfferKind.Compute => "compute",
        _ => "",
    };

    /// <summary>Unset availability reads as available (directory.proto).</summary>
    public static string Availability(Availability availability) => availability switch
    {
        Sky.Directory.V1.Availability.Limited => "limited",
        Sky.Directory.V1.Availability.Unavailable => "unavailable",
        _ => "available",
    };

    public static string Timestamp(Timestamp? timestamp) =>
        timestamp is null ? "" : timestamp.ToDateTimeOffset().ToString("u", Invariant);

    /// <summary>
    /// Writes a table. When stdout is a pipe or file Spectre assumes 80 columns and would wrap wide rows;
    /// piped output is for grep and friends, so give it room instead.
    /// </summary>
    public static void Write(Table table)
    {
        if (Console.IsOutputRedirected && AnsiConsole.Profile.Width < 400) AnsiConsole.Profile.Width = 400;
        AnsiConsole.Write(table);
    }

    /// <summary>Writes "key  value" lines aligned in two columns, leaving out empty values.</summary>
    public static void KeyValues(params (string Key, string Value)[] pairs)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        foreach (var (key, value) in pairs.Where(p => p.Value.Length > 0))
            grid.AddRow(new Text(key, new Style(decoration: Decoration.Bold)), new Text(value));
        if (Console.IsOutputRedirected && AnsiConsole.Profile.Width < 400) AnsiConsole.Profile.Width = 400;
        AnsiConsole.Write(grid);
    }

    /// <summary>A table of plain (unescaped) text cells.</summary>
    public static Table Table(params string[] columns)
    {
        var table = new Table();
        foreach (var column in columns) table.AddColumn(new TableColumn(Markup.Escape(column)));
        return table;
    }

    /// <summary>Adds a row of plain text (no Spectre markup is interpreted).</summary>
    public static void AddTextRow(this Table table, params string[] cells) =>
        table.AddRow(cells.Select(c => (Spectre.Console.Rendering.IRenderable)new Text(c)));
}
