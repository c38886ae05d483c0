using System.Buffers.Text;
using System.Text;
using Sky.Common.V1;
using Sky.Hosting.Errors;

namespace Sky.Hosting.Store;

/// <summary>Offset page tokens over a stable ordering; opaque to clients (base64url of "o:OFFSET").</summary>
public static class Paging
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    public static (IReadOnlyList<T> Items, PageResponse Page) Slice<T>(IReadOnlyList<T> all, PageRequest? request, string field = "page")
    {
        var size = request?.PageSize ?? 0;
        if (size < 0) throw RpcErrors.InvalidArgument($"{field}.page_size", "must be >= 0");
        size = size == 0 ? DefaultPageSize : Math.Min(size, MaxPageSize);
        var offset = Decode(request?.PageToken ?? "", field);
        var items = all.Skip(offset).Take(size).ToList();
        var next = offset + items.Count < all.Count ? Encode(offset + items.Count) : "";
        return (items, new PageResponse { NextPageToken = next });
    }

    public static string Encode(int offset) => Base64Url.EncodeToString(Encoding.ASCII.GetBytes($"o:{offset}"));

    private static int Decode(string token, string field)
    {
        if (token.Length == 0) return 0;
        try
        {
            var text = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(token));
            if (text.StartsWith("o:", StringComparison.Ordinal) && int.TryParse(text.AsSpan(2), out var offset) && offset >= 0)
                return offset;
        }
        catch (FormatException) { }
        throw RpcErrors.InvalidArgument($"{field}.page_token", "not a token this service issued");
    }
}
