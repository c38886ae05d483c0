using CsvHelper;

namespace Sky.Accounting.Focus;

/// <summary>
/// FOCUS rows as RFC 4180 CSV in UTF-8 without a byte order mark (CsvHelper): the header row first, CRLF line ends,
/// fields quoted only when they must be, null as an empty field, text written as it is (no formula escaping, which
/// would change the data).
/// </summary>
internal sealed class FocusCsvWriter : IAsyncDisposable
{
    private static readonly CsvWriterOptions Options = new()
    {
        Separator = ',',
        NewLine = "\r\n",
        Quoting = CsvQuoting.WhenNeeded,
        Injection = CsvInjection.None,
        WriteByteOrderMark = false,
        NullValue = null,
    };

    private readonly CsvWriter _csv;

    /// <summary>Writes the header row; <paramref name="output"/> stays open after disposal.</summary>
    public FocusCsvWriter(Stream output)
    {
        _csv = CsvWriter.Create(output, Options, leaveOpen: true);
        var names = new string[FocusColumns.All.Count];
        for (var i = 0; i < names.Length; i++) names[i] = FocusColumns.All[i].Name;
        _csv.WriteHeader(names);
    }

    public void Write(FocusRow row)
    {
        foreach (var (_, value) in FocusColumns.All) _csv.WriteField(value(row));
        _csv.EndRecord();
    }

    /// <summary>Everything written so far, through to the stream.</summary>
    public ValueTask FlushAsync(CancellationToken ct) => _csv.FlushAsync(ct);

    public ValueTask DisposeAsync() => _csv.DisposeAsync();
}
