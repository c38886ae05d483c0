using System.Net.Mime;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Google.Protobuf;

namespace Sky.Hosting.Events;

/// <summary>
/// A <see cref="SkyEvent"/> as a CloudEvent 1.0 in structured JSON mode (the CloudNative.CloudEvents SDK's formatter):
/// id, source, type, time, subject, datacontenttype application/json, and data = the message in protobuf JSON. Every
/// transport that leaves the process (Redis Streams, Dapr) carries exactly these bytes.
/// </summary>
public static class CloudEventCodec
{
    public const string ContentType = "application/cloudevents+json";
    private static readonly JsonEventFormatter Formatter = new();
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public static ReadOnlyMemory<byte> Encode(SkyEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        using var data = JsonDocument.Parse(JsonFormatter.Default.Format(evt.Data));
        var cloudEvent = new CloudEvent(CloudEventsSpecVersion.V1_0)
        {
            Id = evt.Id,
            Source = new Uri(evt.Source, UriKind.RelativeOrAbsolute),
            Type = evt.Type,
            Time = evt.Time,
            Subject = evt.Subject,
            DataContentType = MediaTypeNames.Application.Json,
            Data = data.RootElement.Clone(),
        };
        return Formatter.EncodeStructuredModeMessage(cloudEvent, out _);
    }

    /// <summary>Reads a structured CloudEvent; throws <see cref="FormatException"/> for anything that is not a sky event.</summary>
    public static SkyEvent Decode(ReadOnlyMemory<byte> body)
    {
        CloudEvent cloudEvent;
        try
        {
            cloudEvent = Formatter.DecodeStructuredModeMessage(body, new ContentType(ContentType), extensionAttributes: null);
        }
        catch (Exception e) when (e is ArgumentException or JsonException or InvalidOperationException)
        {
            throw new FormatException("not a structured-mode CloudEvent: " + e.Message, e);
        }
        return FromCloudEvent(cloudEvent);
    }

    /// <summary>A decoded CloudEvent (e.g. from Dapr.AspNetCore) as a sky event.</summary>
    public static SkyEvent FromCloudEvent(CloudEvent cloudEvent)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        var type = cloudEvent.Type ?? throw new FormatException("the CloudEvent has no type");
        var descriptor = EventTypes.Find(type) ?? throw new FormatException($"unknown event type '{type}'");
        var json = cloudEvent.Data switch
        {
            JsonElement element => element.GetRawText(),
            string text => text,
            null => throw new FormatException($"event {cloudEvent.Id} of type '{type}' has no data"),
            var other => throw new FormatException($"event {cloudEvent.Id}: data of {other.GetType().Name} is not JSON"),
        };
        IMessage data;
        try
        {
            data = Parser.Parse(json, descriptor);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new FormatException($"event {cloudEvent.Id}: data is not a {descriptor.FullName}: {e.Message}", e);
        }
        return new SkyEvent(
            cloudEvent.Id ?? throw new FormatException("the CloudEvent has no id"),
            cloudEvent.Source?.ToString() ?? throw new FormatException("the CloudEvent has no source"),
            type, cloudEvent.Time ?? DateTimeOffset.MinValue, cloudEvent.Subject, data);
    }
}
