using System.Net.Mime;
using System.Text;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Google.Protobuf.WellKnownTypes;
using Sky.Events.V1;
using Sky.Hosting.Events;

namespace Sky.Integration.Tests.Events;

public sealed class CloudEventCodecTests
{
    private static SkyEvent Expired(string offerId, long revision) => new(
        Guid.NewGuid().ToString("N"), "sky-mesh", "directory.offer.expired", new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero), offerId,
        new DirectoryOfferExpired { OfferId = offerId, Revision = revision, Time = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero)) });

    [Fact]
    public void An_event_round_trips_as_a_structured_cloudevent_with_protobuf_json_data()
    {
        var evt = Expired("aws-abc", 42);
        var bytes = CloudEventCodec.Encode(evt);

        using var json = JsonDocument.Parse(bytes);
        var root = json.RootElement;
        Assert.Equal("1.0", root.GetProperty("specversion").GetString());
        Assert.Equal(evt.Id, root.GetProperty("id").GetString());
        Assert.Equal("sky-mesh", root.GetProperty("source").GetString());
        Assert.Equal("directory.offer.expired", root.GetProperty("type").GetString());
        Assert.Equal("aws-abc", root.GetProperty("subject").GetString());
        Assert.Equal("application/json", root.GetProperty("datacontenttype").GetString());
        Assert.Equal("2026-11-28T12:00:00Z", root.GetProperty("time").GetString());
        // protobuf JSON: lowerCamel names, int64 as a string.
        Assert.Equal("42", root.GetProperty("data").GetProperty("revision").GetString());
        Assert.Equal("aws-abc", root.GetProperty("data").GetProperty("offerId").GetString());

        var back = CloudEventCodec.Decode(bytes);
        Assert.Equal(evt with { Data = back.Data }, back);
        Assert.Equal(evt.Data, back.Data);
    }

    [Fact]
    public void The_cloudevents_sdk_reads_what_we_write_and_we_read_what_it_writes()
    {
        var formatter = new JsonEventFormatter();
        var evt = Expired("aws-sdk", 7) with { Time = new DateTimeOffset(2026, 11, 28, 12, 0, 0, 500, TimeSpan.Zero) };

        var theirs = formatter.DecodeStructuredModeMessage(CloudEventCodec.Encode(evt), new ContentType(CloudEventCodec.ContentType), null);
        Assert.Equal(evt.Id, theirs.Id);
        Assert.Equal(evt.Source, theirs.Source!.ToString());
        Assert.Equal(evt.Type, theirs.Type);
        Assert.Equal(evt.Time, theirs.Time);
        Assert.Equal(evt.Subject, theirs.Subject);
        Assert.Equal("application/json", theirs.DataContentType);
        Assert.Equal("aws-sdk", ((JsonElement)theirs.Data!).GetProperty("offerId").GetString());

        // The SDK's own encoding, with an extension attribute as Dapr adds them, reads back as the same event.
        var cloudEvent = new CloudEvent(CloudEventsSpecVersion.V1_0, [CloudEventAttribute.CreateExtension("pubsubname", CloudEventAttributeType.String)])
        {
            Id = evt.Id, Source = new Uri(evt.Source, UriKind.RelativeOrAbsolute), Type = evt.Type, Time = evt.Time, Subject = evt.Subject,
            DataContentType = "application/json", Data = JsonDocument.Parse(Google.Protobuf.JsonFormatter.Default.Format(evt.Data)).RootElement,
            ["pubsubname"] = "sky-pubsub",
        };
        var ours = CloudEventCodec.Decode(formatter.EncodeStructuredModeMessage(cloudEvent, out _));
        Assert.Equal(evt with { Data = ours.Data }, ours);
        Assert.Equal(evt.Data, ours.Data);
    }

    [Theory]
    [InlineData(0L, "2026-11-28T12:00:00Z")]
    [InlineData(5_000_000L, "2026-11-28T12:00:00.5Z")]
    [InlineData(1_234_567L, "2026-11-28T12:00:00.1234567Z")]
    [InlineData(1_200_000L, "2026-11-28T12:00:00.12Z")]
    public void Time_is_rfc3339_in_utc_with_the_fraction_it_needs_and_reads_back_exactly(long ticks, string expected)
    {
        // Given with an offset: written in UTC, read back as the same instant.
        var time = new DateTimeOffset(2026, 11, 28, 14, 0, 0, TimeSpan.FromHours(2)).AddTicks(ticks);
        var bytes = CloudEventCodec.Encode(Expired("aws-t", 1) with { Time = time });

        using var json = JsonDocument.Parse(bytes);
        Assert.Equal(expected, json.RootElement.GetProperty("time").GetString());
        Assert.Equal(time, CloudEventCodec.Decode(bytes).Time);
    }

    [Theory]
    [InlineData("2026-11-28T14:00:00.5+02:00")]
    [InlineData("2026-11-28t12:00:00.5z")]
    public void Time_is_read_with_an_offset_or_in_lowercase(string time)
    {
        var body = $"{{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"x\",\"type\":\"directory.offer.expired\",\"time\":\"{time}\",\"data\":{{}}}}";
        Assert.Equal(new DateTimeOffset(2026, 11, 28, 12, 0, 0, 500, TimeSpan.Zero), CloudEventCodec.Decode(Encoding.UTF8.GetBytes(body)).Time);
    }

    [Fact]
    public void Events_encoded_one_after_another_on_a_thread_are_each_whole()
    {
        // The encoder reuses its buffer per thread: a large event, then a small one, each comes out alone and entire.
        var large = Expired(new string('x', 100_000), 1);
        var small = Expired("aws-small", 2);
        var first = CloudEventCodec.Encode(large);
        var second = CloudEventCodec.Encode(small);
        Assert.Equal(large.Data, CloudEventCodec.Decode(first).Data);
        Assert.Equal(small.Data, CloudEventCodec.Decode(second).Data);
        Assert.Equal(small.Data, CloudEventCodec.Decode(CloudEventCodec.Encode(small)).Data);
        Assert.Equal(large.Data, CloudEventCodec.Decode(first).Data);
    }

    [Fact]
    public void Job_state_types_share_one_message_and_every_event_message_has_a_type()
    {
        Assert.Equal(PlacementJobStateChanged.Descriptor, EventTypes.Find("placement.job.running"));
        Assert.Equal(PlacementJobUsage.Descriptor, EventTypes.Find("placement.job.usage"));
        Assert.Null(EventTypes.Find("placement.job."));
        Assert.Null(EventTypes.Find("directory.nonsense"));
        var documented = EventTypes.Messages.ToHashSet();
        foreach (var file in new[] { DirectoryEventsReflection.Descriptor, NamingEventsReflection.Descriptor, PlacementEventsReflection.Descriptor, TransferEventsReflection.Descriptor, AccountingEventsReflection.Descriptor })
            foreach (var message in file.MessageTypes)
                Assert.True(documented.Contains(message) || EventTypes.Embedded.Contains(message), $"{message.FullName} has no CloudEvent type in EventTypes");
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"x\",\"type\":\"directory.nonsense\",\"datacontenttype\":\"application/json\",\"data\":{}}")]
    [InlineData("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"x\",\"type\":\"directory.offer.expired\",\"datacontenttype\":\"application/json\",\"data\":{\"revision\":\"many\"}}")]
    [InlineData("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"x\",\"type\":\"directory.offer.expired\"}")]
    [InlineData("{\"specversion\":\"0.3\",\"id\":\"1\",\"source\":\"x\",\"type\":\"directory.offer.expired\",\"data\":{}}")]
    [InlineData("{\"specversion\":\"1.0\",\"source\":\"x\",\"type\":\"directory.offer.expired\",\"data\":{}}")]
    [InlineData("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"x\",\"type\":\"directory.offer.expired\",\"datacontenttype\":\"application/xml\",\"data\":{}}")]
    [InlineData("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"x\",\"type\":\"directory.offer.expired\",\"time\":\"yesterday\",\"data\":{}}")]
    [InlineData("[1,2]")]
    public void Anything_else_is_a_format_error(string body) =>
        Assert.Throws<FormatException>(() => CloudEventCodec.Decode(Encoding.UTF8.GetBytes(body)));
}
