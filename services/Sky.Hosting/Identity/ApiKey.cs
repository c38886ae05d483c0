using System.Security.Cryptography;
using System.Text;
using Sky.Common.V1;

namespace Sky.Hosting.Identity;

/// <summary>An API key the host accepts, as stored: only the SHA-256 of the secret, never the secret.</summary>
/// <remarks>Keys are 256 random bits, so a plain SHA-256 is enough: there is no password to brute-force.</remarks>
public sealed record ApiKeyRecord(
    string KeyId,
    string Sha256,
    PrincipalKind Kind,
    string Scope,
    string Description,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt,
    string Origin)
{
    public Principal ToPrincipal() => new(Kind, Scope, KeyId);
}

public static class ApiKeys
{
    private const string Prefix = "sky_";

    /// <summary>A new secret: <c>sky_</c> + 43 base64url characters (256 bits).</summary>
    public static string NewSecret() => Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string NewKeyId() => "key_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    public static string Hash(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Lower-case letters, digits and '-', 1..63 characters, not starting or ending with '-' (a DNS label).</summary>
    public static bool IsValidScope(string scope) =>
        scope.Length is >= 1 and <= 63 && scope[0] != '-' && scope[^1] != '-' &&
        scope.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-');

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
