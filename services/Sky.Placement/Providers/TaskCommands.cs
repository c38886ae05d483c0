namespace Sky.Placement.Providers;

/// <summary>
/// What runs on every node: <see cref="Setup"/> then <see cref="Run"/> (SkyPilot's fields; empty means nothing),
/// with the task's <c>envs</c> in file order (a later duplicate wins) in <see cref="WorkingDirectory"/>
/// (null: the node's own scratch directory).
/// </summary>
public sealed record TaskCommands(string Setup, string Run, IReadOnlyList<KeyValuePair<string, string>> Envs, string? WorkingDirectory = null);
