using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging.Abstractions;
using Sky.Naming.Dns;
using Sky.Naming.Domain;
using Sky.Naming.V1;
using Record = Sky.Naming.V1.Record;

namespace Sky.Naming.Tests;

/// <summary>
/// A real <see cref="IRecordReader"/> over a dictionary, so the DNS tests do not depend on a naming
/// store; it counts reads so a test can tell that an answer never touched the records.
/// </summary>
internal sealed class DictionaryRecordReader : IRecordReader
{
    private readonly ConcurrentDictionary<string, Record> _records = new(StringComparer.Ordinal);
    private int _reads;

    public int Reads => Volatile.Read(ref _reads);

    /// <summary>Stores a copy of <paramref name="record"/> under its canonical name.</summary>
    public DictionaryRecordReader Add(Record record)
    {
        var copy = record.Clone();
        copy.Name = SkyName.Parse(record.Name).Name!.Canonical;
        _records[copy.Name] = copy;
        return this;
    }

    public ValueTask<Record?> GetRecordAsync(SkyName name, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _reads);
        return ValueTask.FromResult(_records.TryGetValue(name.Canonical, out var record) ? record.Clone() : null);
    }

    public ValueTask<IReadOnlyList<Record>> ListInstancesAsync(SkyName lookupName, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _reads);
        if (lookupName.Kind != SkyNameKind.Lookup)
            throw new ArgumentException("not a lookup name", nameof(lookupName));
        var service = $"{lookupName.Service}.{lookupName.Region}.{lookupName.Provider}.{SkyName.RootLabel}";
        IReadOnlyList<Record> instances = _records.Values
            .Where(r => SkyName.Parse(r.Name).Name!.Kind == SkyNameKind.Instance && r.Name.EndsWith("." + service, StringComparison.Ordinal))
            .Select(r => r.Clone())
            .ToList();
        return ValueTask.FromResult(instances);
    }
}

/// <summary>A reader whose store is down: every read throws.</summary>
internal sealed class FailingRecordReader : IRecordReader
{
    public ValueTask<Record?> GetRecordAsync(SkyName name, CancellationToken ct = default) =>
        throw new InvalidOperationException("store unreachable");

    public ValueTask<IReadOnlyList<Record>> ListInstancesAsync(SkyName lookupName, CancellationToken ct = default) =>
        throw new InvalidOperationException("store unreachable");
}

/// <summary>Records and running front-ends for the DNS tests.</summary>
internal static class DnsTestRecords
{
    public static RecordEndpoint Endpoint(string host, int port, int priority = 0, int weight = 0, string scheme = "tcp") =>
        new() { Scheme = scheme, Host = host, Port = port, Priority = priority, Weight = weight };

    public static Record RecordAt(string name, int? ttlSeconds, params RecordEndpoint[] endpoints)
    {
        var record = new Record { Name = name };
        record.Endpoints.AddRange(endpoints);
        if (ttlSeconds is int ttl) record.Ttl = Duration.FromTimeSpan(TimeSpan.FromSeconds(ttl));
        return record;
    }

    /// <summary>A front-end on a free loopback port over <paramref name="reader"/>, started.</summary>
    public static async Task<DnsFrontEnd> StartAsync(IRecordReader reader)
    {
        var frontEnd = new DnsFrontEnd(new SkyZoneResponder(reader), new DnsFrontEndOptions("127.0.0.1", 0),
            TimeProvider.System, NullLogger<DnsFrontEnd>.Instance);
        await frontEnd.StartAsync(CancellationToken.None);
        return frontEnd;
    }
}

/// <summary>
/// Sends one query and reads the answer: through ARSoft's <see cref="DnsClient"/> (UDP or TCP only, so a
/// test knows which carried it) or as raw bytes, which lets a test choose the exact spelling of the name
/// and whether to offer EDNS.
/// </summary>
internal static class DnsProbe
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    public static async Task<DnsMessage> UdpAsync(int port, string name, RecordType type) =>
        await ClientQueryAsync(new UdpClientTransport(port), name, type);

    public static async Task<DnsMessage> TcpAsync(int port, string name, RecordType type) =>
        await ClientQueryAsync(new TcpClientTransport(port), name, type);

    private static async Task<DnsMessage> ClientQueryAsync(IClientTransport transport, string name, RecordType type)
    {
        using var client = new DnsClient([IPAddress.Loopback], [transport], disposeTransport: true, queryTimeout: (int)Patience.TotalMilliseconds);
        var answer = await client.ResolveAsync(DomainName.Parse(name), type, RecordClass.INet, null, CancellationToken.None);
        return answer ?? throw new InvalidOperationException($"no answer for {name} {type}");
    }

    /// <summary>A query message as bytes: one question, RD set, an EDNS OPT record when <paramref name="ednsPayload"/> is given.</summary>
    public static byte[] Query(string name, RecordType type, ushort id = 0x5a17, ushort? ednsPayload = null, RecordClass recordClass = RecordClass.INet)
    {
        var bytes = new List<byte>();
        void U16(int v) { bytes.Add((byte)(v >> 8)); bytes.Add((byte)v); }
        U16(id);
        U16(0x0100);
        U16(1);
        U16(0);
        U16(0);
        U16(ednsPayload is null ? 0 : 1);
        foreach (var label in name.TrimEnd('.').Split('.'))
        {
            var raw = Encoding.ASCII.GetBytes(label);
            bytes.Add((byte)raw.Length);
            bytes.AddRange(raw);
        }
        bytes.Add(0);
        U16((int)type);
        U16((int)recordClass);
        if (ednsPayload is ushort payload)
        {
            bytes.Add(0);
            U16((int)RecordType.Opt);
            U16(payload);
            U16(0);
            U16(0);
            U16(0);
        }
        return [.. bytes];
    }

    public static async Task<(DnsMessage Message, int Length)> RawUdpAsync(int port, byte[] query)
    {
        using var udp = new UdpClient(AddressFamily.InterNetwork);
        using var timeout = new CancellationTokenSource(Patience);
        await udp.SendAsync(query, new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
        var reply = await udp.ReceiveAsync(timeout.Token);
        return (DnsMessage.Parse(new ArraySegment<byte>(reply.Buffer)), reply.Buffer.Length);
    }

    public static async Task<DnsMessage> RawTcpAsync(int port, byte[] query)
    {
        using var tcp = new TcpClient(AddressFamily.InterNetwork);
        using var timeout = new CancellationTokenSource(Patience);
        await tcp.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        var stream = tcp.GetStream();
        await stream.WriteAsync(new[] { (byte)(query.Length >> 8), (byte)query.Length }.Concat(query).ToArray(), timeout.Token);
        var header = new byte[2];
        await stream.ReadExactlyAsync(header, timeout.Token);
        var reply = new byte[header[0] << 8 | header[1]];
        await stream.ReadExactlyAsync(reply, timeout.Token);
        return DnsMessage.Parse(new ArraySegment<byte>(reply));
    }
}
