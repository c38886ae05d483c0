namespace Sky.Directory.Query;

/// <summary>A malformed selector: <see cref="Position"/> is the 0-based offset of the offending character (the text's length for "ended too soon").</summary>
public sealed class SelectorException(int position, string message) : Exception(message)
{
    public int Position { get; } = position;
}
