using System.CommandLine;
using Grpc.Core;
using Grpc.Health.V1;
using Sky.Hosting.Options;
using Spectre.Console;
using static Grpc.Health.V1.HealthCheckResponse.Types;

namespace Sky.Cli.Commands;

/// <summary><c>sky health</c>: the gRPC health of each of the five services as the endpoint sees it.</summary>
public static class HealthCommand
{
    public sealed record ServiceHealth(string Service, string Status);

    public static Command Create()
    {
        var command = new Command("health", "Show whether each service of the mesh is SERVING (exit 1 if any is not)");
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, async (mesh, json) =>
        {
            var rows = await CheckAllAsync(mesh, ct);
            if (json) CliContext.WriteJson(rows);
            else Render(rows, mesh.Endpoint);
            return rows.All(r => r.Status == nameof(ServingStatus.Serving).ToUpperInvariant()) ? 0 : 1;
        }));
        return command;
    }

    public static async Task<List<ServiceHealth>> CheckAllAsync(MeshConnection mesh, CancellationToken ct)
    {
        var client = new Health.HealthClient(mesh.Channel);
        var checks = MeshService.All.Select(async service =>
        {
            try
            {
                var reply = await client.CheckAsync(new HealthCheckRequest { Service = service.GrpcService },
                    deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: ct);
                return new ServiceHealth(service.Name, StatusName(reply.Status));
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
            {
                return new ServiceHealth(service.Name, "SERVICE_UNKNOWN");
            }
        });
        return [.. await Task.WhenAll(checks)];
    }

    public static string StatusName(ServingStatus status) => status switch
    {
        ServingStatus.Serving => "SERVING",
        ServingStatus.NotServing => "NOT_SERVING",
        ServingStatus.ServiceUnknown => "SERVICE_UNKNOWN",
        _ => "UNKNOWN",
    };

    private static void Render(IEnumerable<ServiceHealth> rows, string endpoint)
    {
        var table = new Table().Title($"health at {Markup.Escape(endpoint)}").AddColumn("service").AddColumn("status");
        foreach (var row in rows)
        {
            var color = row.Status == "SERVING" ? "green" : "red";
            table.AddRow(Markup.Escape(row.Service), $"[{color}]{row.Status}[/]");
        }
        AnsiConsole.Write(table);
    }
}
