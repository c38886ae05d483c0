using System.Buffers.Text;
using System.Text;
using Google.Protobuf;
using Sky.Directory.V1;
using Sky.Hosting.Errors;

namespace Sky.Directory.Query;

/// <summary>
/// Page tokens of QueryOffers, bound to the selector and preference they were issued for (a hash of both).
/// Unranked pages continue after the last offer_id returned, so offers added or removed meanwhile neither
/// repeat nor skip others; ranked pages continue at an offset into the ranking.
/// </summary>
internal readonly record struct QueryPageToken(string? AfterId, int Offset)
{
    public const string Field = "page.page_token";
    private const string Version = "q1";

    public static QueryPageToken First => new(null, 0);

    /// <summary>A short hash of what the token is valid with.</summary>
    public static string Binding(string selector, Preference? preference)
    {
        var text = Encoding.UTF8.GetBytes(selector);
        var pref = preference?.ToByteArray() ?? [];
        var buffer = new byte[text.Length + 1 + pref.Length];
        text.CopyTo(buffer, 0);
        pref.CopyTo(buffer, text.Length + 1);
        // Not a secret, only a check that a token is used with the query it came from: a fast 64-bit hash will do.
        return Convert.ToHexStringLower(System.IO.Hashing.XxHash64.Hash(buffer));
    }

    public static string AfterOffer(string binding, string offerId) => Encode($"{Version}:{binding}:k:{offerId}");

    public static string AtOffset(string binding, int offset) => Encode($"{Version}:{binding}:o:{offset}");

    /// <summary>Decodes a token; "" is the first page. Throws INVALID_ARGUMENT for a foreign or mismatched token.</summary>
    public static QueryPageToken Decode(string? token, string binding, bool ranked)
    {
        if (string.IsNullOrEmpty(token)) return First;
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
        }
        catch (FormatException)
        {
            throw NotIssued();
        }
        var parts = text.Split(':', 4);
        if (parts.Length != 4 || parts[0] != Version) throw NotIssued();
        if (parts[1] != binding)
            throw RpcErrors.InvalidArgument(Field, "the token was issued for a different selector or preference");
        if (!ranked && parts[2] == "k" && parts[3].Length > 0) return new QueryPageToken(parts[3], 0);
        if (ranked && parts[2] == "o" && int.TryParse(parts[3], System.Globalization.NumberStyles.None, null, out var offset))
            return new QueryPageToken(null, offset);
        throw NotIssued();
    }

    private static string Encode(string text) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));

    private static Grpc.Core.RpcException NotIssued() => RpcErrors.InvalidArgument(Field, "not a token this service issued");
}
