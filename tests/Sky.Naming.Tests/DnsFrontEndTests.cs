using System.Net;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using Sky.Naming.Dns;
using static Sky.Naming.Tests.DnsTestRecords;

namespace Sky.Naming.Tests;

/// <summary>One front-end on a free loopback port over a dictionary of records, shared by the tests of <see cref="DnsFrontEndTests"/>.</summary>
public sealed class DnsFrontEndFixture : IAsyncLifetime
{
    public const string Lookup = "_postgres._tcp.us-east-1.aws.sky";
    public const string BigLookup = "_web._tcp.eu-west-1.gcp.sky";
    public const int BigInstances = 40;

    internal DictionaryRecordReader Records { get; } = new();
    public DnsFrontEnd FrontEnd { get; private set; } = null!;
    public int Port => FrontEnd.Port;

    public async Task InitializeAsync()
    {
        var pg1 = RecordAt("pg-1.postgres.us-east-1.aws.sky", 120,
            Endpoint("10.0.0.1", 5432, priority: 10, weight: 0),
            Endpoint("2001:db8::1", 5433, priority: 10, weight: 0));
        pg1.ApiVersion = "16";
        pg1.SoftwareVersion = "16.2.0";
        pg1.Attributes.Add("zone", "us-east-1a");
        pg1.Attributes.Add("tier", "gold");
        pg1.Attributes.Add("az-count", "3");
        Records.Add(pg1)
            .Add(RecordAt("pg-2.postgres.us-east-1.aws.sky", 300, Endpoint("10.0.0.2", 5432, priority: 20, weight: 5)))
            .Add(RecordAt("pg-3.postgres.us-east-1.aws.sky", 45, Endpoint("db3.example.net", 5432, priority: 5, weight: 1)))
            // A record at a service-shaped name with only a DNS-name host: it exists but has no address.
            .Add(RecordAt("cache.us-east-1.aws.sky", null, Endpoint("cache.example.net", 6379)));
        for (var i = 0; i < BigInstances; i++)
            Records.Add(RecordAt($"web-{i:00}.web.eu-west-1.gcp.sky", 60, Endpoint($"web-{i:00}.frontends.example.org", 443, priority: i % 3, weight: 10)));
        FrontEnd = await StartAsync(Records);
    }

    public async Task DisposeAsync()
    {
        await FrontEnd.StopAsync(CancellationToken.None);
        FrontEnd.Dispose();
    }
}

/// <summary>The DNS front-end on a real socket: what dig would see for each kind of name and type, over UDP and TCP.</summary>
public sealed class DnsFrontEndTests(DnsFrontEndFixture fixture) : IClassFixture<DnsFrontEndFixture>
{
    private int Port => fixture.Port;

    [Fact]
    public async Task Lookup_name_answers_one_srv_per_endpoint_in_priority_order_with_addresses_for_ip_literal_hosts()
    {
        var answer = await DnsProbe.UdpAsync(Port, DnsFrontEndFixture.Lookup, RecordType.Srv);

        Assert.Equal(ReturnCode.NoError, answer.ReturnCode);
        Assert.True(answer.IsAuthoritiveAnswer);
        var srv = answer.AnswerRecords.OfType<SrvRecord>().ToList();
        Assert.Equal(answer.AnswerRecords.Count, srv.Count);
        Assert.Equal(srv.Select(s => s.Priority).Order(), srv.Select(s => s.Priority));
        Assert.Equal(
            new[]
            {
                "10 0 5432 pg-1.postgres.us-east-1.aws.sky.",
                "10 0 5433 pg-1.postgres.us-east-1.aws.sky.",
                "20 5 5432 pg-2.postgres.us-east-1.aws.sky.",
                "5 1 5432 db3.example.net.",
            },
            srv.Select(s => $"{s.Priority} {s.Weight} {s.Port} {s.Target}").Order(StringComparer.Ordinal));
        // One RRset, one TTL: the smallest of the instances' (pg-3's 45 s).
        Assert.All(srv, s => Assert.Equal(45, s.TimeToLive));
        Assert.All(srv, s => Assert.Equal(DnsFrontEndFixture.Lookup + ".", s.Name.ToString()));

        var additional = answer.AdditionalRecords.Where(r => r.RecordType != RecordType.Opt)
            .Select(r => $"{r.Name} {r.RecordType} {((IAddressRecord)r).Address} {r.TimeToLive}").Order(StringComparer.Ordinal);
        Assert.Equal(
            new[]
            {
                "pg-1.postgres.us-east-1.aws.sky. A 10.0.0.1 120",
                "pg-1.postgres.us-east-1.aws.sky. Aaaa 2001:db8::1 120",
                "pg-2.postgres.us-east-1.aws.sky. A 10.0.0.2 300",
            },
            additional);
    }

    [Fact]
    public async Task Weighted_targets_of_one_priority_come_in_varying_order_across_queries()
    {
        // 40 targets over 3 priorities with equal weights: a fixed order 20 times in a row would mean no shuffle.
        var orders = new HashSet<string>();
        for (var i = 0; i < 20 && orders.Count < 2; i++)
        {
            var answer = await DnsProbe.TcpAsync(Port, DnsFrontEndFixture.BigLookup, RecordType.Srv);
            var srv = answer.AnswerRecords.OfType<SrvRecord>().ToList();
            Assert.Equal(srv.Select(s => s.Priority).Order(), srv.Select(s => s.Priority));
            orders.Add(string.Join(",", srv.Select(s => s.Target)));
        }
        Assert.True(orders.Count >= 2, "the SRV order never changed between queries");
    }

    [Fact]
    public async Task Instance_name_answers_a_aaaa_and_txt_from_its_record()
    {
        const string name = "pg-1.postgres.us-east-1.aws.sky";

        var a = await DnsProbe.UdpAsync(Port, name, RecordType.A);
        var v4 = Assert.IsType<ARecord>(Assert.Single(a.AnswerRecords));
        Assert.Equal(IPAddress.Parse("10.0.0.1"), v4.Address);
        Assert.Equal(120, v4.TimeToLive);
        Assert.True(a.IsAuthoritiveAnswer);

        var aaaa = await DnsProbe.UdpAsync(Port, name, RecordType.Aaaa);
        Assert.Equal(IPAddress.Parse("2001:db8::1"), Assert.IsType<AaaaRecord>(Assert.Single(aaaa.AnswerRecords)).Address);

        var txt = await DnsProbe.UdpAsync(Port, name, RecordType.Txt);
        var text = Assert.IsType<TxtRecord>(Assert.Single(txt.AnswerRecords));
        Assert.Equal(["api_version=16", "software_version=16.2.0", "az-count=3", "tier=gold", "zone=us-east-1a"], text.TextParts);
        Assert.Equal(120, text.TimeToLive);
    }

    [Fact]
    public async Task Any_on_an_instance_name_gives_every_type_it_has()
    {
        // ARSoft's client sends ANY over TCP only; a raw datagram checks UDP.
        var tcp = await DnsProbe.TcpAsync(Port, "pg-1.postgres.us-east-1.aws.sky", RecordType.Any);
        Assert.Equal([RecordType.A, RecordType.Txt, RecordType.Aaaa], tcp.AnswerRecords.Select(r => r.RecordType).Order());
        var (udp, _) = await DnsProbe.RawUdpAsync(Port, DnsProbe.Query("pg-1.postgres.us-east-1.aws.sky", RecordType.Any));
        Assert.Equal([RecordType.A, RecordType.Txt, RecordType.Aaaa], udp.AnswerRecords.Select(r => r.RecordType).Order());
    }

    [Fact]
    public async Task A_record_without_versions_or_attributes_has_one_empty_txt_string()
    {
        var answer = await DnsProbe.UdpAsync(Port, "pg-2.postgres.us-east-1.aws.sky", RecordType.Txt);
        Assert.Equal([""], Assert.IsType<TxtRecord>(Assert.Single(answer.AnswerRecords)).TextParts);
    }

    [Theory]
    [InlineData("nothing.us-east-1.aws.sky", RecordType.A)]
    [InlineData("pg-9.postgres.us-east-1.aws.sky", RecordType.Txt)]
    [InlineData("_nothing._tcp.us-east-1.aws.sky", RecordType.Srv)]
    [InlineData("azure.sky", RecordType.A)]
    // Names the grammar rejects cannot hold a record: NXDOMAIN (the query itself is well formed, so not FORMERR).
    [InlineData("bad_label.us-east-1.aws.sky", RecordType.A)]
    [InlineData("-x.aws.sky", RecordType.A)]
    [InlineData("_postgres._udp.us-east-1.aws.sky", RecordType.Srv)]
    public async Task A_name_in_the_zone_without_a_record_is_nxdomain_with_the_zone_soa(string name, RecordType type)
    {
        var answer = await DnsProbe.UdpAsync(Port, name, type);

        Assert.Equal(ReturnCode.NxDomain, answer.ReturnCode);
        Assert.True(answer.IsAuthoritiveAnswer);
        Assert.Empty(answer.AnswerRecords);
        var soa = Assert.IsType<SoaRecord>(Assert.Single(answer.AuthorityRecords));
        Assert.Equal("sky.", soa.Name.ToString());
        Assert.Equal(SkyZoneResponder.NegativeTtlSeconds, soa.NegativeCachingTTL);
    }

    [Theory]
    [InlineData("pg-1.postgres.us-east-1.aws.sky", RecordType.Srv)]
    [InlineData("pg-1.postgres.us-east-1.aws.sky", RecordType.Mx)]
    [InlineData("pg-2.postgres.us-east-1.aws.sky", RecordType.Aaaa)]
    [InlineData("cache.us-east-1.aws.sky", RecordType.A)]
    [InlineData(DnsFrontEndFixture.Lookup, RecordType.A)]
    [InlineData(DnsFrontEndFixture.Lookup, RecordType.Txt)]
    // No record of its own, but instances below it: an empty non-terminal exists (RFC 8020).
    [InlineData("postgres.us-east-1.aws.sky", RecordType.A)]
    [InlineData("sky", RecordType.A)]
    public async Task An_existing_name_without_data_of_the_type_is_nodata(string name, RecordType type)
    {
        var answer = await DnsProbe.UdpAsync(Port, name, type);

        Assert.Equal(ReturnCode.NoError, answer.ReturnCode);
        Assert.Empty(answer.AnswerRecords);
        Assert.IsType<SoaRecord>(Assert.Single(answer.AuthorityRecords));
    }

    [Fact]
    public async Task The_apex_answers_its_soa()
    {
        var answer = await DnsProbe.UdpAsync(Port, "sky", RecordType.Soa);
        var soa = Assert.IsType<SoaRecord>(Assert.Single(answer.AnswerRecords));
        Assert.Equal("hostmaster.sky.", soa.ResponsibleName.ToString());
    }

    [Theory]
    [InlineData("example.com")]
    [InlineData("sky.example.com")]
    [InlineData("notsky")]
    [InlineData("")]
    public async Task Names_outside_sky_are_refused_without_reading_a_record(string name)
    {
        var reads = fixture.Records.Reads;
        var answer = await DnsProbe.UdpAsync(Port, name.Length == 0 ? "." : name, RecordType.A);

        Assert.Equal(ReturnCode.Refused, answer.ReturnCode);
        Assert.False(answer.IsAuthoritiveAnswer);
        Assert.Empty(answer.AnswerRecords);
        Assert.Equal(reads, fixture.Records.Reads);
    }

    [Fact]
    public async Task Another_class_than_internet_is_refused()
    {
        var (answer, _) = await DnsProbe.RawUdpAsync(Port, DnsProbe.Query("version.sky", RecordType.Txt, recordClass: RecordClass.Chaos));
        Assert.Equal(ReturnCode.Refused, answer.ReturnCode);
    }

    [Fact]
    public async Task Tcp_carries_the_same_answers()
    {
        var srv = await DnsProbe.TcpAsync(Port, DnsFrontEndFixture.Lookup, RecordType.Srv);
        Assert.Equal(4, srv.AnswerRecords.OfType<SrvRecord>().Count());

        var refused = await DnsProbe.RawTcpAsync(Port, DnsProbe.Query("example.org", RecordType.A));
        Assert.Equal(ReturnCode.Refused, refused.ReturnCode);
    }

    [Fact]
    public async Task Query_names_match_in_any_case_and_answers_echo_the_name_as_asked()
    {
        const string asked = "PG-1.Postgres.US-East-1.AWS.Sky";
        var (answer, _) = await DnsProbe.RawUdpAsync(Port, DnsProbe.Query(asked, RecordType.A, id: 0x1234));

        Assert.Equal(0x1234, answer.TransactionID);
        Assert.Equal(ReturnCode.NoError, answer.ReturnCode);
        Assert.True(answer.Questions.Single().Name.Equals(DomainName.Parse(asked), ignoreCase: false));
        var a = Assert.IsType<ARecord>(Assert.Single(answer.AnswerRecords));
        Assert.True(a.Name.Equals(DomainName.Parse(asked), ignoreCase: false), $"answer owner {a.Name} does not echo {asked}");

        var srv = await DnsProbe.UdpAsync(Port, "_POSTGRES._TCP.us-east-1.AWS.sky.", RecordType.Srv);
        Assert.Equal(4, srv.AnswerRecords.Count);
    }

    [Fact]
    public async Task A_udp_answer_over_512_bytes_is_truncated_and_tcp_or_edns_carries_it_whole()
    {
        var query = DnsProbe.Query(DnsFrontEndFixture.BigLookup, RecordType.Srv);
        var (udp, length) = await DnsProbe.RawUdpAsync(Port, query);
        Assert.True(udp.IsTruncated);
        Assert.True(length <= 512, $"UDP answer of {length} bytes");
        Assert.InRange(udp.AnswerRecords.Count, 0, DnsFrontEndFixture.BigInstances - 1);

        var tcp = await DnsProbe.RawTcpAsync(Port, query);
        Assert.False(tcp.IsTruncated);
        Assert.Equal(DnsFrontEndFixture.BigInstances, tcp.AnswerRecords.OfType<SrvRecord>().Count());

        var (edns, _) = await DnsProbe.RawUdpAsync(Port, DnsProbe.Query(DnsFrontEndFixture.BigLookup, RecordType.Srv, ednsPayload: 4096));
        Assert.False(edns.IsTruncated);
        Assert.Equal(DnsFrontEndFixture.BigInstances, edns.AnswerRecords.OfType<SrvRecord>().Count());
    }

    [Fact]
    public async Task A_store_that_fails_gives_servfail_not_silence()
    {
        using var frontEnd = await StartAsync(new FailingRecordReader());
        try
        {
            var (answer, _) = await DnsProbe.RawUdpAsync(frontEnd.Port, DnsProbe.Query("pg-1.postgres.us-east-1.aws.sky", RecordType.A));
            Assert.Equal(ReturnCode.ServerFailure, answer.ReturnCode);

            // Outside the zone nothing is read, so the store's state does not matter.
            var (refused, _) = await DnsProbe.RawUdpAsync(frontEnd.Port, DnsProbe.Query("example.com", RecordType.A));
            Assert.Equal(ReturnCode.Refused, refused.ReturnCode);
        }
        finally
        {
            await frontEnd.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_port_in_use_fails_start_with_a_message_naming_it()
    {
        var taken = fixture.Port;
        using var second = new DnsFrontEnd(new SkyZoneResponder(fixture.Records), new DnsFrontEndOptions("127.0.0.1", taken),
            TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<DnsFrontEnd>.Instance);

        var error = await Assert.ThrowsAsync<IOException>(() => second.StartAsync(CancellationToken.None));
        Assert.Equal($"dns port {taken} (udp+tcp) on 127.0.0.1 is already in use", error.Message);
        // The running front-end is unharmed.
        Assert.Equal(ReturnCode.NoError, (await DnsProbe.UdpAsync(Port, "sky", RecordType.Soa)).ReturnCode);
    }
}
