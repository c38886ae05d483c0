using Sky.Directory.Query;
using Sky.Directory.V1;
using static Sky.Directory.Tests.Query.TestOffers;

namespace Sky.Directory.Tests.Query;

public sealed class SelectorMatchingTests
{
    private static readonly OfferIndex Offers = Index(
        Service("pg14", version: "14.11", provider: "aws", region: "eu-west-1", price: 0.5m, load: 0.2, attributes: [("tier", "2"), ("ha", "yes")]),
        Service("pg15", version: "15", provider: "gcp", region: "europe-west4", zone: "europe-west4-a", price: 1.25m, load: 0.9, attributes: [("tier", "10")]),
        Service("pg16", version: "16.0.0", provider: "aws", region: "us-east-1", price: 3.5m, apiVersion: "v1", attributes: [("tier", "gold")]),
        Service("pg16rc", version: "16.0.0-rc1", provider: "azure", region: "westeurope", price: 3.500000001m, apiVersion: "v2"),
        Service("pg17", version: "17.1", provider: "AWS", region: "EU-Central-1", availability: Availability.Limited, apiVersion: "v1beta1"),
        Service("kafka", service: "kafka", version: "3.7.0", provider: "gcp", region: "us-central1", price: 0.000000001m, load: 0),
        Compute("p4d", region: "us-east-1", zone: "use1-az1", instanceType: "p4d.24xlarge", price: 32.77m, spot: 12.5m, vcpus: 96, memory: 1152, gpu: "A100", gpuCount: 8),
        Compute("a2", provider: "gcp", region: "us-central1", instanceType: "a2-highgpu-1g", price: 3.67m, vcpus: 12, memory: 85, gpu: "A100", gpuCount: 1, availability: Availability.Unavailable),
        Compute("h100", provider: "azure", region: "eastus", instanceType: "Standard_ND96isr_H100_v5", price: 98.32m, vcpus: 96, memory: 1900, gpu: "H100", gpuCount: 8, arch: "x86_64"),
        Compute("gaudi", region: "us-east-1", instanceType: "dl1.24xlarge", price: 13.10904m, vcpus: 96, memory: 768, gpu: "Gaudi HL-205", gpuCount: 8),
        Compute("m7g", region: "eu-west-1", instanceType: "m7g.large", price: 0.0816m, vcpus: 2, memory: 8, arch: "arm64", origin: "builtin"),
        Compute("unknown", provider: "lambda", region: "us-east-1", instanceType: "cpu_4x", vcpus: 0, memory: 0, arch: ""));

    [Theory]
    [InlineData("", "a2 gaudi h100 kafka m7g p4d pg14 pg15 pg16 pg16rc pg17 unknown")]
    [InlineData("kind=compute", "a2 gaudi h100 m7g p4d unknown")]
    [InlineData("kind=SERVICE_INSTANCE, service=postgres", "pg14 pg15 pg16 pg16rc pg17")]
    [InlineData("provider=aws", "gaudi m7g p4d pg14 pg16 pg17")]
    [InlineData("provider!=aws, kind=compute", "a2 h100 unknown")]
    [InlineData("provider in (gcp, azure), kind=service_instance", "kafka pg15 pg16rc")]
    [InlineData("provider notin (aws,gcp,azure)", "unknown")]
    [InlineData("region~eu*", "m7g pg14 pg15 pg17")]
    [InlineData("region~*eu*", "m7g pg14 pg15 pg16rc pg17")]
    [InlineData("region~eu-*-1", "m7g pg14 pg17")]
    [InlineData("region~us-east-?", "gaudi p4d pg16 unknown")]
    [InlineData("zone", "p4d pg15")]
    [InlineData("!zone, kind=compute", "a2 gaudi h100 m7g unknown")]
    [InlineData("zone=\"\", kind=compute", "a2 gaudi h100 m7g unknown")]
    [InlineData("instance_type=P4D.24XLARGE", "p4d")]
    [InlineData("instance_type~*xlarge", "gaudi p4d")]
    [InlineData("name~pg1*", "pg14 pg15 pg16 pg16rc pg17")]
    [InlineData("origin=builtin", "m7g")]
    [InlineData("arch=arm64", "m7g")]
    [InlineData("!arch, kind=compute", "unknown")]
    [InlineData("availability=available", "gaudi h100 kafka m7g p4d pg14 pg15 pg16 pg16rc unknown")]
    [InlineData("availability in (limited, unavailable)", "a2 pg17")]
    [InlineData("availability!=unavailable, kind=compute", "gaudi h100 m7g p4d unknown")]
    public void Text_fields_compare_case_insensitively(string selector, string expected) => AssertMatches(selector, expected);

    [Theory]
    [InlineData("version=16", "pg16")]
    [InlineData("version=16.0", "pg16")]
    [InlineData("version=15.0.0", "pg15")]
    [InlineData("version>=15 <17, service=postgres", "pg15 pg16 pg16rc")]
    [InlineData("version>=16, service=postgres", "pg16 pg17")]
    [InlineData("version<16, service=postgres", "pg14 pg15 pg16rc")]
    [InlineData("version>16.0.0-rc1 <=16", "pg16")]
    [InlineData("version>14.9 <14.12", "pg14")]
    [InlineData("version in (14.11.0, 3.7)", "kafka pg14")]
    [InlineData("version notin (16, 16.0.0-rc1), kind=service_instance", "kafka pg14 pg15 pg17")]
    [InlineData("version~16*", "pg16 pg16rc")]
    [InlineData("version, kind=compute", "")]
    [InlineData("!version", "a2 gaudi h100 m7g p4d unknown")]
    [InlineData("api_version=v1", "pg16")]
    [InlineData("api_version=1.0", "pg16")]
    [InlineData("api_version>=v1 <v3", "pg16 pg16rc pg17")] // "v1beta1" is not semantic: compared as text
    [InlineData("api_version=V1BETA1", "pg17")]
    [InlineData("api_version>v1beta", "pg16rc pg17")]
    public void Versions_compare_as_semantic_versions(string selector, string expected) => AssertMatches(selector, expected);

    [Theory]
    [InlineData("price=3.5", "pg16")]
    [InlineData("price=3.500000000", "pg16")]
    [InlineData("price>3.5", "a2 gaudi h100 p4d pg16rc")]
    [InlineData("price>3.5 <=3.500000001", "pg16rc")]
    [InlineData("price<3.500000001, kind=service_instance", "kafka pg14 pg15 pg16")]
    [InlineData("price=0.000000001", "kafka")]
    [InlineData("price>0 <0.0000001", "kafka")]
    [InlineData("price in (0.5, 1.25)", "pg14 pg15")]
    [InlineData("!price", "pg17 unknown")]
    [InlineData("spot_price", "p4d")]
    [InlineData("spot_price<=12.5", "p4d")]
    [InlineData("spot_price<12.5", "")]
    [InlineData("price!=3.5, kind=service_instance", "kafka pg14 pg15 pg16rc pg17")]
    public void Prices_compare_exactly(string selector, string expected) => AssertMatches(selector, expected);

    [Theory]
    [InlineData("vcpus>=96", "gaudi h100 p4d")]
    [InlineData("vcpus=12", "a2")]
    [InlineData("vcpus, kind=compute", "a2 gaudi h100 m7g p4d")]
    [InlineData("!vcpus, kind=compute", "unknown")]
    [InlineData("memory>1000", "h100 p4d")]
    [InlineData("memory_gib in (8, 85)", "a2 m7g")]
    [InlineData("load<0.5", "kafka pg14")]
    [InlineData("load=0", "kafka")]
    [InlineData("!load", "a2 gaudi h100 m7g p4d pg16 pg16rc pg17 unknown")]
    [InlineData("gpu_count>=8", "gaudi h100 p4d")]
    [InlineData("gpu_count=0, kind=compute", "m7g unknown")]
    [InlineData("gpu_count>0 <8", "a2")]
    public void Numbers_compare_numerically_and_unknown_is_missing(string selector, string expected) => AssertMatches(selector, expected);

    [Theory]
    [InlineData("gpu=A100", "a2 p4d")]
    [InlineData("gpu=a100:8", "p4d")]
    [InlineData("gpu=A100:4", "")]
    [InlineData("gpu in (A100:1, H100)", "a2 h100")]
    [InlineData("gpu in (A100,H100), gpu_count>=4", "h100 p4d")]
    [InlineData("gpu notin (A100), kind=compute", "gaudi h100 m7g unknown")]
    [InlineData("gpu!=A100:8, gpu, kind=compute", "a2 gaudi h100")]
    [InlineData("gpu=\"gaudi hl-205\"", "gaudi")]
    [InlineData("gpu~gaudi*", "gaudi")]
    [InlineData("gpu, availability=available", "gaudi h100 p4d")]
    [InlineData("!gpu, kind=compute", "m7g unknown")]
    [InlineData("gpu=\"\", kind=compute", "m7g unknown")]
    public void Gpu_matches_name_and_optional_count(string selector, string expected) => AssertMatches(selector, expected);

    [Theory]
    [InlineData("ha", "pg14")]
    [InlineData("attributes.ha=YES", "pg14")]
    [InlineData("!ha, kind=service_instance", "kafka pg15 pg16 pg16rc pg17")]
    [InlineData("tier=gold", "pg16")]
    [InlineData("tier!=gold, kind=service_instance", "kafka pg14 pg15 pg16rc pg17")]
    [InlineData("tier>=3", "pg15 pg16")]
    [InlineData("tier>=2 <10", "pg14")]
    [InlineData("tier in (2, 10)", "pg14 pg15")]
    [InlineData("tier~g*", "pg16")]
    [InlineData("attributes.kind=x", "")]
    public void Unknown_identifiers_and_attributes_dot_key_name_attributes(string selector, string expected) => AssertMatches(selector, expected);

    [Fact]
    public void Clauses_and_together()
    {
        AssertMatches("service=postgres, version>=15 <17, provider in (aws,gcp), region~eu*, price<=3.5", "pg15");
        AssertMatches("kind=compute, provider=aws, vcpus>=8", "gaudi p4d");
    }

    private static void AssertMatches(string selector, string expected)
    {
        var parsed = Selector.Parse(selector);
        var byPredicate = Offers.All.Where(parsed.Matches).Select(v => v.OfferId).Order(StringComparer.Ordinal);
        Assert.Equal(expected, string.Join(' ', byPredicate));
        // The query path (posting lists + filter) agrees with the predicate.
        var (offers, _) = OfferQuery.Execute(Offers, new QueryOffersRequest { Selector = selector });
        Assert.Equal(expected, string.Join(' ', offers.Select(o => o.OfferId)));
    }
}
