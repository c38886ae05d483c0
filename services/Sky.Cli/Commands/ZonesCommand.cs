using System.CommandLine;
using Sky.Common.V1;
using Sky.Naming.Domain;
using Sky.Naming.V1;

namespace Sky.Cli.Commands;

/// <summary><c>sky zones list|create|rm</c>: the parts of the namespace and who may write in each.</summary>
public static class ZonesCommand
{
    public static Command Create()
    {
        var zones = new Command("zones", "List, create and delete naming zones (<provider>.sky and zones delegated below it)");
        zones.Add(ListCommand());
        zones.Add(CreateCommand());
        zones.Add(RmCommand());
        return zones;
    }

    private static Command ListCommand()
    {
        var under = new Option<string?>("--under") { HelpName = "ZONE", Description = "Only this zone and zones below it, e.g. aws.sky" };
        var owner = new Option<string?>("--owner") { HelpName = "PROVIDER", Description = "Only zones owned by this provider" };
        var command = new Command("list", "List zones by name") { under, owner };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, async (mesh, json) =>
        {
            var client = new Sky.Naming.V1.Naming.NamingClient(mesh.Channel);
            var scope = parse.GetValue(under) ?? "";
            var all = new ListZonesResponse { Page = new PageResponse() };
            var token = "";
            do
            {
                var page = await FieldCaret.CallAsync(() => client.ListZonesAsync(new ListZonesRequest
                {
                    Under = scope,
                    Owner = parse.GetValue(owner) ?? "",
                    Page = new PageRequest { PageSize = 1000, PageToken = token },
                }, cancellationToken: ct).ResponseAsync, ("under", scope));
                all.Zones.AddRange(page.Zones);
                token = page.Page?.NextPageToken ?? "";
            } while (token.Length > 0);

            if (json) ProtoJson.Write(all);
            else
            {
                var table = Format.Table("zone", "owner", "parent", "created", "description");
                foreach (var z in all.Zones)
                    table.AddTextRow(z.Name, z.Owner, z.Parent, Format.Timestamp(z.CreatedAt), z.Description);
                Format.Write(table);
            }
            return 0;
        }));
        return command;
    }

    private static Command CreateCommand()
    {
        var name = new Argument<string>("NAME") { Description = "The zone: an apex <provider>.sky, or a name below a zone you own, e.g. us-east-1.aws.sky" };
        var owner = new Option<string?>("--owner")
        {
            HelpName = "PROVIDER",
            Description = "Provider that may write records in the zone (default: the provider label of NAME; another provider delegates the zone to it)",
        };
        var description = new Option<string?>("--description") { HelpName = "TEXT", Description = "Free text shown in listings (at most 200 characters)" };
        var command = new Command("create", "Create a zone") { name, owner, description };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, async (mesh, json) =>
        {
            var text = parse.GetValue(name)!;
            var zone = new Zone
            {
                Name = text,
                Owner = parse.GetValue(owner) ?? (SkyName.TryParse(text, out var parsed, out _) ? parsed.Provider : ""),
                Description = parse.GetValue(description) ?? "",
            };
            var reply = await FieldCaret.CallAsync(() => new Sky.Naming.V1.Naming.NamingClient(mesh.Channel)
                .CreateZoneAsync(new CreateZoneRequest { Zone = zone }, cancellationToken: ct).ResponseAsync, ("zone.name", text));
            if (json) ProtoJson.Write(reply);
            else Console.WriteLine($"created zone {reply.Zone.Name} owned by {reply.Zone.Owner}");
            return 0;
        }));
        return command;
    }

    private static Command RmCommand()
    {
        var name = new Argument<string>("NAME") { Description = "The zone to delete; it must hold no records and no sub-zones" };
        var command = new Command("rm", "Delete an empty zone") { name };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, async (mesh, json) =>
        {
            var text = parse.GetValue(name)!;
            var reply = await FieldCaret.CallAsync(() => new Sky.Naming.V1.Naming.NamingClient(mesh.Channel)
                .DeleteZoneAsync(new DeleteZoneRequest { Name = text }, cancellationToken: ct).ResponseAsync, ("name", text));
            if (json) ProtoJson.Write(reply);
            else Console.WriteLine($"deleted zone {text}");
            return 0;
        }));
        return command;
    }
}
