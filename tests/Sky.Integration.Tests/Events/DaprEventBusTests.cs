using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dapr.Client;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Hosting.Options;
using Sky.Host;
using Sidecar = Dapr.Client.Autogen.Grpc.v1;

namespace Sky.Integration.Tests.Events;

/// <summary>
/// The Dapr transport without a sidecar (daprd cannot run here): publishing through the real DaprClient against a test
/// double of the sidecar's gRPC API, and subscribing the way the sidecar does it: GET /dapr/subscribe, then POSTed
/// structured CloudEvents, answered SUCCESS, RETRY or DROP.
/// </summary>
public sealed class DaprEventBusTests
{
    /// <summary>
    /// The sidecar's PublishEvent, recording what the app sent. Dapr.Protos ships the sidecar's client only, so the
    /// server side is bound by hand (Grpc.AspNetCore finds BindService through the attribute; handlers are public virtual).
    /// </summary>
    [BindServiceMethod(typeof(FakeSidecar), nameof(BindService))]
    public class FakeSidecar
    {
        private static readonly Method<Sidecar.PublishEventRequest, Empty> Publish = new(
            MethodType.Unary, "dapr.proto.runtime.v1.Dapr", "PublishEvent",
            Marshallers.Create(m => m.ToByteArray(), Sidecar.PublishEventRequest.Parser.ParseFrom),
            Marshallers.Create(m => m.ToByteArray(), Empty.Parser.ParseFrom));

        public ConcurrentQueue<Sidecar.PublishEventRequest> Published { get; } = new();

        public virtual Task<Empty> PublishEvent(Sidecar.PublishEventRequest request, ServerCallContext context)
        {
            Published.Enqueue(request);
            return Task.FromResult(new Empty());
        }

        public static void BindService(ServiceBinderBase binder, FakeSidecar? service) =>
            binder.AddMethod(Publish, service is null ? null : service.PublishEvent);
    }

    private static SkyEvent Expired(string id, int n) =>
        new(id, "sky-mesh", "directory.offer.expired", DateTimeOffset.UtcNow, "aws-" + n, new DirectoryOfferExpired { OfferId = "aws-" + n, Revision = n });

    [Fact]
    public async Task Publishing_sends_our_cloudevent_to_the_sidecar_on_the_sky_pubsub_component()
    {
        var sidecar = new FakeSidecar();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(sidecar);
        await using var app = builder.Build();
        app.MapGrpcService<FakeSidecar>();
        await app.StartAsync();
        var address = app.Urls.Single();

        using var dapr = new DaprClientBuilder().UseGrpcEndpoint(address).Build();
        var bus = new DaprEventBus(dapr, new MemoryProcessedEvents(), TimeProvider.System, NullLogger<DaprEventBus>.Instance);
        await bus.PublishAsync(Topics.Directory, "directory.offer.expired", new DirectoryOfferExpired { OfferId = "aws-1", Revision = 9 }, subject: "aws-1");

        var request = Assert.Single(sidecar.Published);
        Assert.Equal(DaprNames.PubSub, request.PubsubName);
        Assert.Equal(Topics.Directory, request.Topic);
        Assert.Equal(CloudEventCodec.ContentType, request.DataContentType);
        var evt = CloudEventCodec.Decode(request.Data.Memory);
        Assert.Equal("directory.offer.expired", evt.Type);
        Assert.Equal("aws-1", evt.Subject);
        Assert.Equal(9, ((DirectoryOfferExpired)evt.Data).Revision);
        await app.StopAsync();
    }

    [Fact]
    public async Task The_subscribe_list_names_the_topics_the_hosted_services_consume()
    {
        await using var mesh = await MeshHost.StartEmbeddedAsync(new MeshOptions { Events = "dapr", Services = new HashSet<MeshService> { MeshService.Placement, MeshService.Accounting } });
        using var http = new HttpClient { BaseAddress = mesh.Http };
        using var json = JsonDocument.Parse(await http.GetStringAsync("/dapr/subscribe"));
        var listed = json.RootElement.EnumerateArray()
            .Select(s => (Pubsub: s.GetProperty("pubsubName").GetString(), Topic: s.GetProperty("topic").GetString(), Route: s.GetProperty("route").GetString()))
            .OrderBy(s => s.Topic).ToList();
        var expected = new[] { Topics.Billing, Topics.Directory, Topics.Peering, Topics.Placement, Topics.Transfer }.Order()
            .Select(t => ((string?)DaprNames.PubSub, (string?)t, (string?)DaprNames.Route(t).TrimStart('/'))).ToList();   // Dapr.AspNetCore lists routes without the leading slash
        Assert.Equal(expected, listed);
    }

    [Fact]
    public async Task Pushed_events_are_answered_success_retry_or_drop()
    {
        // Transfer consumes the directory topic but has no handler of its own yet (placement's directory feed and
        // accounting's usage subscriber would answer at once), so the first push finds nobody subscribed.
        await using var mesh = await MeshHost.StartEmbeddedAsync(new MeshOptions { Events = "dapr", Services = new HashSet<MeshService> { MeshService.Transfer } });
        using var http = new HttpClient { BaseAddress = mesh.Http };
        var route = DaprNames.Route(Topics.Directory);

        // Nobody has subscribed yet: Dapr must keep the event.
        Assert.Equal("RETRY", await PushAsync(http, route, CloudEventCodec.Encode(Expired("e0", 0))));

        var bus = mesh.Services.GetRequiredService<IEventBus>();
        var handled = new ConcurrentQueue<string>();
        var failNext = true;
        await using var _ = bus.Subscribe(Topics.Directory, "transfer", (e, _) =>
        {
            if (((DirectoryOfferExpired)e.Data).Revision == 2 && failNext) { failNext = false; throw new InvalidOperationException("cache busy"); }
            handled.Enqueue(e.Id);
            return Task.CompletedTask;
        });

        Assert.Equal("SUCCESS", await PushAsync(http, route, CloudEventCodec.Encode(Expired("e1", 1))));
        Assert.Equal("SUCCESS", await PushAsync(http, route, CloudEventCodec.Encode(Expired("e1", 1))));   // redelivered: handled once
        Assert.Equal("RETRY", await PushAsync(http, route, CloudEventCodec.Encode(Expired("e2", 2))));     // handler failed
        Assert.Equal("SUCCESS", await PushAsync(http, route, CloudEventCodec.Encode(Expired("e2", 2))));   // Dapr's retry
        Assert.Equal("DROP", await PushAsync(http, route, "{\"specversion\":\"1.0\",\"id\":\"x\",\"source\":\"s\",\"type\":\"no.such.type\",\"data\":{}}"u8.ToArray()));
        Assert.Equal("DROP", await PushAsync(http, route, "garbage"u8.ToArray()));
        Assert.Equal(["e1", "e2"], handled);
    }

    [Fact]
    public async Task With_an_app_api_token_only_the_sidecar_may_push()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<IEventBus>(new DaprEventBus(new DaprClientBuilder().Build(), new MemoryProcessedEvents(), TimeProvider.System, NullLogger<DaprEventBus>.Instance));
        await using var app = builder.Build();
        DaprEventBus.MapDaprSubscriptions(app, [Topics.Transfer], appApiToken: "s3cret");
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/dapr/subscribe")).StatusCode);
        using var push = new ByteArrayContent(CloudEventCodec.Encode(Expired("e1", 1)).ToArray());
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync(DaprNames.Route(Topics.Transfer), push)).StatusCode);
        http.DefaultRequestHeaders.Add("dapr-api-token", "s3cret");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/dapr/subscribe")).StatusCode);
        await app.StopAsync();
    }

    private static async Task<string?> PushAsync(HttpClient http, string route, ReadOnlyMemory<byte> body)
    {
        using var content = new ByteArrayContent(body.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue(CloudEventCodec.ContentType);
        using var response = await http.PostAsync(route, content);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("status").GetString();
    }
}
