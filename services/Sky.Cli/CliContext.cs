using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Grpc.Core;

namespace Sky.Cli;

/// <summary>The options every command shares, and how commands print and fail.</summary>
public static class CliContext
{
    public static readonly Option<string?> Endpoint = new("--endpoint")
    {
        Description = "gRPC address of a mesh host, e.g. http://127.0.0.1:7100 (else SKY_ENDPOINT; else an in-process mesh on embedded defaults)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SKY_ENDPOINT"),
    };

    public static readonly Option<string?> Token = new("--token")
    {
        Description = "API key (else SKY_TOKEN; else the operator key a local host wrote to ~/.sky/operator-token)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SKY_TOKEN"),
    };

    public static readonly Option<bool> Json = new("--json") { Description = "Print JSON instead of tables", Recursive = true };

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static void WriteJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>A JSON document built by hand (its keys are already snake_case).</summary>
    public static void WriteJsonNode(System.Text.Json.Nodes.JsonNode node) => Console.Out.WriteLine(node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>Runs a command body against a mesh connection, turning failures into one line and an exit code.</summary>
    public static async Task<int> RunAsync(ParseResult parse, CancellationToken ct, Func<MeshConnection, bool, Task<int>> body,
        Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configureEmbedded = null)
    {
        try
        {
            await using var mesh = await MeshConnection.OpenAsync(parse.GetValue(Endpoint), parse.GetValue(Token), ct, configureEmbedded);
            try
            {
                return await body(mesh, parse.GetValue(Json));
            }
            catch (RpcException ex)
            {
                throw new CliException(Describe(ex, mesh.Endpoint));
            }
        }
        catch (CliException ex)
        {
            Fail(ex.Message);
            return ex.ExitCode;
        }
    }

    public static string Describe(RpcException ex, string endpoint) => ex.StatusCode switch
    {
        StatusCode.Unavailable => $"cannot reach the mesh at {endpoint}: {ex.Status.Detail}",
        StatusCode.Unauthenticated => $"{ex.Status.Detail} (pass --token or set SKY_TOKEN)",
        _ => $"{ex.StatusCode}: {ex.Status.Detail}",
    };

    public static void Fail(string message) => Console.Error.WriteLine("sky: " + message);
}
