using System.CommandLine;
using Sky.Common.V1;
using Sky.Mesh.V1;
using Spectre.Console;

namespace Sky.Cli.Commands;

/// <summary><c>sky keys create|list|revoke</c>: the operator mints and revokes provider and tenant API keys.</summary>
public static class KeysCommand
{
    public sealed record KeyRow(string KeyId, string Kind, string Scope, string Description, string Origin, string? CreatedAt, string? RevokedAt);
    public sealed record CreatedKey(string KeyId, string ApiKey, string Kind, string Scope);

    public static Command Create()
    {
        var keys = new Command("keys", "Manage API keys (operator only)");
        keys.Add(CreateCommand());
        keys.Add(ListCommand());
        keys.Add(RevokeCommand());
        return keys;
    }

    private static Command CreateCommand()
    {
        var kind = new Option<string>("--kind") { Description = "provider or tenant", Required = true };
        kind.AcceptOnlyFromAmong("provider", "tenant");
        var scope = new Option<string>("--scope") { Description = "Provider name or tenant id the key acts for", Required = true };
        var description = new Option<string>("--description") { Description = "Free text shown in listings", DefaultValueFactory = _ => "" };
        var command = new Command("create", "Mint a key; the secret is printed once") { kind, scope, description };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, async (mesh, json) =>
        {
            var principal = parse.GetValue(kind) == "provider" ? PrincipalKind.Provider : PrincipalKind.Tenant;
            var reply = await new Sky.Mesh.V1.Mesh.MeshClient(mesh.Channel).CreateApiKeyAsync(new CreateApiKeyRequest
            {
                Kind = principal,
                Scope = parse.GetValue(scope)!,
                Description = parse.GetValue(description)!,
            }, cancellationToken: ct);
            if (json) CliContext.WriteJson(new CreatedKey(reply.KeyId, reply.ApiKey, parse.GetValue(kind)!, parse.GetValue(scope)!));
            else
            {
                AnsiConsole.MarkupLine($"key [bold]{reply.KeyId}[/] for {parse.GetValue(kind)} '{Markup.Escape(parse.GetValue(scope)!)}':");
                Console.WriteLine(reply.ApiKey);
                AnsiConsole.MarkupLine("[grey]the secret is shown once; the mesh keeps only its SHA-256[/]");
            }
            return 0;
        }));
        return command;
    }

    private static Command ListCommand()
    {
        var command = new Command("list", "List keys (never their secrets)");
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, async (mesh, json) =>
        {
            var client = new Sky.Mesh.V1.Mesh.MeshClient(mesh.Channel);
            var rows = new List<KeyRow>();
            var token = "";
            do
            {
                var page = await client.ListApiKeysAsync(new ListApiKeysRequest { Page = new PageRequest { PageSize = 1000, PageToken = token } }, cancellationToken: ct);
                rows.AddRange(page.Keys.Select(k => new KeyRow(k.KeyId, Principal(k.Kind), k.Scope, k.Description, k.Origin,
                    k.CreatedAt?.ToDateTimeOffset().ToString("u"), k.RevokedAt?.ToDateTimeOffset().ToString("u"))));
                token = page.Page.NextPageToken;
            } while (token.Length > 0);

            if (json) CliContext.WriteJson(rows);
            else
            {
                var table = new Table().AddColumns("key id", "kind", "scope", "origin", "created", "revoked", "description");
                foreach (var r in rows)
                    table.AddRow(Markup.Escape(r.KeyId), r.Kind, Markup.Escape(r.Scope), r.Origin, r.CreatedAt ?? "", r.RevokedAt ?? "", Markup.Escape(r.Description));
                AnsiConsole.Write(table);
            }
            return 0;
        }));
        return command;
    }

    private static Command RevokeCommand()
    {
        var id = new Argument<string>("KEY_ID") { Description = "Id of the key (from 'sky keys list')" };
        var command = new Command("revoke", "Revoke a key; idempotent") { id };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, async (mesh, json) =>
        {
            var reply = await new Sky.Mesh.V1.Mesh.MeshClient(mesh.Channel).RevokeApiKeyAsync(new RevokeApiKeyRequest { KeyId = parse.GetValue(id)! }, cancellationToken: ct);
            if (json) CliContext.WriteJson(new { key_id = parse.GetValue(id), revoked = reply.Revoked });
            else Console.WriteLine(reply.Revoked ? $"revoked {parse.GetValue(id)}" : $"{parse.GetValue(id)} was not active (unknown or already revoked)");
            return 0;
        }));
        return command;
    }

    private static string Principal(PrincipalKind kind) => Sky.Hosting.Identity.Principal.Describe(kind);
}
