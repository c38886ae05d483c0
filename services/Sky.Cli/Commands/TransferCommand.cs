using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Grpc.Core;
using Sky.Common.V1;
using Sky.Transfer.V1;
using Spectre.Console;
using TransferClient = Sky.Transfer.V1.Transfer.TransferClient;

namespace Sky.Cli.Commands;

/// <summary>
/// <c>sky transfer plan|start|watch|cancel|status</c>: plan a bulk copy between object stores (routes, gateway VMs,
/// time and cost beside the direct route), run it with a live progress bar, follow, stop or list transfers.
/// </summary>
public static class TransferCommand
{
    private sealed record SpecFlags(TransferSpec Spec);

    private sealed record Options(Argument<string> Source, Argument<string> Destination, Option<string?> From, Option<string?> To, Option<string?> Bytes,
        Option<string?> Goal, Option<string?> Deadline, Option<decimal?> Budget, Option<int?> MaxVms, Option<bool> Direct, Option<string?> Tenant);

    public static Command Create()
    {
        var command = new Command("transfer", "Plan and run bulk copies between object stores (file://, s3://, az://, gs://)");
        command.Add(Plan());
        command.Add(Start());
        command.Add(Watch());
        command.Add(Cancel());
        command.Add(Status());
        return command;
    }

    private static Options AddSpec(Command command)
    {
        var set = new Options(
            new Argument<string>("SOURCE") { Description = "file:///path/, s3://bucket/prefix, az://account/container/prefix or gs://bucket/prefix; a trailing / copies everything under it" },
            new Argument<string>("DESTINATION") { Description = "Where the objects go, same schemes; keys stay relative to the source prefix" },
            new Option<string?>("--from") { HelpName = "PROVIDER/REGION", Description = "Where the source store is (default: local/local for file://, aws/<S3 region> for s3://; required for az:// and gs://)" },
            new Option<string?>("--to") { HelpName = "PROVIDER/REGION", Description = "Where the destination store is (defaults as for --from)" },
            new Option<string?>("--bytes") { HelpName = "SIZE", Description = "Bytes to plan for, e.g. 500GB, 1.5TiB or 1048576 (default: list the source)" },
            new Option<string?>("--goal") { HelpName = "GOAL", Description = "cheapest (default), fastest, deadline (cheapest within --deadline) or budget (fastest within --budget)" },
            new Option<string?>("--deadline") { HelpName = "DURATION", Description = "Longest acceptable copy time for --goal deadline, e.g. 30m" },
            new Option<decimal?>("--budget") { HelpName = "USD", Description = "Most the copy may cost for --goal budget (egress + gateway VMs)" },
            new Option<int?>("--max-vms") { HelpName = "N", Description = "Most gateway VMs per region (default 8)" },
            new Option<bool>("--direct") { Description = "Only the direct route, no relay regions" },
            new Option<string?>("--tenant") { HelpName = "TENANT", Description = "Tenant the copy is for (the operator must name one; default 'default' on an in-process mesh)" });
        command.Add(set.Source);
        command.Add(set.Destination);
        foreach (var option in new Option[] { set.From, set.To, set.Bytes, set.Goal, set.Deadline, set.Budget, set.MaxVms, set.Direct, set.Tenant }) command.Add(option);
        return set;
    }

    private static SpecFlags ReadSpec(ParseResult parse, Options set)
    {
        var spec = new TransferSpec
        {
            SourceUri = parse.GetValue(set.Source)!, DestinationUri = parse.GetValue(set.Destination)!,
            Goal = parse.GetValue(set.Goal) is { } goal ? ParseGoal(goal) : TransferGoal.Cheapest,
            MaxVmsPerRegion = parse.GetValue(set.MaxVms) is { } vms ? vms >= 1 ? vms : throw new FormatException($"--max-vms: {vms} is not >= 1") : 0,
            DirectOnly = parse.GetValue(set.Direct), TenantId = parse.GetValue(set.Tenant) ?? "",
        };
        if (parse.GetValue(set.From) is { } from) spec.SourceLocation = Flags.ParseLocation("--from", from, minParts: 2);
        if (parse.GetValue(set.To) is { } to) spec.DestinationLocation = Flags.ParseLocation("--to", to, minParts: 2);
        if (parse.GetValue(set.Bytes) is { } bytes) spec.Bytes = ParseBytes("--bytes", bytes);
        if (parse.GetValue(set.Deadline) is { } deadline) spec.Deadline = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(Flags.ParseDuration("--deadline", deadline));
        if (parse.GetValue(set.Budget) is { } budget) spec.Budget = Money.FromDecimal(budget, "USD");
        if (spec.Goal == TransferGoal.CheapestByDeadline && spec.Deadline is null) throw new FormatException("--goal deadline needs --deadline");
        if (spec.Goal == TransferGoal.FastestUnderBudget && spec.Budget is null) throw new FormatException("--goal budget needs --budget");
        return new SpecFlags(spec);
    }

    private static TransferGoal ParseGoal(string text) => text.Trim().ToLowerInvariant() switch
    {
        "cheapest" => TransferGoal.Cheapest,
        "fastest" => TransferGoal.Fastest,
        "deadline" => TransferGoal.CheapestByDeadline,
        "budget" => TransferGoal.FastestUnderBudget,
        _ => throw new FormatException($"--goal: '{text}' is not cheapest, fastest, deadline or budget"),
    };

    /// <summary>"1048576", "500GB", "1.5TiB", "64MiB": decimal (kB, MB, GB, TB) and binary (KiB, MiB, GiB, TiB) units, whole bytes.</summary>
    public static long ParseBytes(string flag, string text)
    {
        var t = text.Trim();
        var split = t.Length;
        while (split > 0 && char.IsLetter(t[split - 1])) split--;
        var unit = t[split..].ToLowerInvariant();
        long multiplier = unit switch
        {
            "" or "b" => 1,
            "kb" => 1_000, "mb" => 1_000_000, "gb" => 1_000_000_000, "tb" => 1_000_000_000_000,
            "kib" => 1L << 10, "mib" => 1L << 20, "gib" => 1L << 30, "tib" => 1L << 40,
            _ => throw new FormatException($"{flag}: '{text}' has an unknown unit '{t[split..]}' (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)"),
        };
        if (!decimal.TryParse(t[..split], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) || amount <= 0)
            throw new FormatException($"{flag}: '{text}' is not a positive size such as 500GB or 1048576");
        var bytes = amount * multiplier;
        return bytes >= 1 && bytes <= long.MaxValue && bytes == decimal.Truncate(bytes) ? (long)bytes
            : throw new FormatException($"{flag}: '{text}' is not a whole number of bytes");
    }

    private static void Embedded(MeshConnection mesh, TransferSpec spec)
    {
        if (mesh.IsEmbedded && spec.TenantId.Length == 0) spec.TenantId = "default";
    }

    private static Command Plan()
    {
        var command = new Command("plan", "Plan a copy: routes (direct or through relay regions), gateway VMs, predicted time and cost, and the direct route beside it");
        var set = AddSpec(command);
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct, () => ReadSpec(parse, set), async (mesh, json, flags) =>
        {
            Embedded(mesh, flags.Spec);
            var plan = await new TransferClient(mesh.Channel).PlanTransferAsync(new PlanTransferRequest { Spec = flags.Spec }, cancellationToken: ct);
            if (json) ProtoJson.Write(plan); else Render(plan);
            return 0;
        }));
        return command;
    }

    private static Command Start()
    {
        var command = new Command("start", "Start a copy (planned on the spot, or --plan PLAN_ID) and follow it with a progress bar until it ends");
        var set = AddSpec(command);
        var detach = new Option<bool>("--detach") { Description = "Print the transfer id and return instead of following it (not on an in-process mesh, which ends with the command)" };
        var requestId = new Option<string?>("--request-id") { HelpName = "ID", Description = "Makes the start idempotent: a retry with the same id returns the same transfer" };
        command.Add(detach);
        command.Add(requestId);
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct, () => ReadSpec(parse, set), async (mesh, json, flags) =>
        {
            Embedded(mesh, flags.Spec);
            var client = new TransferClient(mesh.Channel);
            var plan = await client.PlanTransferAsync(new PlanTransferRequest { Spec = flags.Spec }, cancellationToken: ct);
            if (!json) Render(plan);
            var started = await client.StartTransferAsync(new StartTransferRequest { PlanId = plan.PlanId, RequestId = parse.GetValue(requestId) ?? "" }, cancellationToken: ct);
            if (parse.GetValue(detach) && !mesh.IsEmbedded)
            {
                if (json) CliContext.WriteJsonNode(new JsonObject { ["transfer_id"] = started.TransferId, ["plan"] = JsonNode.Parse(ProtoJson.Format(plan)) });
                else Console.WriteLine($"started {started.TransferId}");
                return 0;
            }
            if (!json) Console.WriteLine($"\nstarted {started.TransferId} (Ctrl-C stops following, not the transfer)\n");
            return await FollowAsync(client, started.TransferId, json, ct);
        }));
        return command;
    }

    private static Command Watch()
    {
        var id = new Argument<string>("TRANSFER") { Description = "A transfer id" };
        var command = new Command("watch", "Follow a transfer with a progress bar (NDJSON progress lines with --json) until it ends") { id };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, (mesh, json) => FollowAsync(new TransferClient(mesh.Channel), parse.GetValue(id)!, json, ct)));
        return command;
    }

    private static Command Cancel()
    {
        var id = new Argument<string>("TRANSFER") { Description = "A transfer id" };
        var command = new Command("cancel", "Stop a transfer: copied objects stay, partial uploads are aborted (a finished transfer keeps its state)") { id };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, async (mesh, json) =>
        {
            var reply = await new TransferClient(mesh.Channel).CancelTransferAsync(new CancelTransferRequest { TransferId = parse.GetValue(id)! }, cancellationToken: ct);
            if (json) ProtoJson.Write(reply); else Console.WriteLine(State(reply.State));
            return 0;
        }));
        return command;
    }

    private static Command Status()
    {
        var id = new Argument<string>("TRANSFER") { Description = "A transfer id; without it, every transfer you may see, newest first", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("status", "Transfers and their progress") { id };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, async (mesh, json) =>
        {
            var client = new TransferClient(mesh.Channel);
            if (parse.GetValue(id) is { Length: > 0 } one)
            {
                var job = (await client.GetTransferAsync(new GetTransferRequest { TransferId = one }, cancellationToken: ct)).Transfer;
                if (json) ProtoJson.Write(job); else RenderJob(job);
                return 0;
            }
            var list = await client.ListTransfersAsync(new ListTransfersRequest { Page = new PageRequest { PageSize = 1000 } }, cancellationToken: ct);
            if (json) { ProtoJson.Write(list); return 0; }
            var table = Format.Table("transfer", "tenant", "state", "created", "objects", "bytes", "source", "destination");
            foreach (var j in list.Transfers)
                table.AddTextRow(j.TransferId, j.TenantId, State(j.Progress.State), Format.Timestamp(j.CreatedAt),
                    $"{j.Progress.ObjectsDone}/{j.Progress.ObjectsTotal}", $"{Size(j.Progress.BytesDone)}/{Size(j.Progress.BytesTotal)}", j.Spec.SourceUri, j.Spec.DestinationUri);
            Format.Write(table);
            return 0;
        }));
        return command;
    }

    /// <summary>Follows WatchTransfer: a live progress bar, or one JSON line per update; exit 0 when it succeeded.</summary>
    private static async Task<int> FollowAsync(TransferClient client, string transferId, bool json, CancellationToken ct)
    {
        using var call = client.WatchTransfer(new WatchTransferRequest { TransferId = transferId }, cancellationToken: ct);
        WatchTransferResponse? last = null;
        if (json || Console.IsOutputRedirected)
        {
            await foreach (var update in call.ResponseStream.ReadAllAsync(ct))
            {
                last = update;
                if (json) ProtoJson.WriteLine(update);
                else Console.WriteLine(Line(update.Progress));
            }
        }
        else
        {
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var bar = progress.AddTask(transferId, maxValue: 1);
                    await foreach (var update in call.ResponseStream.ReadAllAsync(ct))
                    {
                        last = update;
                        var p = update.Progress;
                        bar.MaxValue = Math.Max(1, p.BytesTotal);
                        bar.Value = p.BytesDone;
                        bar.Description = $"{transferId} {State(p.State)} {p.ObjectsDone}/{p.ObjectsTotal} objects";
                    }
                    bar.StopTask();
                });
        }
        if (last is null) return 1;
        if (!json)
        {
            Console.WriteLine(Line(last.Progress));
            if (last.Error.Length > 0) CliContext.Fail(last.Error);
        }
        return last.Progress.State == TransferState.Succeeded ? 0 : 1;
    }

    private static string Line(TransferProgress p) =>
        $"{State(p.State)}: {p.ObjectsDone}/{p.ObjectsTotal} objects, {Size(p.BytesDone)} of {Size(p.BytesTotal)}"
        + (p.RateBytesPerSecond > 0 ? $", {Size(p.RateBytesPerSecond)}/s" : "")
        + (p.Eta is { } eta ? $", {Format.Duration(eta)} left" : "")
        + (p.ObjectsFailed > 0 ? $", {p.ObjectsFailed} failed" : "")
        + (p.BytesResent > 0 ? $", {Size(p.BytesResent)} re-sent" : "");

    private static string State(TransferState state) => state.ToString().ToLowerInvariant();

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 40 => $"{bytes / (double)(1L << 40):0.##} TiB",
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.##} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.##} MiB",
        >= 1L << 10 => $"{bytes / (double)(1L << 10):0.##} KiB",
        _ => $"{bytes} B",
    };

    private static string Gbps(long bps) => bps == 0 ? "unknown" : $"{bps / 1e9:0.###} Gbit/s";

    public static void Render(PlanTransferResponse plan)
    {
        var routes = Format.Table("plan", "route", "bytes", "throughput");
        foreach (var (name, p) in new[] { ("chosen", plan.Plan), ("direct", plan.Direct) })
            foreach (var r in p.Routes)
                routes.AddTextRow(name, string.Join(" -> ", r.Hops.Select(Format.Location)), Size(r.Bytes), Gbps(r.ThroughputBps));
        Format.Write(routes);
        var gateways = Format.Table("plan", "region", "VMs", "instance");
        foreach (var (name, p) in new[] { ("chosen", plan.Plan), ("direct", plan.Direct) })
            foreach (var g in p.Gateways) gateways.AddTextRow(name, Format.Location(g.Location), $"{g.VmCount}", g.InstanceType);
        if (plan.Plan.Gateways.Count > 0 || plan.Direct.Gateways.Count > 0) Format.Write(gateways);
        var costs = Format.Table("", "time", "throughput", "egress", "gateway VMs", "total", "peering saved");
        foreach (var (name, p) in new[] { ("chosen", plan.Plan), ("direct", plan.Direct) })
            costs.AddTextRow(name, p.PredictedThroughputBps == 0 ? "unknown" : Format.Duration(p.PredictedDuration), Gbps(p.PredictedThroughputBps),
                Format.Money(p.EgressCost), Format.Money(p.VmCost), Format.Money(p.TotalCost), Format.Money(p.PeeringDiscount));
        Format.Write(costs);
        Format.KeyValues(("plan", plan.PlanId), ("goal", plan.Goal.ToString().ToLowerInvariant()), ("bytes", Size(plan.Bytes)),
            ("price book", $"{plan.PriceBookRevision}"), ("planned in", Format.Duration(plan.PlanTime)), ("expires", Format.Timestamp(plan.ExpiresAt)));
    }

    private static void RenderJob(TransferJob job)
    {
        Format.KeyValues(
            ("transfer", job.TransferId), ("tenant", job.TenantId), ("state", State(job.Progress.State)), ("progress", Line(job.Progress)),
            ("source", job.Spec.SourceUri), ("destination", job.Spec.DestinationUri), ("plan", job.PlanId), ("resumes", $"{job.Resumes}"),
            ("created", Format.Timestamp(job.CreatedAt)), ("started", Format.Timestamp(job.StartedAt)), ("ended", Format.Timestamp(job.EndedAt)),
            ("error", job.Error));
    }
}
