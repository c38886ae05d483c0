using System.Net;
using System.Text;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using Google.Protobuf.WellKnownTypes;
using Sky.Naming.Dns;
using Sky.Naming.V1;
using Record = Sky.Naming.V1.Record;
using static Sky.Naming.Tests.DnsTestRecords;

namespace Sky.Naming.Tests;

/// <summary>How a record reads in DNS terms, and the responder's answers to messages no socket would let through cleanly.</summary>
public sealed class DnsRecordDataTests
{
    [Theory]
    [InlineData("10.0.0.1", "10.0.0.1")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("::ffff:192.0.2.1", "::ffff:192.0.2.1")]
    [InlineData("10", null)]
    [InlineData("10.1", null)]
    [InlineData("db.example.net", null)]
    [InlineData("fe80::1%eth0", null)]
    public void Only_full_ip_literals_become_addresses(string host, string? expected) =>
        Assert.Equal(expected is null ? null : IPAddress.Parse(expected), DnsRecordData.IpLiteral(host));

    [Fact]
    public void Ttl_is_the_records_or_sixty_seconds_when_unset()
    {
        Assert.Equal(60, DnsRecordData.TtlSeconds(new Record()));
        Assert.Equal(3600, DnsRecordData.TtlSeconds(new Record { Ttl = Duration.FromTimeSpan(TimeSpan.FromHours(1)) }));
    }

    [Fact]
    public void Txt_strings_are_versions_then_attributes_in_key_order_and_empty_versions_are_left_out()
    {
        var record = new Record { SoftwareVersion = "7.2.4" };
        record.Attributes.Add("b", "2");
        record.Attributes.Add("B", "upper sorts first (ordinal)");
        record.Attributes.Add("a.x", "1");
        Assert.Equal(["software_version=7.2.4", "B=upper sorts first (ordinal)", "a.x=1", "b=2"], DnsRecordData.TxtStrings(record));
    }

    [Fact]
    public void Txt_rdata_is_length_prefixed_utf8_and_a_record_with_no_strings_has_one_empty_string()
    {
        Assert.Equal([0], DnsRecordData.TxtRdata([]));

        var city = "city=Zürich";
        var bytes = Encoding.UTF8.GetBytes(city);
        Assert.Equal([(byte)bytes.Length, .. bytes, 3, (byte)'a', (byte)'=', (byte)'1'], DnsRecordData.TxtRdata([city, "a=1"]));

        // 255 bytes fit one character-string; 256 cannot and are not cut.
        var fits = "k=" + new string('v', 253);
        var over = "k=" + new string('v', 254);
        Assert.Equal(256, DnsRecordData.TxtRdata([fits, over]).Length);
    }

    [Fact]
    public async Task Opcodes_other_than_query_are_not_implemented()
    {
        var query = Query("pg-1.postgres.us-east-1.aws.sky", RecordType.A);
        query.OperationCode = OperationCode.Notify;
        var answer = await new SkyZoneResponder(new DictionaryRecordReader()).RespondAsync(query);
        Assert.Equal(ReturnCode.NotImplemented, answer.ReturnCode);
    }

    [Fact]
    public async Task A_message_with_two_questions_or_none_is_a_format_error()
    {
        var responder = new SkyZoneResponder(new DictionaryRecordReader());
        var two = Query("a.aws.sky", RecordType.A);
        two.Questions.Add(new DnsQuestion(DomainName.Parse("b.aws.sky"), RecordType.A, RecordClass.INet));
        Assert.Equal(ReturnCode.FormatError, (await responder.RespondAsync(two)).ReturnCode);

        var none = Query("a.aws.sky", RecordType.A);
        none.Questions.Clear();
        Assert.Equal(ReturnCode.FormatError, (await responder.RespondAsync(none)).ReturnCode);
    }

    [Fact]
    public async Task A_label_holding_an_escaped_dot_is_not_split_into_two()
    {
        // The wire name has 4 labels, "pg-1.postgres" being one; joined naively it would read as the instance.
        var reader = new DictionaryRecordReader().Add(RecordAt("pg-1.postgres.us-east-1.aws.sky", 60, Endpoint("10.0.0.1", 5432)));
        var query = new DnsMessage { IsQuery = true };
        query.Questions.Add(new DnsQuestion(new DomainName(["pg-1.postgres", "us-east-1", "aws", "sky"]), RecordType.A, RecordClass.INet));
        Assert.Equal(ReturnCode.NxDomain, (await new SkyZoneResponder(reader).RespondAsync(query)).ReturnCode);
    }

    [Fact]
    public async Task Endpoints_that_differ_only_in_scheme_give_one_srv_and_an_address_is_listed_once()
    {
        var reader = new DictionaryRecordReader().Add(RecordAt("api-1.api.us-east-1.aws.sky", 60,
            Endpoint("10.0.0.1", 443, scheme: "https"),
            Endpoint("10.0.0.1", 443, scheme: "grpc"),
            Endpoint("10.0.0.1", 8443)));
        var answer = await new SkyZoneResponder(reader).RespondAsync(Query("_api._tcp.us-east-1.aws.sky", RecordType.Srv));
        Assert.Equal([443, 8443], answer.AnswerRecords.OfType<SrvRecord>().Select(s => (int)s.Port).Order());
        Assert.Single(answer.AdditionalRecords.OfType<ARecord>());
    }

    private static DnsMessage Query(string name, RecordType type)
    {
        var query = new DnsMessage { IsQuery = true };
        query.Questions.Add(new DnsQuestion(DomainName.Parse(name), type, RecordClass.INet));
        return query;
    }
}
