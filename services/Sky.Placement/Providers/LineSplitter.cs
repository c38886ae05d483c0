using System.Text;

namespace Sky.Placement.Providers;

/// <summary>
/// Turns a process's output bytes into lines as they arrive: UTF-8 decoded (invalid bytes become U+FFFD),
/// split on '\n' with a trailing '\r' dropped, and each line cut at <paramref name="maxLength"/> characters so a
/// binary blob without newlines cannot grow one string without bound; a cut line ends with a note of what was dropped.
/// </summary>
internal sealed class LineSplitter(int maxLength, Action<string> emit)
{
    private readonly StringBuilder _line = new();
    private long _dropped;

    /// <summary>Reads <paramref name="stream"/> to its end, emitting every line; a pipe closed under it just ends the read.</summary>
    public async Task PumpAsync(Stream stream)
    {
        var decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
        var bytes = new byte[16 * 1024];
        var chars = new char[Encoding.UTF8.GetMaxCharCount(bytes.Length)];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(bytes).ConfigureAwait(false)) > 0)
                Push(chars.AsSpan(0, decoder.GetChars(bytes, 0, read, chars, 0, flush: false)));
            Push(chars.AsSpan(0, decoder.GetChars(bytes, 0, 0, chars, 0, flush: true)));
        }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
        Finish();
    }

    public void Push(ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            var newline = text.IndexOf('\n');
            Append(newline < 0 ? text : text[..newline]);
            if (newline < 0) return;
            Emit();
            text = text[(newline + 1)..];
        }
    }

    /// <summary>Emits the last line when the output did not end with a newline.</summary>
    public void Finish()
    {
        if (_line.Length > 0 || _dropped > 0) Emit();
    }

    private void Append(ReadOnlySpan<char> part)
    {
        var room = maxLength - _line.Length;
        if (part.Length <= room)
        {
            _line.Append(part);
            return;
        }
        _line.Append(part[..room]);
        _dropped += part.Length - room;
    }

    private void Emit()
    {
        if (_dropped > 0)
        {
            // Do not leave half of a surrogate pair at the cut.
            if (_line.Length > 0 && char.IsHighSurrogate(_line[^1]))
            {
                _line.Length--;
                _dropped++;
            }
            _line.Append($" [line cut: {_dropped} more characters dropped]");
        }
        else if (_line.Length > 0 && _line[^1] == '\r')
        {
            _line.Length--;
        }
        var text = _line.ToString();
        _line.Clear();
        _dropped = 0;
        emit(text);
    }
}
