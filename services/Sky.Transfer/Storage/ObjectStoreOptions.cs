using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Sky.Transfer.Storage;

/// <summary>
/// Endpoints and credentials per scheme, from configuration, so one URI (<c>s3://bucket/key</c>) can mean AWS, MinIO or
/// s3rver, and <c>az://account/...</c> Azure or azurite. Secrets live here, never in URIs. Unset values take the
/// clouds' defaults (AWS's credential chain, Google's application default credentials).
/// </summary>
public sealed record ObjectStoreOptions
{
    /// <summary>An S3-compatible endpoint (e.g. <c>http://127.0.0.1:4568</c>); unset means AWS in <see cref="S3Region"/>.</summary>
    public string? S3ServiceUrl { get; init; }

    /// <summary>Access key id; with <see cref="S3SecretKey"/>. Unset uses the AWS SDK's default chain (environment, profile, instance role).</summary>
    public string? S3AccessKey { get; init; }

    public string? S3SecretKey { get; init; }

    /// <summary>The AWS region (signing region for a custom endpoint); us-east-1 when unset.</summary>
    public string? S3Region { get; init; }

    /// <summary>Path-style addressing (bucket in the path, not the host name); on by default for a custom endpoint.</summary>
    public bool? S3ForcePathStyle { get; init; }

    /// <summary>
    /// Whether an S3 ETag of 32 hex digits is the MD5 of the bytes (true on S3 with SSE-S3 and on most compatible
    /// stores; objects under SSE-KMS or SSE-C are recognised and excluded). Set false for a store where it is not.
    /// </summary>
    public bool S3ETagIsMd5 { get; init; } = true;

    /// <summary>
    /// The Blob endpoint: a template with <c>{account}</c> (default <c>https://{account}.blob.core.windows.net</c>), or
    /// a base URL the account is appended to as a path, as azurite serves it (<c>http://127.0.0.1:10000</c> gives
    /// <c>http://127.0.0.1:10000/devstoreaccount1</c>).
    /// </summary>
    public string? AzureEndpoint { get; init; }

    /// <summary>A storage connection string; used for the account it names (its own endpoint and key).</summary>
    public string? AzureConnectionString { get; init; }

    /// <summary>The shared key for the URI's account.</summary>
    public string? AzureAccountKey { get; init; }

    /// <summary>A SAS token (without or with the leading '?'), when there is no key.</summary>
    public string? AzureSasToken { get; init; }

    /// <summary>Pins the Blob REST version (e.g. <c>2025-11-05</c>) for an emulator older than the SDK; unset uses the SDK's.</summary>
    public string? AzureServiceVersion { get; init; }

    /// <summary>A GCS JSON API endpoint (an emulator or fake, e.g. <c>http://127.0.0.1:4443/</c>); calls to it are unauthenticated unless <see cref="GcsCredentialsFile"/> is set.</summary>
    public string? GcsEndpoint { get; init; }

    /// <summary>A service account key file; unset uses Google's application default credentials.</summary>
    public string? GcsCredentialsFile { get; init; }

    /// <summary>The clock local writes stamp files with.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Reads the options from a configuration section: keys are the property names (<c>S3ServiceUrl</c>, <c>AzureEndpoint</c>, ...).</summary>
    public static ObjectStoreOptions FromConfiguration(IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        string? Get(string key) => string.IsNullOrWhiteSpace(section[key]) ? null : section[key]!.Trim();
        bool? Flag(string key) => Get(key) is { } v
            ? bool.TryParse(v, out var b) ? b : throw new FormatException($"{key}: '{v}' is not true or false")
            : null;
        return new ObjectStoreOptions
        {
            S3ServiceUrl = CheckUrl("S3ServiceUrl", Get("S3ServiceUrl")),
            S3AccessKey = Get("S3AccessKey"),
            S3SecretKey = Get("S3SecretKey"),
            S3Region = Get("S3Region"),
            S3ForcePathStyle = Flag("S3ForcePathStyle"),
            S3ETagIsMd5 = Flag("S3ETagIsMd5") ?? true,
            AzureEndpoint = Get("AzureEndpoint"),
            AzureConnectionString = Get("AzureConnectionString"),
            AzureAccountKey = Get("AzureAccountKey"),
            AzureSasToken = Get("AzureSasToken"),
            AzureServiceVersion = Get("AzureServiceVersion"),
            GcsEndpoint = CheckUrl("GcsEndpoint", Get("GcsEndpoint")),
            GcsCredentialsFile = Get("GcsCredentialsFile"),
        };
    }

    /// <summary>The Blob endpoint of <paramref name="account"/> from <see cref="AzureEndpoint"/>.</summary>
    public Uri AzureAccountEndpoint(string account)
    {
        var endpoint = AzureEndpoint ?? "https://{account}.blob.core.windows.net";
        var text = endpoint.Contains("{account}", StringComparison.Ordinal)
            ? endpoint.Replace("{account}", account, StringComparison.Ordinal)
            : endpoint.TrimEnd('/') + "/" + account;
        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new FormatException($"AzureEndpoint: '{endpoint}' does not make an http(s) URL");
    }

    private static string? CheckUrl(string key, string? value) =>
        value is null || (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
            ? value
            : throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"{key}: '{value}' is not an http(s) URL"));
}
