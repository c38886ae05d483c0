using System.IO.Hashing;
using System.Text;

namespace Sky.Directory.Domain;

/// <summary>
/// Offer ids are derived, not allocated: "&lt;provider&gt;-&lt;20 base32 chars of XxHash128(provider, key)&gt;". So
/// any host computes the same id for a (provider, key) without a lookup, and re-registering a key
/// lands on the same offer. A non-cryptographic hash is enough: ids are not secrets, and a provider
/// can only collide with its own keys (the provider name prefixes the id); it is also ten times
/// cheaper than SHA-256 here. Lease ids are random.
/// </summary>
public static class OfferIds
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    public static string For(string provider, string key)
    {
        Span<byte> input = stackalloc byte[Encoding.UTF8.GetMaxByteCount(provider.Length + key.Length + 1)];
        var length = Encoding.UTF8.GetBytes(provider, input);
        input[length++] = (byte)'\n';
        length += Encoding.UTF8.GetBytes(key, input[length..]);
        Span<byte> hash = stackalloc byte[16];
        XxHash128.Hash(input[..length], hash);
        return string.Create(provider.Length + 21, (provider, Hash: hash.ToArray()), static (chars, state) =>
        {
            state.provider.AsSpan().CopyTo(chars);
            chars[state.provider.Length] = '-';
            // 20 characters x 5 bits = 100 of the hash's 128 bits.
            for (var i = 0; i < 20; i++)
            {
                var bit = i * 5;
                var value = ((state.Hash[bit / 8] << 8) | state.Hash[bit / 8 + 1]) >> (11 - bit % 8) & 31;
                chars[state.provider.Length + 1 + i] = Alphabet[value];
            }
        });
    }

    /// <summary>A new lease id: 96 random bits. Not a secret (renewing checks the caller's key), only unique.</summary>
    public static string NewLeaseId() => "l-" + Guid.NewGuid().ToString("N")[..24];
}
