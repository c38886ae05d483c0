using System.Text;
using Grpc.Core;
using Google.Protobuf.WellKnownTypes;
using Sky.Directory.Engine;
using Sky.Directory.Query;
using Sky.Directory.V1;
using Sky.Hosting.Errors;
using Sky.Hosting.Identity;

namespace Sky.Directory.Api;

/// <summary>gRPC adapter of sky.directory.v1.Directory: unpacks requests, calls the engine, packs responses.</summary>
[BindServiceMethod(typeof(DirectoryBinding), nameof(DirectoryBinding.BindService))]
public sealed class DirectoryApi(DirectoryEngine engine) : V1.Directory.DirectoryBase
{
    /// <summary>Progress notifications on an idle watch, as the contract promises (at least every 10 s).</summary>
    public static readonly TimeSpan WatchProgressInterval = TimeSpan.FromSeconds(5);

    public override async Task<RegisterResponse> Register(RegisterRequest request, ServerCallContext context)
    {
        var (offer, ttl) = await engine.RegisterAsync(request.Offer, request.Ttl, context.GetCaller(), context.CancellationToken);
        return new RegisterResponse { Offer = offer, Ttl = Duration.FromTimeSpan(ttl) };
    }

    public override async Task KeepAlive(IAsyncStreamReader<KeepAliveRequest> requestStream, IServerStreamWriter<KeepAliveResponse> responseStream, ServerCallContext context)
    {
        var caller = context.GetCaller();
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            var response = new KeepAliveResponse();
            response.Leases.AddRange(await engine.KeepAliveAsync(request.LeaseIds, caller, context.CancellationToken));
            await responseStream.WriteAsync(response, context.CancellationToken);
        }
    }

    public override async Task<DeregisterResponse> Deregister(DeregisterRequest request, ServerCallContext context)
    {
        var (removed, revision) = await engine.DeregisterAsync(request.OfferId, context.GetCaller(), context.CancellationToken);
        return new DeregisterResponse { Deregistered = removed, Revision = revision };
    }

    public override async Task<GetOfferResponse> GetOffer(GetOfferRequest request, ServerCallContext context) =>
        new() { Offer = await engine.GetOfferAsync(request.OfferId, context.CancellationToken) };

    public override Task<QueryOffersResponse> QueryOffers(QueryOffersRequest request, ServerCallContext context) =>
        engine.QueryAsync(request, context.CancellationToken);

    public override async Task Watch(WatchRequest request, IServerStreamWriter<WatchResponse> responseStream, ServerCallContext context)
    {
        var selector = OfferQuery.ParseSelector(request.Selector);
        using var watch = engine.Watch(selector, request.StartRevision);
        var ct = context.CancellationToken;
        while (!ct.IsCancellationRequested)
        {
            // Wait for changes, or send a progress notification (no changes, current revision) when idle.
            using var timer = new CancellationTokenSource(WatchProgressInterval, engine.Time);
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct, timer.Token);
            bool more;
            try { more = await watch.WaitAsync(idle.Token); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                await responseStream.WriteAsync(new WatchResponse { Revision = engine.Revision }, ct);
                continue;
            }
            catch (OperationCanceledException) { return; }
            if (!more) return;
            while (watch.TryRead(out var response))
            {
                await responseStream.WriteAsync(response, ct);
                if (response.Compacted) return;
            }
        }
    }

    public override async Task<ImportCatalogResponse> ImportCatalog(IAsyncStreamReader<ImportCatalogRequest> requestStream, ServerCallContext context)
    {
        // Parts are joined into one text: vms.csv files are a few MB, and the reader needs whole lines anyway.
        var text = new StringBuilder();
        string? provider = null;
        var replace = false;
        await foreach (var part in requestStream.ReadAllAsync(context.CancellationToken))
        {
            if (provider is null)
            {
                provider = part.Provider.ToLowerInvariant();
                replace = part.Replace;
            }
            text.Append(part.Csv);
            if (text.Length > MaxCatalogChars)
                throw RpcErrors.InvalidArgument("csv", $"a catalog file may be at most {MaxCatalogChars / 1_000_000} MB");
        }
        if (provider is null || provider.Length == 0) throw RpcErrors.InvalidArgument("provider", "required in the first message");
        if (text.Length == 0) throw RpcErrors.InvalidArgument("csv", "empty: send the vms.csv text, header line first");
        using var reader = new StringReader(text.ToString());
        return await engine.ImportCatalogAsync(provider, reader, replace, "catalog", context.CancellationToken);
    }

    private const int MaxCatalogChars = 256_000_000;

    public override Task<ListAcceleratorsResponse> ListAccelerators(ListAcceleratorsRequest request, ServerCallContext context) =>
        Task.FromResult(engine.ListAccelerators(request));

    public override Task<GetEgressPriceGridResponse> GetEgressPriceGrid(GetEgressPriceGridRequest request, ServerCallContext context) =>
        engine.GetEgressPriceGridAsync(request, context.CancellationToken);

    public override Task<PutEgressPriceGridResponse> PutEgressPriceGrid(PutEgressPriceGridRequest request, ServerCallContext context) =>
        engine.PutEgressPriceGridAsync(request, context.GetCaller(), context.CancellationToken);

    public override Task<GetPricesResponse> GetPrices(GetPricesRequest request, ServerCallContext context) =>
        engine.GetPricesAsync(request, context.CancellationToken);

    public override Task<GetThroughputGridResponse> GetThroughputGrid(GetThroughputGridRequest request, ServerCallContext context) =>
        engine.GetThroughputGridAsync(request, context.CancellationToken);

    public override Task<PutThroughputGridResponse> PutThroughputGrid(PutThroughputGridRequest request, ServerCallContext context) =>
        engine.PutThroughputGridAsync(request, context.CancellationToken);
}
