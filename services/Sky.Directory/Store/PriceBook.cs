using Google.Protobuf;
using Sky.Directory.V1;

namespace Sky.Directory.Store;

/// <summary>Which prices a book entry holds: an offer's hourly prices, or an egress grid entry's tiers.</summary>
public enum PriceBookKind { Offer, Egress }

/// <summary>One version of an item's price: the revision it took effect at and its body (see <see cref="PriceBook"/>).</summary>
public sealed record PricePoint(long Revision, byte[] Body);

/// <summary>
/// The directory's versioned price book, as the log keeps it. Every commit that changes an offer's <see cref="Price"/>
/// or an egress grid entry appends a version of that item at the commit's revision, in the same atomic step as the
/// change, so the book can never miss a price the directory served. Removals append a tombstone (an empty body); a
/// write that leaves the price as it was appends nothing. Unlike the change history behind Watch, the book is never
/// compacted: prices change rarely (a catalog import, a spot update), and an amount billed a year ago must still be
/// recomputable from the revision it names.
/// Bodies: one marker byte (1) and the encoded message (<see cref="Price"/> or <see cref="EgressPrice"/>), so an offer
/// with no prices at all (an empty message) is still told apart from a removal.
/// </summary>
public static class PriceBook
{
    private const byte Present = 1;

    /// <summary>The book body of an offer as stored (its prices).</summary>
    public static byte[] OfferBody(Offer offer) => Body(offer.Price ?? new Price());

    /// <summary>The book body of a stored egress grid entry (its encoded <see cref="EgressPrice"/>).</summary>
    public static byte[] GridBody(byte[] encodedEntry)
    {
        var body = new byte[encodedEntry.Length + 1];
        body[0] = Present;
        encodedEntry.CopyTo(body, 1);
        return body;
    }

    private static byte[] Body(IMessage message) => GridBody(message.ToByteArray());

    /// <summary>The prices of an offer version; null for a tombstone.</summary>
    public static Price? ReadOffer(PricePoint? point) =>
        point is { Body.Length: > 0 } ? Price.Parser.ParseFrom(point.Body.AsSpan(1)) : null;

    /// <summary>The egress entry of a grid version; null for a tombstone.</summary>
    public static EgressPrice? ReadEgress(PricePoint? point) =>
        point is { Body.Length: > 0 } ? EgressPrice.Parser.ParseFrom(point.Body.AsSpan(1)) : null;

    /// <summary>
    /// The Lua function both scripts use to append a version: members of one sorted set (all score 0, ordered by value)
    /// are "item NUL revision(20 digits) NUL body", so the version in force at R is one ZREVRANGEBYLEX away.
    /// </summary>
    public const string LuaAppend = """
        local function sky_book(key, item, rev, body)
          local last = redis.call('ZREVRANGEBYLEX', key, '(' .. item .. '\1', '[' .. item .. '\0', 'LIMIT', 0, 1)[1]
          if last then
            if string.sub(last, #item + 23) == body then return end
          elseif body == '' then return end
          redis.call('ZADD', key, 0, item .. '\0' .. string.format('%020d', rev) .. '\0' .. body)
        end

        """;

    /// <summary>The in-memory equivalent: the versions of each item, ascending by revision.</summary>
    internal sealed class Versions
    {
        private readonly Dictionary<string, List<PricePoint>> _items = new(StringComparer.Ordinal);

        public void Append(string item, long revision, byte[] body)
        {
            if (!_items.TryGetValue(item, out var list))
            {
                if (body.Length == 0) return;
                _items[item] = list = [];
            }
            else if (list[^1].Body.AsSpan().SequenceEqual(body)) return;
            list.Add(new PricePoint(revision, body));
        }

        public PricePoint? At(string item, long revision)
        {
            if (!_items.TryGetValue(item, out var list)) return null;
            var lo = 0;
            var hi = list.Count - 1;
            PricePoint? found = null;
            while (lo <= hi)
            {
                var mid = (lo + hi) / 2;
                if (list[mid].Revision <= revision) { found = list[mid]; lo = mid + 1; }
                else hi = mid - 1;
            }
            return found is { Body.Length: > 0 } ? found : null;
        }
    }
}
