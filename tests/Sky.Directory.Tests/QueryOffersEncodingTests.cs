using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Sky.Common.V1;
using Sky.Directory.Api;
using Sky.Directory.V1;

namespace Sky.Directory.Tests;

/// <summary>The cached QueryOffers encoding must be byte for byte what the generated serializer writes.</summary>
public sealed class QueryOffersEncodingTests
{
    [Fact]
    public void Empty_response_encodes_as_the_generated_code_does()
    {
        var response = new QueryOffersResponse();
        Assert.Equal(response.ToByteArray(), QueryOffersEncoding.ToByteArray(response));
    }

    [Theory]
    [InlineData(1, 0L, false)]
    [InlineData(10, 1L, true)]
    [InlineData(300, long.MaxValue, true)]
    [InlineData(3, 127L, false)]
    [InlineData(3, 128L, true)]
    public void Offers_page_and_revision_encode_as_the_generated_code_does(int count, long revision, bool withPage)
    {
        var response = new QueryOffersResponse { Revision = revision };
        for (var i = 0; i < count; i++)
        {
            var offer = i % 2 == 0
                ? Offers.Compute("aws", "us-east-1", $"m{i}.xlarge", 0.1m * (i + 1), gpu: "A100", gpus: i % 8)
                : Offers.Postgres("gcp", "us-central1", $"pg{i}", price: 0.5m + i);
            offer.OfferId = $"offer-{i}";
            offer.Attributes["padding"] = new string('x', i * 3);   // lengths across the one- and two-byte varint boundary
            offer.LeaseExpiresAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch.AddSeconds(i));
            response.Offers.Add(offer);
        }
        if (withPage) response.Page = new PageResponse { NextPageToken = "next" };
        var expected = response.ToByteArray();
        Assert.Equal(expected, QueryOffersEncoding.ToByteArray(response));
        // Encoded twice (the second time from the cache) and parsed back, it is the same message.
        Assert.Equal(response, QueryOffersResponse.Parser.ParseFrom(QueryOffersEncoding.ToByteArray(response)));
    }
}
