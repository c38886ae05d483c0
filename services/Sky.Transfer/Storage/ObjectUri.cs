using System.Text;
using System.Text.RegularExpressions;

namespace Sky.Transfer.Storage;

/// <summary>Which kind of store a URI names.</summary>
public enum StoreKind
{
    /// <summary><c>file:///path</c>: a folder on this machine.</summary>
    Local,
    /// <summary><c>s3://bucket/key</c>: Amazon S3 or an S3-compatible store.</summary>
    S3,
    /// <summary><c>az://account/container/blob</c>: Azure Blob Storage.</summary>
    Azure,
    /// <summary><c>gs://bucket/key</c>: Google Cloud Storage.</summary>
    Gcs,
}

/// <summary>
/// Names an object, or a prefix of keys, in any store: <c>file:///path</c>, <c>s3://bucket/key</c>,
/// <c>az://account/container/blob</c>, <c>gs://bucket/key</c>. The key is everything after the bucket's slash, taken
/// literally (no percent-decoding), so a key may hold any character but control characters; an empty key names the
/// whole bucket. Endpoints and credentials never appear in a URI: they come from <see cref="ObjectStoreOptions"/>.
/// <para>For <c>file://</c> the "bucket" is the folder: <c>file:///data/src/</c> is the folder /data/src with an empty
/// key, <c>file:///data/src/a.bin</c> the key a.bin in /data/src. Only absolute local paths are accepted.</para>
/// </summary>
public sealed partial record ObjectUri
{
    /// <summary>S3, GCS and Azure all cap a key (blob name) at 1024 bytes.</summary>
    public const int MaxKeyBytes = 1024;

    private ObjectUri(StoreKind kind, string? account, string bucket, string key)
    {
        Kind = kind;
        Account = account;
        Bucket = bucket;
        Key = key;
    }

    public StoreKind Kind { get; }

    /// <summary>The Azure storage account; null for other kinds.</summary>
    public string? Account { get; }

    /// <summary>The bucket (S3, GCS), container (Azure) or absolute folder path without a trailing slash (local; "/" for the root).</summary>
    public string Bucket { get; }

    /// <summary>The object's key, or a key prefix; empty for the whole bucket.</summary>
    public string Key { get; }

    public static ObjectUri Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0) throw Bad(text, "empty: use file:///path, s3://bucket/key, az://account/container/blob or gs://bucket/key");
        var sep = text.IndexOf("://", StringComparison.Ordinal);
        if (sep <= 0) throw Bad(text, "no scheme: use file:///path, s3://bucket/key, az://account/container/blob or gs://bucket/key");
        var scheme = text[..sep].ToLowerInvariant();
        var rest = text[(sep + 3)..];
        return scheme switch
        {
            "file" => ParseFile(text, rest),
            "s3" => ParseBucketAndKey(text, rest, StoreKind.S3),
            "gs" => ParseBucketAndKey(text, rest, StoreKind.Gcs),
            "az" => ParseAzure(text, rest),
            _ => throw Bad(text, $"unknown scheme '{text[..sep]}': use file, s3, az or gs"),
        };
    }

    /// <summary>Builds a URI from its parts, checking them as <see cref="Parse"/> does.</summary>
    public static ObjectUri Create(StoreKind kind, string? account, string bucket, string key = "") =>
        Parse(Format(kind, account, bucket, key));

    /// <summary>The same bucket with another key (checked).</summary>
    public ObjectUri WithKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        CheckKey(Format(Kind, Account, Bucket, key), key);
        return new ObjectUri(Kind, Account, Bucket, key);
    }

    /// <summary>The bucket itself (empty key).</summary>
    public ObjectUri BucketUri() => Key.Length == 0 ? this : new ObjectUri(Kind, Account, Bucket, "");

    public override string ToString() => Format(Kind, Account, Bucket, Key);

    private static string Format(StoreKind kind, string? account, string bucket, string key) => kind switch
    {
        StoreKind.Local => "file://" + (bucket == "/" ? "" : bucket) + "/" + key,
        StoreKind.S3 => $"s3://{bucket}/{key}",
        StoreKind.Gcs => $"gs://{bucket}/{key}",
        StoreKind.Azure => $"az://{account}/{bucket}/{key}",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown store kind"),
    };

    private static ObjectUri ParseFile(string text, string rest)
    {
        if (rest.Length == 0 || rest[0] != '/')
            throw Bad(text, "a file URI names an absolute local path: file:///path (a host or a relative path is not supported)");
        var segments = rest[1..].Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            var last = i == segments.Length - 1;
            if (segments[i].Length == 0 && !last) throw Bad(text, "empty path segment ('//')");
            if (segments[i] is "." or "..") throw Bad(text, $"path segment '{segments[i]}' is not allowed: give the path itself");
        }
        var slash = rest.LastIndexOf('/');
        var folder = slash == 0 ? "/" : rest[..slash];
        var key = rest[(slash + 1)..];
        CheckKey(text, key);
        return new ObjectUri(StoreKind.Local, null, folder, key);
    }

    private static ObjectUri ParseBucketAndKey(string text, string rest, StoreKind kind)
    {
        var slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        var key = slash < 0 ? "" : rest[(slash + 1)..];
        var example = kind == StoreKind.S3 ? "s3://bucket/key" : "gs://bucket/key";
        if (bucket.Length == 0) throw Bad(text, $"missing bucket: {example}");
        if (kind == StoreKind.S3 ? !S3Bucket().IsMatch(bucket) : !GcsBucket().IsMatch(bucket) || bucket.Split('.').Any(p => p.Length is 0 or > 63))
            throw Bad(text, $"bucket '{bucket}' is not a valid {(kind == StoreKind.S3 ? "S3" : "GCS")} bucket name (3-63 lowercase letters, digits, '.', '-' or '_', starting and ending with a letter or digit)");
        CheckKey(text, key);
        return new ObjectUri(kind, null, bucket, key);
    }

    private static ObjectUri ParseAzure(string text, string rest)
    {
        var parts = rest.Split('/', 3);
        var account = parts[0];
        if (account.Length == 0) throw Bad(text, "missing storage account: az://account/container/blob");
        if (!AzureAccount().IsMatch(account)) throw Bad(text, $"storage account '{account}' is not valid (3-24 lowercase letters and digits)");
        var container = parts.Length > 1 ? parts[1] : "";
        if (container.Length == 0) throw Bad(text, "missing container: az://account/container/blob");
        if (!AzureContainer().IsMatch(container) || container.Contains("--", StringComparison.Ordinal))
            throw Bad(text, $"container '{container}' is not valid (3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit)");
        var key = parts.Length > 2 ? parts[2] : "";
        CheckKey(text, key);
        return new ObjectUri(StoreKind.Azure, account, container, key);
    }

    private static void CheckKey(string text, string key)
    {
        if (Encoding.UTF8.GetByteCount(key) > MaxKeyBytes) throw Bad(text, $"key is longer than {MaxKeyBytes} bytes");
        foreach (var c in key)
            if (char.IsControl(c)) throw Bad(text, $"key holds control character U+{(int)c:X4}");
        if (key.StartsWith('/')) throw Bad(text, "key starts with '/': write bucket/key with one slash");
    }

    private static InvalidObjectUriException Bad(string text, string problem) => new(text, problem);

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")]
    private static partial Regex S3Bucket();

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")]
    private static partial Regex GcsBucket();

    [GeneratedRegex("^[a-z0-9]{3,24}$")]
    private static partial Regex AzureAccount();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]
    private static partial Regex AzureContainer();
}
