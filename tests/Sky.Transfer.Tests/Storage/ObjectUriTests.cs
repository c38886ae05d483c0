using Microsoft.Extensions.Configuration;
using Sky.Transfer.Storage;
using Sky.Transfer.Storage.Azure;
using Sky.Transfer.Storage.Gcs;
using Sky.Transfer.Storage.Local;
using Sky.Transfer.Storage.S3;

namespace Sky.Transfer.Tests.Storage;

/// <summary>Object URIs: what each scheme means, and a clear error for every way one can be wrong.</summary>
public sealed class ObjectUriTests
{
    [Theory]
    [InlineData("s3://my-bucket/a/b.txt", StoreKind.S3, null, "my-bucket", "a/b.txt")]
    [InlineData("s3://my.bucket_1", StoreKind.S3, null, "my.bucket_1", "")]
    [InlineData("S3://bkt/", StoreKind.S3, null, "bkt", "")]
    [InlineData("gs://data-eu/2026/part 1?#%", StoreKind.Gcs, null, "data-eu", "2026/part 1?#%")]
    [InlineData("az://acct1/container-1/dir/blob", StoreKind.Azure, "acct1", "container-1", "dir/blob")]
    [InlineData("az://devstoreaccount1/c01", StoreKind.Azure, "devstoreaccount1", "c01", "")]
    [InlineData("file:///data/src/", StoreKind.Local, null, "/data/src", "")]
    [InlineData("file:///data/src/a.bin", StoreKind.Local, null, "/data/src", "a.bin")]
    [InlineData("file:///a.bin", StoreKind.Local, null, "/", "a.bin")]
    [InlineData("file:///", StoreKind.Local, null, "/", "")]
    public void Parses_each_scheme(string text, StoreKind kind, string? account, string bucket, string key)
    {
        var uri = ObjectUri.Parse(text);
        Assert.Equal((kind, account, bucket, key), (uri.Kind, uri.Account, uri.Bucket, uri.Key));
        Assert.Equal(uri, ObjectUri.Parse(uri.ToString()));
    }

    [Fact]
    public void Prints_canonically_and_swaps_keys()
    {
        Assert.Equal("s3://bkt/", ObjectUri.Parse("S3://bkt").ToString());
        Assert.Equal("file:///x", ObjectUri.Parse("file:///").WithKey("x").ToString());
        Assert.Equal("az://acct1/ctr/k/v", ObjectUri.Parse("az://acct1/ctr/old").WithKey("k/v").ToString());
        Assert.Equal("gs://bkt/", ObjectUri.Parse("gs://bkt/a/b").BucketUri().ToString());
        Assert.Equal(ObjectUri.Parse("gs://bkt/k"), ObjectUri.Create(StoreKind.Gcs, null, "bkt", "k"));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("bucket/key", "no scheme")]
    [InlineData("http://host/x", "unknown scheme 'http'")]
    [InlineData("s3://", "missing bucket")]
    [InlineData("s3:///key", "missing bucket")]
    [InlineData("gs:///key", "missing bucket")]
    [InlineData("s3://UPPER/key", "not a valid S3 bucket name")]
    [InlineData("s3://ab/key", "not a valid S3 bucket name")]
    [InlineData("s3://-bad/key", "not a valid S3 bucket name")]
    [InlineData("gs://bad..dots/key", "not a valid GCS bucket name")]
    [InlineData("az://", "missing storage account")]
    [InlineData("az://acct1", "missing container")]
    [InlineData("az://acct1/", "missing container")]
    [InlineData("az://Acct/c01/b", "storage account 'Acct' is not valid")]
    [InlineData("az://acct1/bad--name/b", "container 'bad--name' is not valid")]
    [InlineData("file://host/path", "absolute local path")]
    [InlineData("file://relative", "absolute local path")]
    [InlineData("file:///a/../b", "'..' is not allowed")]
    [InlineData("file:///a//b", "empty path segment")]
    [InlineData("s3://bkt//key", "key starts with '/'")]
    [InlineData("s3://bkt/a\nb", "control character")]
    public void Says_what_is_wrong(string text, string problem)
    {
        var e = Assert.Throws<InvalidObjectUriException>(() => ObjectUri.Parse(text));
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.Equal(text, e.Text);
    }

    [Fact]
    public void A_key_longer_than_1024_bytes_is_refused()
    {
        Assert.Equal(1024, ObjectUri.Parse("s3://bkt/" + new string('k', 1024)).Key.Length);
        var e = Assert.Throws<InvalidObjectUriException>(() => ObjectUri.Parse("s3://bkt/" + new string('é', 513)));
        Assert.Contains("1024 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_registry_opens_one_adapter_per_bucket_by_scheme()
    {
        await using var stores = new ObjectStores(new ObjectStoreOptions
        {
            S3ServiceUrl = "http://127.0.0.1:1", S3AccessKey = "k", S3SecretKey = "s",
            AzureEndpoint = "http://127.0.0.1:1", AzureAccountKey = Convert.ToBase64String(new byte[64]),
            GcsEndpoint = "http://127.0.0.1:1/",
        });
        Assert.IsType<LocalObjectStore>(stores.Resolve("file:///tmp/x").Store);
        Assert.IsType<S3ObjectStore>(stores.Resolve("s3://bkt/x").Store);
        Assert.IsType<AzureBlobObjectStore>(stores.Resolve("az://acct1/ctr/x").Store);
        Assert.IsType<GcsObjectStore>(stores.Resolve("gs://bkt/x").Store);
        Assert.Same(stores.Resolve("s3://bkt/a").Store, stores.Resolve("s3://bkt/b/c").Store);
        Assert.NotSame(stores.Resolve("s3://bkt/a").Store, stores.Resolve("s3://bkt2/a").Store);
        Assert.True(stores.Resolve("az://acct1/ctr2/x").Store.CanCopyFrom(stores.Resolve("az://acct1/ctr/x").Store));
        Assert.False(stores.Resolve("az://acct2/ctr/x").Store.CanCopyFrom(stores.Resolve("az://acct1/ctr/x").Store));
        Assert.False(stores.Resolve("gs://bkt/x").Store.CanCopyFrom(stores.Resolve("s3://bkt/x").Store));
        Assert.Throws<InvalidObjectUriException>(() => stores.Resolve("ftp://x/y"));
    }

    [Fact]
    public void Options_come_from_configuration_keys_named_as_the_properties()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["S3ServiceUrl"] = "http://127.0.0.1:4568", ["S3AccessKey"] = "ak", ["S3SecretKey"] = "sk", ["S3Region"] = "eu-west-1",
            ["S3ForcePathStyle"] = "false", ["S3ETagIsMd5"] = "false", ["AzureEndpoint"] = "http://127.0.0.1:10000",
            ["AzureAccountKey"] = "key", ["AzureServiceVersion"] = "2025-11-05", ["GcsEndpoint"] = "http://127.0.0.1:4443/",
        }).Build();
        var options = ObjectStoreOptions.FromConfiguration(config);
        Assert.Equal(("http://127.0.0.1:4568", "ak", "sk", "eu-west-1", (bool?)false, false),
            (options.S3ServiceUrl, options.S3AccessKey, options.S3SecretKey, options.S3Region, options.S3ForcePathStyle, options.S3ETagIsMd5));
        Assert.Equal(("http://127.0.0.1:10000", "key", "2025-11-05", "http://127.0.0.1:4443/"),
            (options.AzureEndpoint, options.AzureAccountKey, options.AzureServiceVersion, options.GcsEndpoint));

        var bad = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["S3ServiceUrl"] = "not a url" }).Build();
        Assert.Contains("S3ServiceUrl", Assert.Throws<FormatException>(() => ObjectStoreOptions.FromConfiguration(bad)).Message, StringComparison.Ordinal);
        var flag = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["S3ForcePathStyle"] = "maybe" }).Build();
        Assert.Contains("S3ForcePathStyle", Assert.Throws<FormatException>(() => ObjectStoreOptions.FromConfiguration(flag)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_s3_access_key_without_its_secret_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => S3ObjectStore.CreateClient(new ObjectStoreOptions { S3AccessKey = "ak" }));
        Assert.Contains("S3SecretKey", e.Message, StringComparison.Ordinal);
    }
}
