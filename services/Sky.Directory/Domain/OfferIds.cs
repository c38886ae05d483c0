using System.Security.Cryptography;
using System.Text;

namespace Sky.Directory.Domain;

/// <summary>
/// Offer ids are derived, not allocated: "&lt;provider&gt;-&lt;20 base32 chars of SHA-256(provider, key)&gt;". So
/// any host computes the same id for a (provider, key) without a lookup, and re-registering a key
/// lands on the same offer. Lease ids are random.
/// </summary>
public static class OfferIds
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    public static string For(string provider, string key)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(provider + "\n" + key), hash);
        var id = new StringBuilder(provider.Length + 21).Append(provider).Append('-');
        // 20 characters x 5 bits = 100 bits of the hash.
        for (var i = 0; i < 20; i++)
        {
            var bit = i * 5;
            var value = ((hash[bit / 8] << 8) | hash[bit / 8 + 1]) >> (11 - bit % 8) & 31;
            id.Append(Alphabet[value]);
        }
        return id.ToString();
    }

    public static string NewLeaseId() => "l-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
}
