using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Directory.Engine;
using Sky.Placement.Providers;
using Sky.Placement.V1;
using Spectre.Console;
using AccountingClient = Sky.Accounting.V1.Accounting.AccountingClient;
using PlacementClient = Sky.Placement.V1.Placement.PlacementClient;

namespace Sky.Cli.Commands;

/// <summary><c>sky launch FILE</c>, <c>sky status [JOB]</c>, <c>sky logs JOB</c>, <c>sky cancel JOB</c>: run task YAML on the broker and follow it.</summary>
public static class JobsCommand
{
    /// <summary>What the simulated cloud of an in-process mesh does unless told otherwise: fail the first provisioning for lack of capacity, to show failover.</summary>
    public const string DefaultEmbeddedFaults = "capacity:*:1";

    private sealed record LaunchFlags(PlanCommand.PlanFlags Plan, SimFaults? Faults, bool Detach, string? Name);

    public static IEnumerable<Command> Create() => [Launch(), Status(), Logs(), Cancel()];

    private static Command Launch()
    {
        var file = new Argument<string>("FILE") { Description = "A SkyPilot task YAML (one task, a chain separated by ---, or a DAG with depends_on)" };
        var faults = new Option<string?>("--sim-faults")
        {
            HelpName = "RULES",
            Description = $"In-process mesh only: faults of the simulated clouds, e.g. 'capacity:gcp/us-central1:1;preempt:aws/*:after=30s' (default '{DefaultEmbeddedFaults}': the first provisioning fails for capacity and the job fails over; 'none' for no faults)",
        };
        var detach = new Option<bool>("--detach") { Description = "Print the job id and return instead of following the job" };
        var name = new Option<string?>("--name") { HelpName = "NAME", Description = "Display name of the job (default: the first task's name)" };
        var command = new Command("launch", "Plan the tasks, launch them with failover (capacity, quota, preemption), stream their output and print the attempts and the cost")
        {
            file, faults, detach, name,
        };
        var options = PlanOptions.Add(command);
        command.SetAction((parse, ct) => Flags.RunAsync(parse, ct, () =>
            {
                var plan = PlanOptions.Read(parse, parse.GetValue(file)!, options);
                var text = parse.GetValue(faults);
                var embedded = parse.GetValue(CliContext.Endpoint) is not { Length: > 0 };
                if (!embedded && text is not null) throw new FormatException("--sim-faults: only for the in-process mesh (a host's simulated cloud is configured where it runs)");
                SimFaults? parsed = !embedded ? null
                    : string.Equals(text, "none", StringComparison.OrdinalIgnoreCase) ? SimFaults.None
                    : SimFaults.Parse(text ?? DefaultEmbeddedFaults);
                return new LaunchFlags(plan, parsed, parse.GetValue(detach), parse.GetValue(name));
            },
            async (mesh, json, flags) =>
            {
                await PlanOptions.ImportCatalogAsync(mesh, flags.Plan, json, ct);
                var client = new PlacementClient(mesh.Channel);
                var plan = await client.PlanAsync(new PlanRequest { Spec = flags.Plan.Spec }, cancellationToken: ct);
                if (!json) PlanCommand.Render(plan);
                var launched = await client.LaunchAsync(new LaunchRequest { PlanId = plan.PlanId, Name = flags.Name ?? "" }, cancellationToken: ct);
                if (flags.Detach && !mesh.IsEmbedded)
                {
                    if (json) CliContext.WriteJsonNode(new JsonObject { ["job_id"] = launched.JobId, ["plan"] = PlanCommand.ToJson(plan) });
                    else Console.WriteLine($"launched {launched.JobId}");
                    return 0;
                }
                if (!json) Console.WriteLine($"\nlaunched {launched.JobId}; following its output (Ctrl-C stops following, not the job)\n");
                await FollowAsync(client, launched.JobId, print: !json, ct);
                var job = (await client.GetJobAsync(new GetJobRequest { JobId = launched.JobId }, cancellationToken: ct)).Job;
                // The quote, the bill and the one explained against the other, once accounting has rated the job's usage.
                var reconciled = plan.QuoteId.Length > 0 ? await ReconciledAsync(new AccountingClient(mesh.Channel), job.JobId, ct) : null;
                if (json)
                {
                    var result = new JsonObject { ["plan"] = PlanCommand.ToJson(plan), ["job"] = JsonNode.Parse(ProtoJson.Format(job)) };
                    if (reconciled is not null) result["reconciliation"] = BillCommand.ReconcileJson(reconciled);
                    CliContext.WriteJsonNode(result);
                }
                else
                {
                    RenderJob(job, plan);
                    if (reconciled is not null) await RenderBillAsync(new AccountingClient(mesh.Channel), plan.QuoteId, job.JobId, reconciled, ct);
                }
                return job.State == JobState.Succeeded ? 0 : 1;
            },
            flags => flags.Faults is null ? PlanOptions.Embedded(flags.Plan)
                : b =>
                {
                    PlanOptions.Embedded(flags.Plan)?.Invoke(b);
                    b.Services.AddSingleton(new SimOptions { Faults = flags.Faults });
                }));
        return command;
    }

    /// <summary>
    /// The job's reconciliation once accounting says its usage is all in (<c>final</c>), waiting up to 10 s for the
    /// usage events to be rated (they travel over the event bus); the last answer if it never is.
    /// </summary>
    private static async Task<ReconcileResponse?> ReconciledAsync(AccountingClient accounting, string jobId, CancellationToken ct)
    {
        ReconcileResponse? last = null;
        for (var i = 0; i < 100; i++)
        {
            try
            {
                last = await accounting.ReconcileAsync(new ReconcileRequest { JobId = jobId }, cancellationToken: ct);
                if (last.Final) return last;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound) { } // the quote is not stored yet
            await Task.Delay(100, ct);
        }
        return last;
    }

    private static async Task RenderBillAsync(AccountingClient accounting, string quoteId, string jobId, ReconcileResponse reconciled, CancellationToken ct)
    {
        var quote = (await accounting.GetQuoteAsync(new GetQuoteRequest { QuoteId = quoteId }, cancellationToken: ct)).Quote;
        AnsiConsole.MarkupLine($"\n[bold]Quote[/] {Markup.Escape(quote.QuoteId)} (price book revision {quote.PriceBookRevision})");
        var quoted = Format.Table("line", "description", "quantity", "unit price", "amount $");
        foreach (var l in quote.Lines)
            quoted.AddTextRow(l.LineId, l.Description, $"{l.Quantity} {l.Unit}", $"{Format.Money(l.UnitPrice)}/{l.PriceUnit}", Format.Money(l.Amount));
        Format.Write(quoted);

        var usage = await accounting.ListUsageAsync(new ListUsageRequest { SubjectId = jobId, Page = new PageRequest { PageSize = 1000 } }, cancellationToken: ct);
        AnsiConsole.MarkupLine("\n[bold]Bill[/] (rated usage)");
        var billed = Format.Table("task", "where", "sku", "quantity", "billed $", "quote line");
        foreach (var u in usage.Usage.OrderBy(u => u.UsageStart?.ToDateTimeOffset()))
            billed.AddTextRow(u.IdempotencyKey.Split(':').ElementAtOrDefault(2) ?? "", Format.Location(u.Location), u.Sku, $"{u.Quantity} {u.Unit}", Format.Money(u.Amount),
                u.QuoteLineId.Length > 0 ? u.QuoteLineId : "(none: failover)");
        Format.Write(billed);

        AnsiConsole.MarkupLine("\n[bold]Reconciliation[/]");
        BillCommand.RenderReconciliation(reconciled);
    }

    private static async Task FollowAsync(PlacementClient client, string jobId, bool print, CancellationToken ct)
    {
        using var logs = client.StreamJobLogs(new StreamJobLogsRequest { JobId = jobId, Follow = true }, cancellationToken: ct);
        await foreach (var line in logs.ResponseStream.ReadAllAsync(ct))
            if (print) PrintLine(line);
    }

    private static void PrintLine(StreamJobLogsResponse line)
    {
        var who = line.Task.Length == 0 ? "sky" : line.Task;
        var text = Markup.Escape(line.Text);
        AnsiConsole.MarkupLine(line.Stream switch
        {
            LogStream.System => $"[grey]({who}) {text}[/]",
            LogStream.Stderr => $"[yellow]({who})[/] {text}",
            _ => $"[blue]({who})[/] {text}",
        });
    }

    public static void RenderJob(Job job, PlanResponse? plan)
    {
        var attempts = Format.Table("task", "attempt", "where", "instance", "outcome", "blocked", "back-off", "message");
        foreach (var task in job.Tasks)
            foreach (var a in task.Attempts)
                attempts.AddTextRow(task.Task, $"{a.Attempt}", Format.Location(a.Placement?.Location), a.Placement?.InstanceType ?? "",
                    Outcome(a.Outcome), Format.Location(a.Blocked), Format.Duration(a.Backoff), a.Message);
        Format.Write(attempts);
        // Nodes that came up are paid from the attempt's start to its end (accounting rates the exact usage events).
        var cost = 0m;
        foreach (var a in job.Tasks.SelectMany(t => t.Attempts))
            if (a.Outcome is AttemptOutcome.Success or AttemptOutcome.Preempted && a.Placement?.HourlyCost is { } hourly && a.EndedAt is not null)
                cost += hourly.ToDecimal() * (decimal)(a.EndedAt.ToDateTimeOffset() - a.StartedAt.ToDateTimeOffset()).TotalSeconds / 3600m;
        Format.KeyValues(
            ("job", job.JobId),
            ("state", job.State.ToString().ToLowerInvariant()),
            ("message", job.Message),
            ("ran for", job.StartedAt is null || job.EndedAt is null ? "" : $"{(job.EndedAt.ToDateTimeOffset() - job.StartedAt.ToDateTimeOffset()).TotalSeconds:0.0} s"),
            ("planned", plan is null ? "" : "$" + plan.Cost.Total.ToDecimal().ToString("0.00##", CultureInfo.InvariantCulture) + " at list prices for the estimated durations"),
            ("compute used", "$" + cost.ToString("0.000000", CultureInfo.InvariantCulture) + " at the placed prices"));
    }

    private static string Outcome(AttemptOutcome outcome) => outcome switch
    {
        AttemptOutcome.InProgress => "in progress",
        AttemptOutcome.Success => "ran",
        AttemptOutcome.CapacityError => "no capacity",
        AttemptOutcome.QuotaError => "quota",
        AttemptOutcome.Preempted => "preempted",
        AttemptOutcome.ProviderError => "provider error",
        AttemptOutcome.Cancelled => "cancelled",
        _ => "",
    };

    private static Command Status()
    {
        var job = new Argument<string>("JOB") { Description = "A job id; without it, every job you may see, newest first", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("status", "Jobs and their states (one job: its tasks and every attempt)") { job };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, async (mesh, json) =>
        {
            var client = new PlacementClient(mesh.Channel);
            if (parse.GetValue(job) is { Length: > 0 } id)
            {
                var one = (await client.GetJobAsync(new GetJobRequest { JobId = id }, cancellationToken: ct)).Job;
                if (json) ProtoJson.Write(one); else RenderJob(one, null);
                return 0;
            }
            var list = await client.ListJobsAsync(new ListJobsRequest { Page = new Sky.Common.V1.PageRequest { PageSize = 1000 } }, cancellationToken: ct);
            if (json) { ProtoJson.Write(list); return 0; }
            var table = Format.Table("job", "name", "tenant", "state", "created", "tasks");
            foreach (var j in list.Jobs)
                table.AddTextRow(j.JobId, j.Name, j.TenantId, j.State.ToString().ToLowerInvariant(), Format.Timestamp(j.CreatedAt),
                    string.Join(", ", j.Tasks.Select(t => $"{t.Task}: {t.State.ToString().ToLowerInvariant()}")));
            Format.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Logs()
    {
        var job = new Argument<string>("JOB") { Description = "A job id" };
        var task = new Option<string?>("--task") { HelpName = "TASK", Description = "Only this task's lines" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines until the job ends" };
        var command = new Command("logs", "A job's output and the broker's provisioning messages") { job, task, follow };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, async (mesh, json) =>
        {
            var client = new PlacementClient(mesh.Channel);
            using var call = client.StreamJobLogs(new StreamJobLogsRequest { JobId = parse.GetValue(job)!, Task = parse.GetValue(task) ?? "", Follow = parse.GetValue(follow) }, cancellationToken: ct);
            await foreach (var line in call.ResponseStream.ReadAllAsync(ct))
                if (json) ProtoJson.WriteLine(line); else PrintLine(line);
            return 0;
        }));
        return command;
    }

    private static Command Cancel()
    {
        var job = new Argument<string>("JOB") { Description = "A job id" };
        var command = new Command("cancel", "Stop a job's provisioning and running tasks (a finished job keeps its state)") { job };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, async (mesh, json) =>
        {
            var reply = await new PlacementClient(mesh.Channel).CancelJobAsync(new CancelJobRequest { JobId = parse.GetValue(job)! }, cancellationToken: ct);
            if (json) ProtoJson.Write(reply); else Console.WriteLine(reply.State.ToString().ToLowerInvariant());
            return 0;
        }));
        return command;
    }
}
