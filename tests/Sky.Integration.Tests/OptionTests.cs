using Sky.Hosting.Options;

namespace Sky.Integration.Tests;

public sealed class OptionTests
{
    [Fact]
    public void Services_all_or_a_list()
    {
        Assert.Equal(5, MeshOptionParsing.ParseServices("all").Count);
        Assert.Equal([MeshService.Directory, MeshService.Placement],
            MeshOptionParsing.ParseServices(" directory , placement ").OrderBy(s => s.Kind));
        Assert.Throws<FormatException>(() => MeshOptionParsing.ParseServices(""));
        Assert.Throws<FormatException>(() => MeshOptionParsing.ParseServices("all,naming,nope"));
    }

    [Fact]
    public void Peers_name_a_known_service_not_served_here()
    {
        var local = MeshOptionParsing.ParseServices("placement");
        var peers = MeshOptionParsing.ParsePeers(["directory=http://127.0.0.1:7102"], local);
        Assert.Equal(new Uri("http://127.0.0.1:7102"), peers[MeshService.Directory]);
        Assert.Contains("already serves", Assert.Throws<FormatException>(() => MeshOptionParsing.ParsePeers(["placement=http://x:1"], local)).Message);
        Assert.Contains("given twice", Assert.Throws<FormatException>(() => MeshOptionParsing.ParsePeers(["naming=http://x:1", "naming=http://y:1"], local)).Message);
        Assert.Throws<FormatException>(() => MeshOptionParsing.ParsePeer("directory"));
        Assert.Throws<FormatException>(() => MeshOptionParsing.ParsePeer("directory=ftp://x"));
        Assert.Throws<FormatException>(() => MeshOptionParsing.ParsePeer("dns=http://x:1"));
    }

    [Theory]
    [InlineData("redis://127.0.0.1:6390", "127.0.0.1:6390,abortConnect=false")]
    [InlineData("redis://cache.internal", "cache.internal:6379,abortConnect=false")]
    [InlineData("redis://:s3cret@10.0.0.5:6380/3", "10.0.0.5:6380,abortConnect=false,password=s3cret,defaultDatabase=3")]
    [InlineData("redis://app:pw@h:1/0", "h:1,abortConnect=false,user=app,password=pw,defaultDatabase=0")]
    public void Redis_store_uris_become_client_configuration(string uri, string expected)
    {
        var store = StoreLocation.Parse(uri);
        Assert.True(store.IsRedis);
        Assert.Equal(expected, store.RedisConfiguration);
    }

    [Theory]
    [InlineData("postgres://x")]
    [InlineData("redis://")]
    [InlineData("redis://h:1/notanumber")]
    [InlineData("disk")]
    public void Other_stores_are_rejected(string value) =>
        Assert.Throws<FormatException>(() => StoreLocation.Parse(value));

    [Fact]
    public void Event_transports_not_built_yet_say_so()
    {
        Assert.Equal("inproc", MeshOptionParsing.ParseEvents("inproc"));
        Assert.Equal("dapr", MeshOptionParsing.ParseEvents("dapr"));
        Assert.Equal("redis://127.0.0.1:6390/3", MeshOptionParsing.ParseEvents("redis://127.0.0.1:6390/3"));
        Assert.Contains("'x' is not a number", Assert.Throws<FormatException>(() => MeshOptionParsing.ParseEvents("redis://127.0.0.1:6390/x")).Message);
        var bad = Assert.Throws<FormatException>(() => MeshOptionParsing.ParseEvents("amqp://user:secret@host")).Message;
        Assert.DoesNotContain("secret", bad);
        Assert.Equal("redis://h:1/2", MeshOptionParsing.Redact("redis://:pw@h:1/2"));
        Assert.Contains("not one of", Assert.Throws<FormatException>(() => MeshOptionParsing.ParseEvents("kafka")).Message);
    }

    [Fact]
    public void Ports_are_checked()
    {
        Assert.Equal(0, MeshOptionParsing.ParsePort("--grpc-port", 0));
        Assert.Throws<FormatException>(() => MeshOptionParsing.ParsePort("--grpc-port", 70000));
    }
}
