using Dapr.Client;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sky.Hosting.Events;

/// <summary>
/// Events through a Dapr sidecar (<c>--events dapr</c>): published with <see cref="DaprClient"/> as our own structured
/// CloudEvent (content type application/cloudevents+json, so the sidecar forwards it instead of wrapping it) on the
/// <see cref="DaprNames.PubSub"/> component, whichever broker backs it. Dapr pushes a topic's events to the route
/// <see cref="DaprNames.Route"/> that <c>GET /dapr/subscribe</c> lists (mapped by <see cref="MapDaprSubscriptions"/> for
/// the topics this host's services consume); each is handed to every local subscriber of the topic and answered as
/// Dapr expects: SUCCESS when all handled it, RETRY when one failed or none has subscribed yet (Dapr redelivers under
/// its resiliency policy, then dead-letters; subscribers that already succeeded skip the duplicate by event id), DROP
/// for an event that is not a sky CloudEvent.
/// </summary>
public sealed class DaprEventBus(DaprClient dapr, IProcessedEvents processed, TimeProvider time, ILogger<DaprEventBus> log, string source = "sky-mesh") : IEventBus
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<(string Subscriber, Func<SkyEvent, CancellationToken, Task> Handler)>> _byTopic = new(StringComparer.Ordinal);

    public Task PublishAsync(string topic, string type, IMessage data, string? subject = null, CancellationToken ct = default) =>
        PublishAsync(topic, new SkyEvent(Guid.NewGuid().ToString("N"), source, type, time.GetUtcNow(), subject, data), ct);

    public Task PublishAsync(string topic, SkyEvent evt, CancellationToken ct = default) =>
        dapr.PublishByteEventAsync(DaprNames.PubSub, topic, CloudEventCodec.Encode(evt), CloudEventCodec.ContentType, cancellationToken: ct);

    public IAsyncDisposable Subscribe(string topic, string subscriber, Func<SkyEvent, CancellationToken, Task> handler)
    {
        var entry = (subscriber, handler);
        lock (_gate)
        {
            if (!_byTopic.TryGetValue(topic, out var list)) _byTopic[topic] = list = [];
            list.Add(entry);
        }
        return new Unsubscribe(() => { lock (_gate) _byTopic.GetValueOrDefault(topic)?.Remove(entry); });
    }

    /// <summary>Dapr's answers to a pushed event.</summary>
    public enum Answer { Success, Retry, Drop }

    /// <summary>Hands a pushed event (the request body: a structured CloudEvent) to the topic's local subscribers.</summary>
    public async Task<Answer> DeliverAsync(string topic, ReadOnlyMemory<byte> body, CancellationToken ct)
    {
        SkyEvent evt;
        try
        {
            evt = CloudEventCodec.Decode(body);
        }
        catch (FormatException e)
        {
            log.LogError("events: dropping a message on {Topic}: {Reason}", topic, e.Message);
            return Answer.Drop;
        }
        List<(string Subscriber, Func<SkyEvent, CancellationToken, Task> Handler)> targets;
        lock (_gate) targets = _byTopic.TryGetValue(topic, out var list) ? [.. list] : [];
        if (targets.Count == 0) return Answer.Retry;
        var answer = Answer.Success;
        foreach (var (subscriber, handler) in targets)
        {
            try
            {
                await IdempotentDelivery.HandleAsync(processed, subscriber, evt, handler, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning(e, "events: {Subscriber} failed {Type} {Id}; asking Dapr to retry", subscriber, evt.Type, evt.Id);
                answer = Answer.Retry;
            }
        }
        return answer;
    }

    /// <summary>
    /// Maps <c>GET /dapr/subscribe</c> and one route per topic in <paramref name="topics"/>; each answers Dapr with
    /// <c>{"status": "SUCCESS" | "RETRY" | "DROP"}</c>. With <paramref name="appApiToken"/> (Dapr's APP_API_TOKEN), calls
    /// without the same <c>dapr-api-token</c> header get 401: only the sidecar may push events.
    /// </summary>
    public static void MapDaprSubscriptions(IEndpointRouteBuilder app, IEnumerable<string> topics, string? appApiToken = null)
    {
        var filter = (EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
            appApiToken is null || TokenMatches(context.HttpContext.Request.Headers["dapr-api-token"].ToString(), appApiToken)
                ? next(context)
                : ValueTask.FromResult<object?>(Results.Unauthorized());
        app.MapSubscribeHandler().AddEndpointFilter(filter);
        foreach (var topic in topics.Distinct())
        {
            app.MapPost(DaprNames.Route(topic), async (HttpContext http) =>
            {
                var bus = http.RequestServices.GetRequiredService<IEventBus>() as DaprEventBus
                    ?? throw new InvalidOperationException("Dapr subscriptions are mapped but the event bus is not Dapr's");
                using var buffer = new MemoryStream();
                await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
                var answer = await bus.DeliverAsync(topic, buffer.GetBuffer().AsMemory(0, (int)buffer.Length), http.RequestAborted);
                return Results.Json(new { status = answer.ToString().ToUpperInvariant() });
            }).WithTopic(DaprNames.PubSub, topic).AddEndpointFilter(filter);
        }
    }

    private static bool TokenMatches(string given, string expected) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(given), System.Text.Encoding.UTF8.GetBytes(expected));

    private sealed class Unsubscribe(Action remove) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            remove();
            return ValueTask.CompletedTask;
        }
    }
}
