using Google.Protobuf.Reflection;
using Sky.Events.V1;

namespace Sky.Hosting.Events;

/// <summary>
/// CloudEvent type -> the <c>sky.events.v1</c> message that is its data, as the event protos document on each message.
/// A transport that carries events out of the process needs it to turn the JSON data back into the message.
/// </summary>
public static class EventTypes
{
    /// <summary>"placement.job.&lt;state&gt;": every job state has its own type and the same message.</summary>
    public const string JobStatePrefix = "placement.job.";

    private static readonly Dictionary<string, MessageDescriptor> ByType = new(StringComparer.Ordinal)
    {
        ["naming.record.changed"] = NamingRecordChanged.Descriptor,
        ["naming.zone.changed"] = NamingZoneChanged.Descriptor,
        ["directory.offer.registered"] = DirectoryOfferRegistered.Descriptor,
        ["directory.offer.updated"] = DirectoryOfferUpdated.Descriptor,
        ["directory.offer.expired"] = DirectoryOfferExpired.Descriptor,
        ["directory.offer.deregistered"] = DirectoryOfferDeregistered.Descriptor,
        ["directory.catalog.imported"] = DirectoryCatalogImported.Descriptor,
        ["directory.grid.egress.updated"] = DirectoryEgressPriceGridUpdated.Descriptor,
        ["directory.grid.throughput.updated"] = DirectoryThroughputGridUpdated.Descriptor,
        ["placement.job.attempt"] = PlacementJobAttempted.Descriptor,
        ["placement.job.usage"] = PlacementJobUsage.Descriptor,
        ["placement.quote.issued"] = PlacementQuoteIssued.Descriptor,
        ["transfer.progress"] = TransferProgressed.Descriptor,
        ["transfer.completed"] = TransferCompleted.Descriptor,
        ["transfer.usage"] = TransferUsage.Descriptor,
        ["transfer.quote.issued"] = TransferQuoteIssued.Descriptor,
        ["billing.usage.rated"] = BillingUsageRated.Descriptor,
        ["billing.invoice.issued"] = BillingInvoiceIssued.Descriptor,
        ["peering.agreement.created"] = PeeringAgreementCreated.Descriptor,
        ["peering.agreement.ended"] = PeeringAgreementEnded.Descriptor,
    };

    /// <summary>The message of events of <paramref name="type"/>, or null for a type no proto documents.</summary>
    public static MessageDescriptor? Find(string type)
    {
        if (ByType.TryGetValue(type, out var descriptor)) return descriptor;
        return type.Length > JobStatePrefix.Length && type.StartsWith(JobStatePrefix, StringComparison.Ordinal)
            ? PlacementJobStateChanged.Descriptor
            : null;
    }

    /// <summary>Every event message with a type of its own (the job-state message once).</summary>
    public static IEnumerable<MessageDescriptor> Messages => ByType.Values.Append(PlacementJobStateChanged.Descriptor).Distinct();

    /// <summary>Messages carried only inside others (never the data of an event of their own).</summary>
    public static IReadOnlySet<MessageDescriptor> Embedded { get; } = new HashSet<MessageDescriptor> { TransferEgressUsage.Descriptor, TransferGatewayUsage.Descriptor };
}
