using System.Text;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Sky.Naming.Domain;
using Sky.Naming.V1;
using Record = Sky.Naming.V1.Record;
using static Sky.Naming.Tests.NamingAssert;

namespace Sky.Naming.Tests;

/// <summary>The record and zone rules of naming.proto, checked without a network.</summary>
public sealed class RecordValidationTests
{
    private static Record Valid(Action<Record>? change = null)
    {
        var record = new Record
        {
            Name = "pg-1.postgres.us-east-1.aws.sky",
            Endpoints = { new RecordEndpoint { Scheme = "postgres", Host = "10.0.0.7", Port = 5432 } },
        };
        change?.Invoke(record);
        return record;
    }

    private static RpcException Rejected(Action<Record> change) =>
        Fails(StatusCode.InvalidArgument, () => RecordValidation.Validate(Valid(change)));

    [Fact]
    public void A_valid_record_is_stored_in_canonical_form_with_the_default_ttl_and_no_output_only_fields()
    {
        var (name, record) = RecordValidation.Validate(Valid(r =>
        {
            r.Name = "PG-1.Postgres.US-EAST-1.aws.sky.";
            r.Endpoints.Add(new RecordEndpoint { Scheme = "grpc", Host = "Db.Example.COM.", Port = 443, Weight = 65535, Priority = 65535 });
            r.Endpoints.Add(new RecordEndpoint { Scheme = "tcp", Host = "2001:DB8:0:0::1", Port = 1 });
            r.Revision = 99;
            r.Zone = "forged.sky";
            r.Owner = "forged";
            r.CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch);
            r.Attributes["tier"] = "gold";
        }));
        Assert.Equal(SkyNameKind.Instance, name.Kind);
        Assert.Equal("pg-1.postgres.us-east-1.aws.sky", record.Name);
        Assert.Equal(TimeSpan.FromSeconds(60), record.Ttl.ToTimeSpan());
        Assert.Equal(["10.0.0.7", "db.example.com", "2001:db8::1"], record.Endpoints.Select(e => e.Host));
        Assert.Equal(0, record.Revision);
        Assert.Equal("", record.Zone);
        Assert.Equal("", record.Owner);
        Assert.Null(record.CreatedAt);
        Assert.Equal("gold", record.Attributes["tier"]);
    }

    [Fact]
    public void A_malformed_name_names_the_field_and_the_offset_of_the_first_bad_character()
    {
        ViolationAt(Rejected(r => r.Name = "pg_1.postgres.us-east-1.aws.sky"), "record.name", 2);
        ViolationAt(Rejected(r => r.Name = "pg-1..us-east-1.aws.sky"), "record.name", 5);
        ViolationAt(Rejected(r => r.Name = ""), "record.name", 0);
        ViolationAt(Rejected(r => r.Name = "pg-1.postgres.us-east-1.aws.com"), "record.name", 28);
    }

    [Fact]
    public void A_lookup_name_cannot_hold_a_record()
    {
        ViolationAt(Rejected(r => r.Name = "_postgres._tcp.us-east-1.aws.sky"), "record.name", 0);
    }

    [Fact]
    public void Endpoints_number_1_to_64()
    {
        Violation(Rejected(r => r.Endpoints.Clear()), "record.endpoints");
        var endpoint = Valid().Endpoints[0];
        RecordValidation.Validate(Valid(r => r.Endpoints.Add(Enumerable.Repeat(endpoint, 63))));
        Violation(Rejected(r => r.Endpoints.Add(Enumerable.Repeat(endpoint, 64))), "record.endpoints");
    }

    [Theory]
    [InlineData("", "scheme")]
    [InlineData("GRPC", "scheme")]
    [InlineData("9p", "scheme")]
    [InlineData("gr pc", "scheme")]
    public void A_scheme_is_a_lower_case_protocol_name(string scheme, string field)
    {
        Violation(Rejected(r => r.Endpoints[0].Scheme = scheme), $"record.endpoints[0].{field}");
    }

    [Theory]
    [InlineData("")]
    [InlineData("[2001:db8::1]")]
    [InlineData("2001:db8::1%eth0")]
    [InlineData("10.0.0.256")]
    [InlineData("10.0.0")]
    [InlineData("010.0.0.1")]
    [InlineData("db_1.example.com")]
    [InlineData("-db.example.com")]
    [InlineData("db..example.com")]
    [InlineData("db.example.com:5432")]
    public void A_host_is_a_host_name_or_an_ip_literal(string host)
    {
        Violation(Rejected(r => r.Endpoints[0].Host = host), "record.endpoints[0].host");
    }

    [Fact]
    public void A_bad_host_name_says_where()
    {
        var violation = Violation(Rejected(r => r.Endpoints[0].Host = "db.exa_mple.com"), "record.endpoints[0].host");
        Assert.StartsWith("at 6: ", violation.Description);
    }

    [Theory]
    [InlineData(0, 0, 0, "port")]
    [InlineData(65536, 0, 0, "port")]
    [InlineData(80, -1, 0, "weight")]
    [InlineData(80, 65536, 0, "weight")]
    [InlineData(80, 0, -1, "priority")]
    [InlineData(80, 0, 65536, "priority")]
    public void Port_weight_and_priority_have_their_ranges(int port, int weight, int priority, string field)
    {
        var ex = Rejected(r => (r.Endpoints[0].Port, r.Endpoints[0].Weight, r.Endpoints[0].Priority) = (port, weight, priority));
        Violation(ex, $"record.endpoints[0].{field}");
    }

    [Fact]
    public void Every_problem_is_reported_at_once_with_its_endpoint_index()
    {
        var ex = Rejected(r =>
        {
            r.Endpoints.Add(new RecordEndpoint { Scheme = "grpc", Host = "ok.example.com", Port = 0 });
            r.ApiVersion = new string('v', 65);
        });
        Violation(ex, "record.endpoints[1].port");
        Violation(ex, "record.api_version");
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(86400, true)]
    [InlineData(0, false)]
    [InlineData(-5, false)]
    [InlineData(86401, false)]
    public void A_ttl_is_1_s_to_24_h(long seconds, bool valid)
    {
        var record = Valid(r => r.Ttl = new Duration { Seconds = seconds });
        if (valid) Assert.Equal(seconds, RecordValidation.Validate(record).Record.Ttl.Seconds);
        else Violation(Fails(StatusCode.InvalidArgument, () => RecordValidation.Validate(record)), "record.ttl");
    }

    [Fact]
    public void A_ttl_is_whole_seconds()
    {
        Violation(Rejected(r => r.Ttl = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(1500))), "record.ttl");
    }

    [Fact]
    public void Versions_have_at_most_64_characters()
    {
        RecordValidation.Validate(Valid(r => (r.ApiVersion, r.SoftwareVersion) = (new string('1', 64), "16.2.0-é" + new string('x', 56))));
        Violation(Rejected(r => r.ApiVersion = new string('1', 65)), "record.api_version");
        Violation(Rejected(r => r.SoftwareVersion = new string('1', 65)), "record.software_version");
        // 64 four-byte characters do not fit "software_version=..." in one 255-byte TXT string.
        Violation(Rejected(r => r.SoftwareVersion = string.Concat(Enumerable.Repeat("😀", 64))), "record.software_version");
    }

    [Theory]
    [InlineData("Tier")]
    [InlineData("")]
    [InlineData("a:b")]
    [InlineData("ключ")]
    [InlineData("a b")]
    public void Attribute_keys_are_1_to_63_characters_of_a_small_alphabet(string key)
    {
        Violation(Rejected(r => r.Attributes[key] = "x"), "record.attributes");
    }

    [Fact]
    public void Attribute_keys_may_have_63_characters_and_dots()
    {
        var key = "a." + new string('k', 61);
        Assert.Equal("v", RecordValidation.Validate(Valid(r => r.Attributes[key] = "v")).Record.Attributes[key]);
        Violation(Rejected(r => r.Attributes[key + "k"] = "v"), "record.attributes");
    }

    [Fact]
    public void Key_equals_value_fits_one_txt_string_of_255_bytes()
    {
        var fits = new string('v', 255 - "key=".Length);
        RecordValidation.Validate(Valid(r => r.Attributes["key"] = fits));
        Violation(Rejected(r => r.Attributes["key"] = fits + "v"), "record.attributes");
        // Bytes, not characters: 'é' is two bytes in UTF-8.
        var twoByte = new string('é', fits.Length / 2 + 1);
        Assert.True(Encoding.UTF8.GetByteCount(twoByte) > fits.Length);
        Violation(Rejected(r => r.Attributes["key"] = twoByte), "record.attributes");
    }

    [Fact]
    public void At_most_64_attributes()
    {
        RecordValidation.Validate(Valid(r => { for (var i = 0; i < 64; i++) r.Attributes[$"k{i}"] = "v"; }));
        var ex = Rejected(r => { for (var i = 0; i < 65; i++) r.Attributes[$"k{i}"] = "v"; });
        Assert.Contains("at most 64", Violation(ex, "record.attributes").Description);
    }

    [Fact]
    public void A_missing_record_is_invalid()
    {
        Violation(Fails(StatusCode.InvalidArgument, () => RecordValidation.Validate(null)), "record");
    }

    [Fact]
    public void A_zone_has_a_valid_name_an_owner_and_a_short_description()
    {
        var now = DateTimeOffset.Parse("2026-01-02T03:04:05Z");
        var (name, zone) = ZoneRules.Validate(new Zone { Name = "US-East-1.AWS.sky.", Owner = "GCP", Parent = "forged", Description = "d" }, now);
        Assert.Equal(SkyNameKind.Region, name.Kind);
        Assert.Equal(("us-east-1.aws.sky", "gcp", "", "d"), (zone.Name, zone.Owner, zone.Parent, zone.Description));
        Assert.Equal(now, zone.CreatedAt.ToDateTimeOffset());

        Reject(new Zone { Name = "aws.sky", Owner = "gcp" }, "zone.owner");
        Reject(new Zone { Name = "aws.sky", Owner = "" }, "zone.owner");
        Reject(new Zone { Name = "aws.sky", Owner = "a_b" }, "zone.owner");
        Reject(new Zone { Name = "aws.sky", Owner = "aws", Description = new string('d', 201) }, "zone.description");
        ZoneRules.Validate(new Zone { Name = "aws.sky", Owner = "aws", Description = new string('d', 200) }, now);
        ViolationAt(Fails(StatusCode.InvalidArgument, () => ZoneRules.Validate(new Zone { Name = "aws.sky!", Owner = "aws" }, now)), "zone.name", 7);
        ViolationAt(Fails(StatusCode.InvalidArgument, () => ZoneRules.Validate(new Zone { Name = "_pg._tcp.r.aws.sky", Owner = "aws" }, now)), "zone.name", 0);

        void Reject(Zone zone, string field) => Violation(Fails(StatusCode.InvalidArgument, () => ZoneRules.Validate(zone, now)), field);
    }

    [Theory]
    [InlineData("pg-1.postgres.us-east-1.aws.sky", true, new[] { "pg-1.postgres.us-east-1.aws.sky", "postgres.us-east-1.aws.sky", "us-east-1.aws.sky", "aws.sky" })]
    [InlineData("pg-1.postgres.us-east-1.aws.sky", false, new[] { "postgres.us-east-1.aws.sky", "us-east-1.aws.sky", "aws.sky" })]
    [InlineData("aws.sky", true, new[] { "aws.sky" })]
    [InlineData("aws.sky", false, new string[0])]
    public void A_name_is_enclosed_by_its_parents_up_to_the_apex(string name, bool includeSelf, string[] expected)
    {
        Assert.Equal(expected, NameTree.Enclosing(name, includeSelf));
    }

    [Theory]
    [InlineData("us-east-1.aws.sky", "aws.sky", true)]
    [InlineData("aws.sky", "aws.sky", true)]
    [InlineData("xaws.sky", "aws.sky", false)]
    [InlineData("aws.sky", "us-east-1.aws.sky", false)]
    [InlineData("a.us-east-1.aws.sky", "east-1.aws.sky", false)]
    public void A_subtree_is_a_name_and_everything_ending_in_dot_name(string name, string under, bool expected)
    {
        Assert.Equal(expected, NameTree.IsAtOrUnder(name, under));
        Assert.Equal(name, NameTree.FromTreeKey(NameTree.TreeKey(name)));
    }
}
