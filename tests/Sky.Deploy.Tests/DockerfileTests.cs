using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Sky.Hosting.Options;

namespace Sky.Deploy.Tests;

/// <summary>The Dockerfile against the host project it publishes and the ports the host listens on.</summary>
public class DockerfileTests
{
    /// <summary>One instruction, with continuation lines joined and comments dropped.</summary>
    private sealed record Instruction(string Keyword, string Arguments);

    private static List<Instruction> Instructions()
    {
        var lines = Repo.ReadText("Dockerfile").Split('\n').Select(l => l.TrimEnd('\r'));
        var instructions = new List<Instruction>();
        var pending = "";
        foreach (var line in lines)
        {
            var trimmed = line.Trim();
            if (trimmed.StartsWith('#') || (trimmed.Length == 0 && pending.Length == 0)) continue;
            pending += (pending.Length > 0 ? " " : "") + trimmed.TrimEnd('\\').Trim();
            if (trimmed.EndsWith('\\')) continue;
            var space = pending.IndexOf(' ');
            instructions.Add(space < 0 ? new(pending.ToUpperInvariant(), "") : new(pending[..space].ToUpperInvariant(), pending[(space + 1)..].Trim()));
            pending = "";
        }
        return instructions;
    }

    /// <summary>Instructions grouped by build stage (each FROM starts one).</summary>
    private static List<List<Instruction>> Stages()
    {
        var stages = new List<List<Instruction>>();
        foreach (var instruction in Instructions())
        {
            if (instruction.Keyword == "FROM") stages.Add([]);
            else if (stages.Count == 0) continue;
            stages[^1].Add(instruction);
        }
        return stages;
    }

    private static string BaseImage(Instruction from) =>
        from.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).First(part => !part.StartsWith("--", StringComparison.Ordinal));

    private static string HostAssemblyName() =>
        XDocument.Parse(Repo.ReadText("services/Sky.Host/Sky.Host.csproj")).Descendants("AssemblyName").Single().Value;

    /// <summary>10.0 for net10.0: the SDK and runtime images must match the framework the projects target.</summary>
    private static string DotnetVersion()
    {
        var framework = XDocument.Parse(Repo.ReadText("Directory.Build.props")).Descendants("TargetFramework").Single().Value;
        var match = Regex.Match(framework, @"^net(\d+\.\d+)$");
        Assert.True(match.Success, $"TargetFramework {framework}");
        return match.Groups[1].Value;
    }

    [Fact]
    public void BuildsOnTheSdkAndRunsOnAspNetOfTheTargetFramework()
    {
        var stages = Stages();
        Assert.True(stages.Count >= 2, "a multi-stage build: SDK to build, ASP.NET runtime to run");
        Assert.Equal($"mcr.microsoft.com/dotnet/sdk:{DotnetVersion()}", BaseImage(stages[0][0]));
        Assert.Equal($"mcr.microsoft.com/dotnet/aspnet:{DotnetVersion()}", BaseImage(stages[^1][0]));
        Assert.Contains(stages[^1], i => i.Keyword == "COPY" && i.Arguments.StartsWith("--from=", StringComparison.Ordinal));
    }

    [Fact]
    public void PublishesTheHostAndRunsItsAssembly()
    {
        Assert.Equal("sky-mesh", HostAssemblyName());
        var publish = Assert.Single(Instructions(), i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish", StringComparison.Ordinal));
        Assert.Contains("services/Sky.Host/Sky.Host.csproj", publish.Arguments);

        var entrypoint = Assert.Single(Stages()[^1], i => i.Keyword == "ENTRYPOINT");
        var exec = JsonSerializer.Deserialize<string[]>(entrypoint.Arguments);
        Assert.Equal(new[] { "dotnet", HostAssemblyName() + ".dll" }, exec);
    }

    [Fact]
    public void ExposesTheGrpcAndHttpPorts()
    {
        var exposed = Stages()[^1].Where(i => i.Keyword == "EXPOSE")
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => int.Parse(p.Split('/')[0]))
            .ToList();
        Assert.Contains(MeshOptions.DefaultGrpcPort, exposed);
        Assert.Contains(MeshOptions.DefaultHttpPort, exposed);
    }

    [Fact]
    public void RunsAsANonRootUser()
    {
        var user = Stages()[^1].LastOrDefault(i => i.Keyword == "USER")
            ?? throw new Xunit.Sdk.XunitException("the runtime stage sets no USER, so the host would run as root");
        Assert.DoesNotMatch(@"^(root|0)(:|$)", user.Arguments);
    }

    [Fact]
    public void TheBuildContextKeepsWhatTheBuildCopies()
    {
        var ignored = Repo.ReadText(".dockerignore").Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.TrimEnd('/'))
            .ToList();
        Assert.Contains("**/bin", ignored);
        Assert.Contains("**/obj", ignored);

        var copied = Stages()[0].Where(i => i.Keyword == "COPY" && !i.Arguments.StartsWith("--from", StringComparison.Ordinal))
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipLast(1))
            .Select(p => p.TrimEnd('/'))
            .ToList();
        Assert.NotEmpty(copied);
        foreach (var source in copied)
        {
            Assert.True(File.Exists(Repo.PathOf(source)) || System.IO.Directory.Exists(Repo.PathOf(source)), $"COPY {source}: not in the checkout");
            Assert.DoesNotContain(ignored, pattern => pattern == source || source.StartsWith(pattern + "/", StringComparison.Ordinal));
        }

        // Every project the host builds from must be inside what is copied.
        foreach (var project in HostProjectClosure())
            Assert.True(copied.Any(c => project.StartsWith(c + "/", StringComparison.Ordinal)), $"{project} is not copied into the build");
    }

    /// <summary>Sky.Host.csproj and every project it references, transitively, as paths relative to the checkout.</summary>
    private static IReadOnlyList<string> HostProjectClosure()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([Repo.PathOf("services/Sky.Host/Sky.Host.csproj")]);
        while (pending.TryPop(out var project))
        {
            if (!seen.Add(Repo.Relative(project))) continue;
            foreach (var reference in XDocument.Load(project).Descendants("ProjectReference"))
                pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, reference.Attribute("Include")!.Value.Replace('\\', '/'))));
        }
        return seen.ToList();
    }
}
