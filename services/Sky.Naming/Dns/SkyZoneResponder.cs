using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using Sky.Naming.Domain;
using Sky.Naming.V1;

namespace Sky.Naming.Dns;

/// <summary>
/// Answers a DNS query for the "sky." zone from the naming records, read only through
/// <see cref="IRecordReader"/>:
/// <list type="bullet">
/// <item>a record name answers A/AAAA (endpoint hosts that are IP literals) and TXT (<see cref="DnsRecordData.TxtStrings"/>);</item>
/// <item>a lookup name answers SRV, one per distinct endpoint, in RFC 2782 order (<see cref="SrvOrder"/>);</item>
/// <item>a name with no record, or one the name grammar rejects, is NXDOMAIN; an existing name without
/// data of the asked type is NODATA; both carry the zone's SOA in the authority section;</item>
/// <item>a name outside "sky." is REFUSED without touching the store.</item>
/// </list>
/// Answers are authoritative and echo the question name as asked (any case).
/// </summary>
public sealed class SkyZoneResponder(IRecordReader records, Random? random = null)
{
    /// <summary>The zone apex.</summary>
    public static readonly DomainName Apex = DomainName.Parse("sky");

    /// <summary>Negative-caching TTL (the SOA minimum) and the SOA's own TTL, in seconds.</summary>
    public const int NegativeTtlSeconds = 30;

    // The zone is synthesised and never transferred, so the serial carries no meaning (RFC 1035 requires one).
    private const uint SoaSerial = 1;
    private static readonly DomainName Hostmaster = DomainName.Parse("hostmaster.sky");

    /// <summary>The response to <paramref name="query"/>; never null, never throws for a well-formed message.</summary>
    public async Task<DnsMessage> RespondAsync(DnsMessage query, CancellationToken ct = default)
    {
        var response = query.CreateResponseInstance();
        if (!query.IsQuery)
            return With(response, ReturnCode.FormatError);
        if (query.OperationCode != OperationCode.Query)
            return With(response, ReturnCode.NotImplemented);
        if (query.Questions.Count != 1)
            return With(response, ReturnCode.FormatError);

        var question = query.Questions[0];
        if (question.RecordClass is not (RecordClass.INet or RecordClass.Any) || !question.Name.IsEqualOrSubDomainOf(Apex))
            return With(response, ReturnCode.Refused);

        response.IsAuthoritiveAnswer = true;
        if (question.Name.LabelCount == 1)
            return AnswerApex(response, question);

        var name = ToSkyName(question.Name);
        if (name is null)
            return NxDomain(response);
        return name.Kind == SkyNameKind.Lookup
            ? await AnswerLookupAsync(response, question, name, ct)
            : await AnswerRecordAsync(response, question, name, ct);
    }

    /// <summary>The zone's synthesised SOA.</summary>
    public static SoaRecord Soa() =>
        new(Apex, NegativeTtlSeconds, Apex, Hostmaster, SoaSerial, refreshInterval: 3600, retryInterval: 600, expireInterval: 86400, negativeCachingTTL: NegativeTtlSeconds);

    private static DnsMessage AnswerApex(DnsMessage response, DnsQuestion question)
    {
        if (question.RecordType is RecordType.Soa or RecordType.Any)
        {
            response.AnswerRecords.Add(Soa());
            return response;
        }
        return NoData(response);
    }

    private async Task<DnsMessage> AnswerRecordAsync(DnsMessage response, DnsQuestion question, SkyName name, CancellationToken ct)
    {
        var record = await records.GetRecordAsync(name, ct);
        if (record is null)
        {
            // A service name with instances below it but no record of its own is an empty non-terminal:
            // it exists (RFC 8020), so resolvers that minimise query names must not see NXDOMAIN there.
            var exists = name.Kind == SkyNameKind.Service && LookupNameOf(name) is { } lookup
                && (await records.ListInstancesAsync(lookup, ct)).Count > 0;
            return exists ? NoData(response) : NxDomain(response);
        }

        var type = question.RecordType;
        var ttl = DnsRecordData.TtlSeconds(record);
        if (type is RecordType.A or RecordType.Aaaa or RecordType.Any)
            response.AnswerRecords.AddRange(AddressRecords(question.Name, ttl, record, type));
        if (type is RecordType.Txt or RecordType.Any)
            response.AnswerRecords.Add(new UnknownRecord(question.Name, RecordType.Txt, RecordClass.INet, ttl,
                DnsRecordData.TxtRdata(DnsRecordData.TxtStrings(record))));
        return response.AnswerRecords.Count > 0 ? response : NoData(response);
    }

    private async Task<DnsMessage> AnswerLookupAsync(DnsMessage response, DnsQuestion question, SkyName lookup, CancellationToken ct)
    {
        var instances = await records.ListInstancesAsync(lookup, ct);
        if (instances.Count == 0)
            return NxDomain(response);
        if (question.RecordType is not (RecordType.Srv or RecordType.Any))
            return NoData(response);

        // RFC 2181 section 5.2: every record of one RRset carries the same TTL, so the SRV set takes the smallest.
        var ttl = instances.Min(DnsRecordData.TtlSeconds);
        var targets = new List<(ushort Priority, ushort Weight, ushort Port, DomainName Target)>();
        var seen = new HashSet<(ushort, ushort, ushort, string)>();
        foreach (var instance in instances.OrderBy(i => i.Name, StringComparer.Ordinal))
        {
            var instanceName = DomainName.Parse(instance.Name);
            var viaInstanceName = false;
            foreach (var endpoint in instance.Endpoints)
            {
                // An IP-literal host is reached through the instance's own name, whose A/AAAA go in the
                // additional section; a host name is the target itself.
                DomainName target;
                if (DnsRecordData.IpLiteral(endpoint.Host) is not null)
                    (target, viaInstanceName) = (instanceName, true);
                else if (!DomainName.TryParse(endpoint.Host, out target!))
                    continue;
                var srv = (U16(endpoint.Priority), U16(endpoint.Weight), U16(endpoint.Port), target);
                if (seen.Add((srv.Item1, srv.Item2, srv.Item3, target.ToString().ToLowerInvariant())))
                    targets.Add(srv);
            }
            if (viaInstanceName)
                response.AdditionalRecords.AddRange(AddressRecords(instanceName, DnsRecordData.TtlSeconds(instance), instance, RecordType.Any));
        }
        if (targets.Count == 0)
            return NoData(response);

        foreach (var (priority, weight, port, target) in SrvOrder.Order(targets, t => t.Priority, t => t.Weight, random))
            response.AnswerRecords.Add(new SrvRecord(question.Name, ttl, priority, weight, port, target));
        return response;
    }

    /// <summary>A and/or AAAA records (as <paramref name="type"/> asks; Any gives both) for the record's IP-literal hosts, each address once.</summary>
    private static IEnumerable<DnsRecordBase> AddressRecords(DomainName owner, int ttl, Record record, RecordType type)
    {
        var addresses = record.Endpoints.Select(e => DnsRecordData.IpLiteral(e.Host)).OfType<IPAddress>().Distinct();
        foreach (var address in addresses)
        {
            if (address.AddressFamily == AddressFamily.InterNetwork && type is RecordType.A or RecordType.Any)
                yield return new ARecord(owner, ttl, address);
            else if (address.AddressFamily == AddressFamily.InterNetworkV6 && type is RecordType.Aaaa or RecordType.Any)
                yield return new AaaaRecord(owner, ttl, address);
        }
    }

    /// <summary>The name as the grammar reads it, or null when the grammar rejects it.</summary>
    private static SkyName? ToSkyName(DomainName name)
    {
        // A label holding a '.' (escaped on the wire) would split differently once joined; the grammar rejects the rest.
        if (name.Labels.Any(l => l.Contains('.')))
            return null;
        return SkyName.Parse(string.Join('.', name.Labels)).Name;
    }

    private static SkyName? LookupNameOf(SkyName service) =>
        SkyName.Parse($"_{service.Service}.{SkyName.LookupProtocolLabel}.{service.Region}.{service.Provider}.{SkyName.RootLabel}").Name;

    private static ushort U16(int value) => (ushort)Math.Clamp(value, 0, ushort.MaxValue);

    private static DnsMessage With(DnsMessage response, ReturnCode code)
    {
        response.ReturnCode = code;
        return response;
    }

    private static DnsMessage NxDomain(DnsMessage response)
    {
        response.ReturnCode = ReturnCode.NxDomain;
        response.AuthorityRecords.Add(Soa());
        return response;
    }

    private static DnsMessage NoData(DnsMessage response)
    {
        response.ReturnCode = ReturnCode.NoError;
        response.AuthorityRecords.Add(Soa());
        return response;
    }
}
