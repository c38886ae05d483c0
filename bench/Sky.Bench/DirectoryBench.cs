using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Sky.Common.V1;
using Sky.Directory.Engine;
using Sky.Directory.V1;
using Sky.Host;
using Sky.Hosting.Identity;
using Sky.Hosting.Options;
using DirectoryClient = Sky.Directory.V1.Directory.DirectoryClient;

namespace Sky.Bench;

/// <summary>
/// The directory's figures (issue #3): queries over 100,000 offers in process and over gRPC (beside
/// the empty-call floor), registrations with leases in memory and on Redis (beside redis-benchmark),
/// and watch latency from write to delivered change.
/// </summary>
public static class DirectoryBench
{
    public const int TargetOffers = 100_000;
    private static readonly Principal Operator = new(PrincipalKind.Operator, "", "bench");

    /// <summary>The selectors measured: each has three clauses and the answer is ranked by price.</summary>
    public static readonly string[] Selectors =
    [
        "service=postgres, version>=15 <17, provider in (aws,gcp)",
        "kind=compute, gpu=A100, price<=40",
        "kind=compute, provider=aws, vcpus>=8",
    ];

    public static async Task QueryAsync(Figures figures, TimeSpan duration)
    {
        await using var host = await MeshHost.StartEmbeddedAsync(new MeshOptions { Services = new HashSet<MeshService> { MeshService.Directory } });
        var engine = host.Services.GetRequiredService<DirectoryEngine>();
        var (catalog, generated) = await LoadAsync(engine, figures);
        figures.Add("offers", engine.Count, 0);
        figures.Add("offers_from_catalog", catalog, 0);
        figures.Add("offers_generated", generated, 0);

        for (var s = 0; s < Selectors.Length; s++)
        {
            var request = Ranked(Selectors[s]);
            var matches = engine.QueryInProcess(new QueryOffersRequest(request) { Page = new PageRequest { PageSize = 1000 } }).Count;
            var samples = new List<double>();
            var until = Stopwatch.StartNew();
            while (until.Elapsed < duration / 6 || samples.Count < 1000)
            {
                var t = Stopwatch.GetTimestamp();
                engine.QueryInProcess(request);
                samples.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
            samples.Sort();
            figures.Add($"inproc_q{s + 1}_selector", Selectors[s]);
            figures.Add($"inproc_q{s + 1}_matches_first_1000", matches, 0);
            figures.Add($"inproc_q{s + 1}_p50_ms", Percentile(samples, 0.50), 4);
            figures.Add($"inproc_q{s + 1}_p99_ms", Percentile(samples, 0.99), 4);
        }

        var inproc = await Load.RunAsync(() => engine.QueryAsync(Ranked(Selectors[0]), CancellationToken.None), 64, duration / 6, TimeSpan.FromSeconds(1));
        figures.Add("inproc_concurrent_q1_per_s", inproc.PerSecond, 0);

        using var channel = Channel(host.Grpc);
        var auth = new Metadata { { "authorization", "Bearer " + host.OperatorToken } };
        var client = new DirectoryClient(channel);
        // The floor is GetMeshInfo: an almost empty call through the same key check (health runs its checks on every call, so it is slower).
        var meshInfo = new Sky.Mesh.V1.Mesh.MeshClient(channel);
        const int workers = 64;
        var warmup = TimeSpan.FromSeconds(1);
        var floor = await Load.RunAsync(async () => await meshInfo.GetMeshInfoAsync(new Sky.Mesh.V1.GetMeshInfoRequest(), auth), workers, duration / 3, warmup);
        var query = Ranked(Selectors[0]);
        var grpc = await Load.RunAsync(async () => await client.QueryOffersAsync(query, auth), workers, duration / 3, warmup);
        figures.Add("grpc_query_selector", Selectors[0] + " (price-ranked, page of 10)");
        figures.Add("grpc_query_per_s", grpc.PerSecond, 0);
        figures.Add("grpc_query_p50_ms", grpc.P50Ms, 3);
        figures.Add("grpc_query_p99_ms", grpc.P99Ms, 3);
        figures.Add("grpc_floor_mesh_info_per_s", floor.PerSecond, 0);
        figures.Add("grpc_query_to_floor_ratio", grpc.PerSecond / floor.PerSecond, 3);
        figures.Add("workers", workers, 0);

        if (H2Load.Available)
        {
            // The same two calls driven by h2load: 4 connections x 32 streams, one thread. The query repeats, so the
            // directory answers it from its query cache (valid until the next write); a second host with the cache
            // off gives the rate of a query computed every time.
            var h2Floor = await H2Load.RunAsync(host.Grpc, "/sky.mesh.v1.Mesh/GetMeshInfo", new Sky.Mesh.V1.GetMeshInfoRequest(), host.OperatorToken, duration / 3);
            var h2Query = await H2Load.RunAsync(host.Grpc, "/sky.directory.v1.Directory/QueryOffers", query, host.OperatorToken, duration / 3);
            figures.Add("h2load_floor_mesh_info_per_s", h2Floor.PerSecond, 0);
            figures.Add("h2load_query_per_s", h2Query.PerSecond, 0);
            figures.Add("h2load_query_mean_ms", h2Query.MeanMs, 3);
            figures.Add("h2load_query_failed", h2Query.Failed, 0);
            figures.Add("h2load_query_to_floor_ratio", h2Query.PerSecond / h2Floor.PerSecond, 3);
            await using var uncachedHost = await MeshHost.StartEmbeddedAsync(new MeshOptions { Services = new HashSet<MeshService> { MeshService.Directory } },
                b => b.Services.AddSingleton(new DirectoryOptions { QueryCacheEntries = 0 }));
            await LoadAsync(uncachedHost.Services.GetRequiredService<DirectoryEngine>(), new Figures());
            var h2Uncached = await H2Load.RunAsync(uncachedHost.Grpc, "/sky.directory.v1.Directory/QueryOffers", query, uncachedHost.OperatorToken, duration / 3);
            figures.Add("h2load_query_uncached_per_s", h2Uncached.PerSecond, 0);
            figures.Add("h2load_query_uncached_failed", h2Uncached.Failed, 0);
        }
        else figures.Add("h2load", "not installed (apt-get install nghttp2-client): C# generator figures only");
        figures.Add("cores", Environment.ProcessorCount, 0);
    }

    public static async Task RegisterAsync(Figures figures, TimeSpan duration)
    {
        await using (var host = await MeshHost.StartEmbeddedAsync(DirectoryOnly(StoreLocation.Memory)))
        {
            var engine = host.Services.GetRequiredService<DirectoryEngine>();
            figures.Add("memory_registrations_per_s", await RegisterRateAsync(engine, duration / 3, workers: 8), 0);
            using var channel = Channel(host.Grpc);
            var client = new DirectoryClient(channel);
            var auth = new Metadata { { "authorization", "Bearer " + host.OperatorToken } };
            var n = 0;
            var grpc = await Load.RunAsync(async () => await client.RegisterAsync(
                Register(Generated(Interlocked.Increment(ref n), "grpc")), auth), 64, duration / 3, TimeSpan.FromSeconds(1));
            figures.Add("memory_grpc_registrations_per_s", grpc.PerSecond, 0);
            figures.Add("memory_grpc_register_p99_ms", grpc.P99Ms, 3);
        }

        await using var redis = await BenchRedis.StartAsync();
        figures.Add("redis_benchmark_set_per_s", await redis.BenchmarkSetAsync(pipeline: 1), 0);
        figures.Add("redis_benchmark_set_p16_per_s", await redis.BenchmarkSetAsync(pipeline: 16), 0);
        await using (var host = await MeshHost.StartEmbeddedAsync(DirectoryOnly(StoreLocation.Parse(redis.Uri))))
        {
            var engine = host.Services.GetRequiredService<DirectoryEngine>();
            figures.Add("redis_registrations_per_s", await RegisterRateAsync(engine, duration / 3, workers: 64), 0);
        }
        figures.Add("cores", Environment.ProcessorCount, 0);
    }

    public static async Task WatchAsync(Figures figures, TimeSpan duration)
    {
        await using (var host = await MeshHost.StartEmbeddedAsync(DirectoryOnly(StoreLocation.Memory)))
        {
            var (p50, p99, n) = await WatchLatencyAsync(host, host, duration / 2);
            figures.Add("memory_watch_changes", n, 0);
            figures.Add("memory_watch_p50_ms", p50, 3);
            figures.Add("memory_watch_p99_ms", p99, 3);
        }
        await using var redis = await BenchRedis.StartAsync();
        var store = DirectoryOnly(StoreLocation.Parse(redis.Uri));
        await using var writer = await MeshHost.StartEmbeddedAsync(store);
        await using var watcher = await MeshHost.StartEmbeddedAsync(store);
        var (rp50, rp99, rn) = await WatchLatencyAsync(writer, watcher, duration / 2);
        figures.Add("redis_cross_host_watch_changes", rn, 0);
        figures.Add("redis_cross_host_watch_p50_ms", rp50, 3);
        figures.Add("redis_cross_host_watch_p99_ms", rp99, 3);
    }

    /// <summary>Writes on one host at about 1,000 registrations/s while a watch on the other measures write-to-delivery time.</summary>
    private static async Task<(double P50, double P99, int Count)> WatchLatencyAsync(EmbeddedMesh writeHost, EmbeddedMesh watchHost, TimeSpan duration)
    {
        var writes = new ConcurrentDictionary<string, long>();
        var latencies = new List<double>();
        using var watchChannel = Channel(watchHost.Grpc);
        using var cts = new CancellationTokenSource();
        var auth = new Metadata { { "authorization", "Bearer " + watchHost.OperatorToken } };
        using var watch = new DirectoryClient(watchChannel).Watch(new WatchRequest { Selector = "service=watched" }, auth, cancellationToken: cts.Token);
        await watch.ResponseStream.MoveNext(cts.Token);
        var reader = Task.Run(async () =>
        {
            try
            {
                while (await watch.ResponseStream.MoveNext(cts.Token))
                {
                    var now = Stopwatch.GetTimestamp();
                    foreach (var change in watch.ResponseStream.Current.Changes)
                        if (writes.TryRemove(change.Offer.Key, out var start))
                            lock (latencies) latencies.Add(Stopwatch.GetElapsedTime(start, now).TotalMilliseconds);
                }
            }
            catch (RpcException) when (cts.IsCancellationRequested) { }
            catch (OperationCanceledException) { }
        });

        var engine = writeHost.Services.GetRequiredService<DirectoryEngine>();
        var stop = Stopwatch.StartNew();
        var i = 0;
        while (stop.Elapsed < duration)
        {
            var offer = Generated(++i, "watch");
            offer.Service = "watched";
            offer.Name = "";
            writes[offer.Key] = Stopwatch.GetTimestamp();
            await engine.RegisterAsync(offer, Duration.FromTimeSpan(TimeSpan.FromMinutes(10)), Operator, CancellationToken.None);
            await Task.Delay(1);
        }
        await Task.Delay(500);
        await cts.CancelAsync();
        await reader;
        latencies.Sort();
        return (Percentile(latencies, 0.50), Percentile(latencies, 0.99), latencies.Count);
    }

    private static async Task<double> RegisterRateAsync(DirectoryEngine engine, TimeSpan duration, int workers)
    {
        var next = 0;
        var ttl = Duration.FromTimeSpan(TimeSpan.FromMinutes(10));
        async Task<long> RunAsync(TimeSpan length)
        {
            var stop = Stopwatch.StartNew();
            long count = 0;
            await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
            {
                while (stop.Elapsed < length)
                {
                    await engine.RegisterAsync(Generated(Interlocked.Increment(ref next), "reg"), ttl, Operator, CancellationToken.None);
                    Interlocked.Increment(ref count);
                }
            })));
            return count;
        }
        await RunAsync(TimeSpan.FromSeconds(1));
        var timer = Stopwatch.StartNew();
        var done = await RunAsync(duration);
        return done / timer.Elapsed.TotalSeconds;
    }

    /// <summary>The real SkyPilot catalogs (AWS, GCP, Lambda) from ../shared when present, then generated service instances up to 100,000.</summary>
    private static async Task<(int Catalog, int Generated)> LoadAsync(DirectoryEngine engine, Figures figures)
    {
        var shared = SharedData.Find("catalogs/skypilot");
        var fromCatalog = 0;
        if (shared is null) figures.Add("catalog_source", "../shared not found: generated offers only");
        else
        {
            figures.Add("catalog_source", "../shared/catalogs/skypilot (aws, gcp, lambda)");
            foreach (var cloud in new[] { "aws", "gcp", "lambda" })
            {
                using var reader = File.OpenText(Path.Combine(shared, cloud, "vms.csv"));
                var result = await engine.ImportCatalogAsync(cloud, reader, replace: false, "catalog", CancellationToken.None);
                fromCatalog += result.OffersAdded;
            }
        }
        var generated = 0;
        var ttl = Duration.FromTimeSpan(TimeSpan.FromHours(24));
        while (engine.Count < TargetOffers)
            await engine.RegisterAsync(Generated(++generated, "svc"), ttl, Operator, CancellationToken.None);
        return (fromCatalog, generated);
    }

    private static readonly string[] Services = ["postgres", "kafka", "redis", "mysql", "etcd"];
    private static readonly (string Provider, string Region)[] Regions =
    [
        ("aws", "us-east-1"), ("aws", "eu-west-1"), ("aws", "ap-northeast-1"), ("gcp", "us-central1"), ("gcp", "europe-west4"),
        ("gcp", "asia-east1"), ("azure", "eastus"), ("azure", "westeurope"), ("azure", "japaneast"), ("lambda", "us-east-1"),
    ];

    /// <summary>A service instance with varied service, region, version, price and load (deterministic in <paramref name="i"/>).</summary>
    public static Offer Generated(int i, string prefix)
    {
        var service = Services[i % Services.Length];
        var (provider, region) = Regions[i / Services.Length % Regions.Length];
        var name = $"{prefix}-{i}.{service}.{region}.{provider}.sky";
        return new Offer
        {
            Key = name,
            Kind = OfferKind.ServiceInstance,
            Location = new Location { Provider = provider, Region = region },
            Service = service,
            Name = name,
            Version = $"{12 + i % 6}.{i % 4}",
            Hardware = new Hardware { Vcpus = 2 << (i % 4), MemoryGib = 8 << (i % 4) },
            Price = new Price { OnDemandHourly = Money.FromDecimal(0.05m + i % 400 * 0.01m, "USD") },
            Load = i % 101 / 100.0,
        };
    }

    private static QueryOffersRequest Ranked(string selector) =>
        new() { Selector = selector, Preference = new Preference { PriceWeight = 1 }, Page = new PageRequest { PageSize = 10 } };

    private static RegisterRequest Register(Offer offer) => new() { Offer = offer, Ttl = Duration.FromTimeSpan(TimeSpan.FromMinutes(10)) };

    private static MeshOptions DirectoryOnly(StoreLocation store) =>
        new() { Services = new HashSet<MeshService> { MeshService.Directory }, Store = store };

    private static GrpcChannel Channel(Uri address) => GrpcChannel.ForAddress(address, new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
        MaxReceiveMessageSize = 64 * 1024 * 1024,
    });

    private static double Percentile(List<double> sorted, double p) => Load.Percentile(sorted, p);
}
