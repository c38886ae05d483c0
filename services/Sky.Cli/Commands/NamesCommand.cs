using System.CommandLine;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Sky.Common.V1;
using Sky.Naming.V1;

namespace Sky.Cli.Commands;

/// <summary>
/// <c>sky names resolve|lookup|put|rm|list</c>: the naming service's records. Answers of resolve and lookup
/// are cached on this machine for their TTL (<see cref="NameCache"/>); put and rm forget what they change.
/// </summary>
public static class NamesCommand
{
    /// <summary>What naming.proto promises for a record without a TTL.</summary>
    private static readonly TimeSpan DefaultRecordTtl = TimeSpan.FromSeconds(60);

    public static Command Create()
    {
        var names = new Command("names", "Resolve, look up and write names (<instance>.<service>.<region>.<provider>.sky)");
        names.Add(ResolveCommand());
        names.Add(LookupCommand());
        names.Add(PutCommand());
        names.Add(RmCommand());
        names.Add(ListCommand());
        return names;
    }

    private static Option<bool> NoCache() => new("--no-cache")
    {
        Description = "Ask the mesh even if this machine holds a fresh answer (answers are cached for their TTL in ~/.sky/cache/names, or $SKY_STATE_DIR/cache/names)",
    };

    /// <summary>No cache for an in-process mesh: it lives for one command, and its answers say nothing about the next one.</summary>
    private static NameCache? CacheFor(MeshConnection mesh, bool noCache) =>
        noCache || mesh.IsEmbedded ? null : NameCache.Default(TimeProvider.System);

    private static Command ResolveCommand()
    {
        var name = new Argument<string>("NAME") { Description = "The name, e.g. pg-1.postgres.us-east-1.aws.sky (any case, optional trailing dot)" };
        var noCache = NoCache();
        var command = new Command("resolve", "Show the record of one name: its endpoints in the order to try them, TTL, versions, revision, zone and owner") { name, noCache };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, async (mesh, json) =>
        {
            var text = parse.GetValue(name)!;
            var cache = CacheFor(mesh, parse.GetValue(noCache));
            var hit = cache?.TryGet(mesh.Endpoint, NameCache.Resolve, text, ResolveResponse.Parser);
            var reply = hit?.Response;
            if (reply is null)
            {
                var fetchedAt = TimeProvider.System.GetUtcNow();
                reply = await FieldCaret.CallAsync(() => new Sky.Naming.V1.Naming.NamingClient(mesh.Channel)
                    .ResolveAsync(new ResolveRequest { Name = text }, cancellationToken: ct).ResponseAsync, ("name", text));
                cache?.Put(mesh.Endpoint, NameCache.Resolve, text, reply, fetchedAt, reply.Record.Ttl?.ToTimeSpan() ?? DefaultRecordTtl);
            }

            if (json) ProtoJson.Write(reply);
            else RenderRecord(reply.Record, hit is null ? "" : CacheNote(hit.FetchedAt, hit.ExpiresAt));
            return 0;
        }));
        return command;
    }

    private static Command LookupCommand()
    {
        var name = new Argument<string>("NAME") { Description = "A service lookup name _<service>._tcp.<region>.<provider>.sky, e.g. _postgres._tcp.us-east-1.aws.sky" };
        var noCache = NoCache();
        var command = new Command("lookup", "List every endpoint of every instance of a service in a region, in SRV order (priority, then weighted shuffle)") { name, noCache };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, async (mesh, json) =>
        {
            var text = parse.GetValue(name)!;
            var cache = CacheFor(mesh, parse.GetValue(noCache));
            var hit = cache?.TryGet(mesh.Endpoint, NameCache.Lookup, text, LookupResponse.Parser);
            var reply = hit?.Response;
            if (reply is null)
            {
                var fetchedAt = TimeProvider.System.GetUtcNow();
                reply = await FieldCaret.CallAsync(() => new Sky.Naming.V1.Naming.NamingClient(mesh.Channel)
                    .LookupAsync(new LookupRequest { Name = text }, cancellationToken: ct).ResponseAsync, ("name", text));
                // No TTL in the answer means nothing says how long it stays true: do not keep it.
                if (reply.Ttl is not null) cache?.Put(mesh.Endpoint, NameCache.Lookup, text, reply, fetchedAt, reply.Ttl.ToTimeSpan());
            }

            if (json) ProtoJson.Write(reply);
            else
            {
                if (reply.Endpoints.Count == 0) Console.WriteLine($"no instances answer {text}");
                else
                {
                    var table = Format.Table("instance", "scheme", "host", "port", "priority", "weight");
                    foreach (var e in reply.Endpoints)
                        table.AddTextRow(e.InstanceName, e.Endpoint.Scheme, e.Endpoint.Host, $"{e.Endpoint.Port}", $"{e.Endpoint.Priority}", $"{e.Endpoint.Weight}");
                    Format.Write(table);
                }
                Format.KeyValues(("ttl", Format.Duration(reply.Ttl)), ("cached", hit is null ? "" : CacheNote(hit.FetchedAt, hit.ExpiresAt)));
            }
            return 0;
        }));
        return command;
    }

    private sealed record PutFlags(Record Record, long? Revision);

    private static Command PutCommand()
    {
        var name = new Argument<string>("NAME") { Description = "The name to write, e.g. pg-1.postgres.us-east-1.aws.sky; it must lie in a zone you own" };
        var target = new Option<string[]>("--target")
        {
            HelpName = "URL",
            Description = "An endpoint of the record: scheme://host:port[?weight=W&priority=P], IPv6 hosts in brackets (repeatable, at least one; kept in the order given). Not --endpoint, which is the mesh's address",
            Required = true,
        };
        var ttl = new Option<string?>("--ttl") { HelpName = "DURATION", Description = "How long resolvers may cache the record: 30s, 5m, 1h30m (1s to 24h; default 60s)" };
        var apiVersion = new Option<string?>("--api-version") { HelpName = "VERSION", Description = "API version the instance speaks, e.g. v1 or 16" };
        var softwareVersion = new Option<string?>("--software-version") { HelpName = "VERSION", Description = "Software version the instance runs, e.g. 16.2.0" };
        var attr = new Option<string[]>("--attr") { HelpName = "KEY=VALUE", Description = "Metadata key=value (repeatable)" };
        var revision = new Option<long?>("--revision")
        {
            HelpName = "N",
            Description = "Replace the whole record if its revision is still N (see 'sky names resolve NAME --no-cache'); without it the record is created and must not exist yet",
        };
        var command = new Command("put", "Create a record, or with --revision replace one (endpoints, TTL, versions and attributes all as given)")
        {
            name, target, ttl, apiVersion, softwareVersion, attr, revision,
        };
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct, () =>
        {
            var record = new Record
            {
                Name = parse.GetValue(name)!,
                ApiVersion = parse.GetValue(apiVersion) ?? "",
                SoftwareVersion = parse.GetValue(softwareVersion) ?? "",
            };
            record.Endpoints.AddRange((parse.GetValue(target) ?? []).Select(RecordTarget.Parse));
            if (parse.GetValue(ttl) is { } ttlText) record.Ttl = Duration.FromTimeSpan(Flags.ParseDuration("--ttl", ttlText));
            record.Attributes.Add(Flags.ParsePairs("--attr", parse.GetValue(attr) ?? []));
            var expected = parse.GetValue(revision);
            if (expected is <= 0) throw new FormatException("--revision: must be a record revision (> 0)");
            return new PutFlags(record, expected);
        }, async (mesh, json, flags) =>
        {
            var client = new Sky.Naming.V1.Naming.NamingClient(mesh.Channel);
            var recordName = flags.Record.Name;
            Google.Protobuf.IMessage reply;
            Record stored;
            try
            {
                if (flags.Revision is { } expected)
                {
                    var updated = await FieldCaret.CallAsync(() => client.UpdateRecordAsync(new UpdateRecordRequest { Record = flags.Record, ExpectedRevision = expected },
                        cancellationToken: ct).ResponseAsync, ("record.name", recordName));
                    (reply, stored) = (updated, updated.Record);
                }
                else
                {
                    var created = await FieldCaret.CallAsync(() => client.CreateRecordAsync(new CreateRecordRequest { Record = flags.Record },
                        cancellationToken: ct).ResponseAsync, ("record.name", recordName));
                    (reply, stored) = (created, created.Record);
                }
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Aborted)
            {
                throw new CliException($"the record {recordName} changed since revision {flags.Revision}: re-read it with 'sky names resolve {recordName} --no-cache' and retry with its revision");
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists)
            {
                throw new CliException($"{recordName} already has a record: to replace it pass --revision with its current revision (sky names resolve {recordName} --no-cache)");
            }
            finally
            {
                CacheFor(mesh, noCache: false)?.Forget(mesh.Endpoint, recordName);
            }

            if (json) ProtoJson.Write(reply);
            else Console.WriteLine($"{(flags.Revision is null ? "created" : "updated")} {stored.Name} revision {stored.Revision} in zone {stored.Zone}");
            return 0;
        }));
        return command;
    }

    private static Command RmCommand()
    {
        var name = new Argument<string>("NAME") { Description = "The name whose record to delete" };
        var revision = new Option<long?>("--revision") { HelpName = "N", Description = "Delete only if the record's revision is still N; without it the current record is read first and that revision deleted" };
        var command = new Command("rm", "Delete a record") { name, revision };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, async (mesh, json) =>
        {
            var client = new Sky.Naming.V1.Naming.NamingClient(mesh.Channel);
            var text = parse.GetValue(name)!;
            var expected = parse.GetValue(revision)
                ?? (await FieldCaret.CallAsync(() => client.ResolveAsync(new ResolveRequest { Name = text }, cancellationToken: ct).ResponseAsync, ("name", text))).Record.Revision;
            DeleteRecordResponse reply;
            try
            {
                reply = await FieldCaret.CallAsync(() => client.DeleteRecordAsync(new DeleteRecordRequest { Name = text, ExpectedRevision = expected }, cancellationToken: ct).ResponseAsync, ("name", text));
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Aborted)
            {
                throw new CliException($"the record {text} changed since revision {expected}: re-read it with 'sky names resolve {text} --no-cache' and retry");
            }
            finally
            {
                CacheFor(mesh, noCache: false)?.Forget(mesh.Endpoint, text);
            }

            if (json) ProtoJson.Write(reply);
            else Console.WriteLine($"deleted {text} (revision {expected}; deletion revision {reply.Revision})");
            return 0;
        }));
        return command;
    }

    private static Command ListCommand()
    {
        var under = new Option<string?>("--under") { HelpName = "NAME", Description = "Only this name and names below it, e.g. us-east-1.aws.sky" };
        var command = new Command("list", "List records by name") { under };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, async (mesh, json) =>
        {
            var client = new Sky.Naming.V1.Naming.NamingClient(mesh.Channel);
            var scope = parse.GetValue(under) ?? "";
            var all = new ListRecordsResponse { Page = new PageResponse() };
            var token = "";
            do
            {
                var page = await FieldCaret.CallAsync(() => client.ListRecordsAsync(new ListRecordsRequest
                {
                    Under = scope,
                    Page = new PageRequest { PageSize = 1000, PageToken = token },
                }, cancellationToken: ct).ResponseAsync, ("under", scope));
                all.Records.AddRange(page.Records);
                token = page.Page?.NextPageToken ?? "";
            } while (token.Length > 0);

            if (json) ProtoJson.Write(all);
            else
            {
                var table = Format.Table("name", "endpoints", "ttl", "api", "software", "revision", "zone", "owner");
                foreach (var r in all.Records)
                    table.AddTextRow(r.Name, string.Join(" ", r.Endpoints.Select(RecordTarget.ToUrl)), Format.Duration(r.Ttl),
                        r.ApiVersion, r.SoftwareVersion, $"{r.Revision}", r.Zone, r.Owner);
                Format.Write(table);
            }
            return 0;
        }));
        return command;
    }

    private static void RenderRecord(Record record, string cacheNote)
    {
        Format.KeyValues(
            ("name", record.Name),
            ("revision", $"{record.Revision}"),
            ("zone", record.Zone.Length == 0 ? "" : $"{record.Zone} (owner {record.Owner})"),
            ("ttl", record.Ttl is null ? Format.Duration(Duration.FromTimeSpan(DefaultRecordTtl)) + " (default)" : Format.Duration(record.Ttl)),
            ("api version", record.ApiVersion),
            ("software version", record.SoftwareVersion),
            ("attributes", string.Join(", ", record.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={a.Value}"))),
            ("updated", Format.Timestamp(record.UpdatedAt)),
            ("cached", cacheNote));
        var table = Format.Table("#", "scheme", "host", "port", "priority", "weight");
        var i = 0;
        foreach (var e in record.Endpoints)
            table.AddTextRow($"{++i}", e.Scheme, e.Host, $"{e.Port}", $"{e.Priority}", $"{e.Weight}");
        Format.Write(table);
    }

    private static string CacheNote(DateTimeOffset fetchedAt, DateTimeOffset expiresAt)
    {
        var now = TimeProvider.System.GetUtcNow();
        return $"answer fetched {(int)(now - fetchedAt).TotalSeconds}s ago, expires in {(int)Math.Ceiling((expiresAt - now).TotalSeconds)}s (--no-cache to ask again)";
    }
}
