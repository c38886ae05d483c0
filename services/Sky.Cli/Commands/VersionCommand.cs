using System.CommandLine;
using Grpc.Core;
using Sky.Hosting.Mesh;
using Sky.Mesh.V1;
using Spectre.Console;

namespace Sky.Cli.Commands;

/// <summary><c>sky version</c>: this CLI's version and the version of the mesh it talks to.</summary>
public static class VersionCommand
{
    public sealed record VersionInfo(string Client, string? Server, string Endpoint);

    public static Command Create()
    {
        var command = new Command("version", "Print the CLI's version and the mesh host's version");
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, async (mesh, json) =>
        {
            var info = await new Sky.Mesh.V1.Mesh.MeshClient(mesh.Channel)
                .GetMeshInfoAsync(new GetMeshInfoRequest(), deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: ct);
            var version = new VersionInfo(MeshApi.Version, info.Version, mesh.Endpoint);
            if (json) CliContext.WriteJson(version);
            else AnsiConsole.MarkupLine($"sky {version.Client}\nsky-mesh {Markup.Escape(info.Version)} at {Markup.Escape(mesh.Endpoint)}");
            return 0;
        }));
        return command;
    }
}
