using Sky.Placement.Tasks;

namespace Sky.Placement.Tests.Tasks;

/// <summary>Builds YAML from lines (so a test shows each line's number) and reads the one error it expects.</summary>
internal static class TaskYamlTestText
{
    public static string Lines(params string[] lines) => string.Join('\n', lines) + "\n";

    public static TaskSpec Single(params string[] lines) => Assert.Single(TaskYaml.Parse(Lines(lines)).Tasks);

    public static ResourceCandidate Candidate(params string[] lines) => Assert.Single(Single(lines).Candidates);

    public static IReadOnlyList<TaskYamlError> Errors(params string[] lines) =>
        Assert.Throws<TaskYamlException>(() => TaskYaml.Parse(Lines(lines))).Errors;

    public static TaskYamlError Error(params string[] lines) => Assert.Single(Errors(lines));
}
