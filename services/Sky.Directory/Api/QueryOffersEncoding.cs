using System.Buffers;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using Grpc.Core;
using Sky.Directory.V1;

namespace Sky.Directory.Api;

/// <summary>
/// Writes QueryOffersResponse from each offer's cached encoding. The view's offers are immutable once
/// stored, so an offer is encoded once, not on every query that returns it: serializing a page of nested
/// messages was a sixth of the server's time per query. The bytes are exactly what
/// <see cref="MessageExtensions.ToByteArray"/> gives; clients see a normal protobuf message.
/// </summary>
public static class QueryOffersEncoding
{
    // Keyed by object identity and collected with the offer: a replaced or expired offer takes its bytes along.
    private static readonly ConditionalWeakTable<Offer, byte[]> Encoded = new();

    private const byte OffersTag = (1 << 3) | 2;   // field 1, length-delimited
    private const byte PageTag = (2 << 3) | 2;     // field 2, length-delimited
    private const byte RevisionTag = 3 << 3;       // field 3, varint

    public static readonly Marshaller<QueryOffersResponse> Marshaller =
        Marshallers.Create<QueryOffersResponse>(Serialize, context => QueryOffersResponse.Parser.ParseFrom(context.PayloadAsReadOnlySequence()));

    /// <summary>The offer's protobuf encoding, computed on first use.</summary>
    public static byte[] Of(Offer offer) => Encoded.GetValue(offer, static o => o.ToByteArray());

    /// <summary>The response's protobuf encoding (fields in number order, as the generated code writes them).</summary>
    public static byte[] ToByteArray(QueryOffersResponse response)
    {
        var (offers, page, size) = Measure(response);
        var bytes = new byte[size];
        Write(bytes, response, offers, page);
        return bytes;
    }

    private static void Serialize(QueryOffersResponse response, SerializationContext context)
    {
        var (offers, page, size) = Measure(response);
        context.SetPayloadLength(size);
        var writer = context.GetBufferWriter();
        Write(writer.GetSpan(size), response, offers, page);
        writer.Advance(size);
        context.Complete();
    }

    private static (byte[][] Offers, byte[]? Page, int Size) Measure(QueryOffersResponse response)
    {
        var offers = new byte[response.Offers.Count][];
        var size = 0;
        for (var i = 0; i < offers.Length; i++)
        {
            var bytes = offers[i] = Of(response.Offers[i]);
            size += 1 + CodedOutputStream.ComputeLengthSize(bytes.Length) + bytes.Length;
        }
        var page = response.Page?.ToByteArray();
        if (page is not null) size += 1 + CodedOutputStream.ComputeLengthSize(page.Length) + page.Length;
        if (response.Revision != 0) size += 1 + CodedOutputStream.ComputeInt64Size(response.Revision);
        return (offers, page, size);
    }

    private static void Write(Span<byte> span, QueryOffersResponse response, byte[][] offers, byte[]? page)
    {
        var at = 0;
        foreach (var bytes in offers) at = Field(span, at, OffersTag, bytes);
        if (page is not null) at = Field(span, at, PageTag, page);
        if (response.Revision != 0)
        {
            span[at++] = RevisionTag;
            Varint(span, ref at, (ulong)response.Revision);
        }
    }

    private static int Field(Span<byte> span, int at, byte tag, byte[] bytes)
    {
        span[at++] = tag;
        Varint(span, ref at, (uint)bytes.Length);
        bytes.CopyTo(span[at..]);
        return at + bytes.Length;
    }

    private static void Varint(Span<byte> span, ref int at, ulong value)
    {
        while (value >= 0x80)
        {
            span[at++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[at++] = (byte)value;
    }
}

/// <summary>
/// Binds <see cref="DirectoryApi"/> as the generated code does, with <see cref="QueryOffersEncoding"/> as
/// the QueryOffers response marshaller. Grpc.AspNetCore finds this through the BindServiceMethod attribute
/// on DirectoryApi; JSON transcoding reads the same binding and is unaffected (it formats JSON itself).
/// </summary>
public static class DirectoryBinding
{
    /// <summary>The service descriptor, looked up here by JSON transcoding and reflection as on the generated class.</summary>
    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor => V1.Directory.Descriptor;

    // The second parameter is the generated base type: Grpc.AspNetCore matches handlers against its methods.
    public static void BindService(ServiceBinderBase binder, V1.Directory.DirectoryBase service) =>
        V1.Directory.BindService(new Binder(binder), service);

    private sealed class Binder(ServiceBinderBase inner) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
        {
            if (method is Method<QueryOffersRequest, QueryOffersResponse> query)
            {
                var cached = new Method<QueryOffersRequest, QueryOffersResponse>(query.Type, query.ServiceName, query.Name,
                    query.RequestMarshaller, QueryOffersEncoding.Marshaller);
                inner.AddMethod(cached, (UnaryServerMethod<QueryOffersRequest, QueryOffersResponse>?)(object?)handler);
                return;
            }
            inner.AddMethod(method, handler);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(method, handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(method, handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(method, handler);
    }
}
