using System.Text;

namespace Sky.Cli.Commands;

/// <summary>
/// Cuts CSV text into the parts ImportCatalog streams: each about <c>partSize</c> characters and ending at a
/// line break, so the first starts with the header line and no row is split between two parts (the server
/// concatenates them anyway; whole rows keep each message meaningful on its own). A line longer than a part
/// becomes a part of its own. The last part gets a final line break if the file lacks one.
/// </summary>
public static class CsvParts
{
    public const int DefaultPartSize = 256 * 1024;

    public static IEnumerable<string> Split(TextReader reader, int partSize = DefaultPartSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partSize, 1);
        var pending = new StringBuilder();
        var chunk = new char[Math.Max(partSize, 4096)];
        int read;
        while ((read = reader.Read(chunk, 0, chunk.Length)) > 0)
        {
            pending.Append(chunk, 0, read);
            while (pending.Length >= partSize)
            {
                var cut = LastLineBreak(pending, partSize - 1);
                if (cut < 0) cut = NextLineBreak(pending, partSize);
                if (cut < 0) break; // one line longer than a part: read on to its end
                yield return pending.ToString(0, cut + 1);
                pending.Remove(0, cut + 1);
            }
        }
        if (pending.Length > 0)
        {
            if (pending[^1] != '\n') pending.Append('\n');
            yield return pending.ToString();
        }
    }

    private static int LastLineBreak(StringBuilder text, int from)
    {
        for (var i = Math.Min(from, text.Length - 1); i >= 0; i--)
            if (text[i] == '\n') return i;
        return -1;
    }

    private static int NextLineBreak(StringBuilder text, int from)
    {
        for (var i = from; i < text.Length; i++)
            if (text[i] == '\n') return i;
        return -1;
    }
}
