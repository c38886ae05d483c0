using Sky.Placement.V1;

namespace Sky.Placement.Providers;

/// <summary>
/// Where a run's output goes, a line at a time as it is produced (never buffered until exit). Providers call
/// <see cref="Write"/> from one thread at a time per run, so a sink needs no locking of its own for one run.
/// </summary>
public interface ILogSink
{
    void Write(LogLine line);
}

/// <summary>
/// One line of output without its terminator (invalid UTF-8 replaced with U+FFFD, at most the runner's cap long),
/// the node it came from (0 for <see cref="LogStream.System"/>) and when it was captured (the provider's TimeProvider).
/// </summary>
public sealed record LogLine(int NodeRank, LogStream Stream, string Text, DateTimeOffset Time);
