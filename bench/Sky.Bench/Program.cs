using Sky.Bench;

// bench/run.sh NAME: one entry per benchmark; each issue adds its own.
var benchmarks = new Dictionary<string, (string About, Func<Figures, TimeSpan, Task> Run)>
{
    ["grpc-floor"] = ("empty gRPC call rate and latency on loopback (health; GetMeshInfo with key check)", GrpcFloor.RunAsync),
    ["directory-query"] = ("100k offers: ranked 3-clause queries in process (p50/p99) and over gRPC beside the floor", DirectoryBench.QueryAsync),
    ["directory-register"] = ("registrations with leases: in memory, over gRPC, and on Redis beside redis-benchmark", DirectoryBench.RegisterAsync),
    ["directory-watch"] = ("watch latency from write to delivered change: in memory, and across two hosts on Redis", DirectoryBench.WatchAsync),
    ["placement"] = ("real GCP+Azure+Lambda catalogs: load time, every single-task YAML, a diamond and a 1->4->1 fan-out with 500 GB edges, a 50-task random DAG", PlacementBench.RunAsync),
    ["accounting"] = ("usage ingest (1M records, 30 % twice) in memory and on Redis beside redis-benchmark SET; closing the 1M-record period: time and peak memory", AccountingBench.RunAsync),
    ["focus-export"] = ("FOCUS 1.2 export of 1,000,000 usage rows of one tenant: time, rows/s, rows per CPU-second, peak memory", AccountingBench.FocusAsync),
    ["transfer-plan"] = ("Skyplane's grid: plan time of every goal for 5 region pairs (median of 5), throughput and cost beside the direct route", TransferPlanBench.RunAsync),
    ["events-redis"] = ("Redis Streams events between two processes: published and delivered per second, publish->handle p50/p99, beside redis-benchmark XADD", EventsBench.RedisAsync),
    ["transfer-copy"] = ("the copier: local->local beside cp -r (1 GiB, 10k files), s3rver->azurite beside rclone (1 GiB in 64), peak memory on 2 GiB, kill -9 at 50 % and resume", TransferCopyBench.RunAsync),
};

// The events benchmark's second process.
if (args is [EventsBench.SubscriberMode, var eventsUri, var eventsResults]) return await EventsBench.SubscriberAsync(eventsUri, eventsResults);
if (args is [TransferCopyBench.ChildMode, .. var copyArgs]) return await TransferCopyBench.ChildAsync(copyArgs);

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var bench))
{
    Console.WriteLine("benchmarks:");
    foreach (var (name, (about, _)) in benchmarks) Console.WriteLine($"  {name,-20} {about}");
    return args.Length == 0 ? 0 : 2;
}
var seconds = args.Length > 2 && args[1] == "--seconds" ? double.Parse(args[2]) : 10;
var figures = new Figures();
await bench.Run(figures, TimeSpan.FromSeconds(seconds));
// A run of some of transfer-copy's sections writes transfer-copy-<sections>.json, so it never replaces the full run's figures.
var resultsName = args[0] == "transfer-copy" && TransferCopyBench.SectionsAsked() is { } some ? $"{args[0]}-{string.Join('-', some)}" : args[0];
figures.Write(Path.Combine(Environment.GetEnvironmentVariable("SKY_BENCH_RESULTS") ?? "bench/results", resultsName + ".json"));
return 0;
