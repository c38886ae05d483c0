using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net.Dns;
using Microsoft.Extensions.DependencyInjection;
using Sky.Common.V1;
using Sky.Host;
using Sky.Hosting.Identity;
using Sky.Hosting.Options;
using Sky.Naming.Dns;
using Sky.Naming.V1;
using Record = Sky.Naming.V1.Record;
using Zone = Sky.Naming.V1.Zone;
using Sky.Testing;
using static Sky.Naming.Tests.DnsTestRecords;

namespace Sky.Naming.Tests;

/// <summary>
/// The DNS front-end inside a host: records written through the naming gRPC API (memory or Redis
/// store) are what DNS answers, <c>--dns-port</c> turns it on, and a port in use stops start-up.
/// </summary>
public sealed class DnsHostTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public Task Records_written_over_grpc_are_answered_over_dns_from_the_memory_store() => ZoneServedAsync("memory");

    [SkippableFact]
    public async Task Records_written_over_grpc_are_answered_over_dns_from_the_redis_store() =>
        await ZoneServedAsync(await redis.NewDatabaseAsync());

    private static async Task ZoneServedAsync(string store)
    {
        await using var mesh = await TestMesh.StartAsync("naming", store: store,
            configure: b => b.AddSkyNamingDns(new DnsFrontEndOptions("127.0.0.1", 0)));
        var port = mesh.Services.GetRequiredService<DnsFrontEnd>().Port;
        var aws = mesh.Client<Naming.V1.Naming.NamingClient>(await mesh.IssueKeyAsync(PrincipalKind.Provider, "aws"));
        await aws.CreateZoneAsync(new CreateZoneRequest { Zone = new Zone { Name = "aws.sky", Owner = "aws" } });
        var pg1 = RecordAt("pg-1.postgres.us-east-1.aws.sky", 90, Endpoint("10.1.0.1", 5432, priority: 1, weight: 10, scheme: "postgres"));
        pg1.ApiVersion = "16";
        pg1.Attributes.Add("role", "primary");
        var created = (await aws.CreateRecordAsync(new CreateRecordRequest { Record = pg1 })).Record;
        await aws.CreateRecordAsync(new CreateRecordRequest
        {
            Record = RecordAt("pg-2.postgres.us-east-1.aws.sky", 30, Endpoint("pg-2.db.example.net", 5432, priority: 2, weight: 10, scheme: "postgres")),
        });

        var srv = await DnsProbe.UdpAsync(port, "_postgres._tcp.us-east-1.aws.sky", RecordType.Srv);
        Assert.Equal(ReturnCode.NoError, srv.ReturnCode);
        Assert.Equal(
            ["1 10 5432 pg-1.postgres.us-east-1.aws.sky.", "2 10 5432 pg-2.db.example.net."],
            srv.AnswerRecords.OfType<SrvRecord>().Select(s => $"{s.Priority} {s.Weight} {s.Port} {s.Target}"));
        Assert.All(srv.AnswerRecords, r => Assert.Equal(30, r.TimeToLive));
        Assert.Equal(IPAddress.Parse("10.1.0.1"), Assert.IsType<ARecord>(Assert.Single(srv.AdditionalRecords.OfType<ARecord>())).Address);

        var txt = await DnsProbe.TcpAsync(port, "PG-1.postgres.us-east-1.aws.sky", RecordType.Txt);
        Assert.Equal(["api_version=16", "role=primary"], Assert.IsType<TxtRecord>(Assert.Single(txt.AnswerRecords)).TextParts);

        // DNS reads the store on every query: an update is seen at once, a deletion turns the name into NXDOMAIN.
        var moved = created.Clone();
        moved.Endpoints[0].Host = "10.1.0.9";
        var updated = (await aws.UpdateRecordAsync(new UpdateRecordRequest { Record = moved, ExpectedRevision = created.Revision })).Record;
        var a = await DnsProbe.UdpAsync(port, "pg-1.postgres.us-east-1.aws.sky", RecordType.A);
        Assert.Equal(IPAddress.Parse("10.1.0.9"), Assert.IsType<ARecord>(Assert.Single(a.AnswerRecords)).Address);

        await aws.DeleteRecordAsync(new DeleteRecordRequest { Name = updated.Name, ExpectedRevision = updated.Revision });
        Assert.Equal(ReturnCode.NxDomain, (await DnsProbe.UdpAsync(port, "pg-1.postgres.us-east-1.aws.sky", RecordType.A)).ReturnCode);
        Assert.Equal(ReturnCode.Refused, (await DnsProbe.UdpAsync(port, "example.com", RecordType.A)).ReturnCode);
    }

    [Fact]
    public async Task Dns_port_in_the_host_options_starts_the_front_end_with_naming()
    {
        await using var app = MeshHost.Build(HostOptions(dnsPort: 0), OperatorKey.FromSecret(ApiKeys.NewSecret()));
        await app.StartAsync();
        try
        {
            var frontEnd = app.Services.GetRequiredService<DnsFrontEnd>();
            Assert.NotEqual(0, frontEnd.Port);
            var soa = await DnsProbe.UdpAsync(frontEnd.Port, "sky", RecordType.Soa);
            Assert.IsType<SoaRecord>(Assert.Single(soa.AnswerRecords));
            Assert.Equal(ReturnCode.NoError, (await DnsProbe.TcpAsync(frontEnd.Port, "sky", RecordType.Soa)).ReturnCode);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [Fact]
    public void Without_a_dns_port_or_without_naming_there_is_no_front_end()
    {
        var off = MeshHost.CreateBuilder(HostOptions(dnsPort: null), OperatorKey.FromSecret(ApiKeys.NewSecret())).Build();
        Assert.Null(off.Services.GetService<DnsFrontEnd>());

        var noNaming = HostOptions(dnsPort: 0) with { Services = MeshOptionParsing.ParseServices("directory") };
        var directoryOnly = MeshHost.CreateBuilder(noNaming, OperatorKey.FromSecret(ApiKeys.NewSecret())).Build();
        Assert.Null(directoryOnly.Services.GetService<DnsFrontEnd>());
    }

    [Fact]
    public async Task A_dns_port_in_use_fails_host_start_up_with_an_error_naming_the_port()
    {
        using var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        squatter.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)squatter.LocalEndPoint!).Port;

        await using var app = MeshHost.Build(HostOptions(dnsPort: port), OperatorKey.FromSecret(ApiKeys.NewSecret()));
        var error = await Assert.ThrowsAsync<IOException>(() => app.StartAsync());
        Assert.Equal($"dns port {port} (udp+tcp) on 127.0.0.1 is already in use", error.Message);
    }

    [Theory]
    [InlineData(new[] { "--dns-port", "5353" }, 5353)]
    [InlineData(new[] { "--dns-port", "0" }, 0)]
    [InlineData(new string[0], null)]
    public async Task The_dns_port_flag_sets_the_host_option(string[] args, int? expected)
    {
        MeshOptions? seen = null;
        var exit = await HostCommand.Create((options, _) => { seen = options; return Task.FromResult(0); }).Parse(args).InvokeAsync();
        Assert.Equal(0, exit);
        Assert.Equal(expected, seen!.DnsPort);
    }

    [Fact]
    public async Task A_dns_port_out_of_range_is_rejected()
    {
        var ran = false;
        var exit = await HostCommand.Create((_, _) => { ran = true; return Task.FromResult(0); }).Parse(["--dns-port", "70000"]).InvokeAsync();
        Assert.Equal(2, exit);
        Assert.False(ran);
    }

    private static MeshOptions HostOptions(int? dnsPort) => new()
    {
        Services = MeshOptionParsing.ParseServices("naming"),
        GrpcPort = 0,
        HttpPort = 0,
        DnsPort = dnsPort,
        Announce = false,
    };
}
