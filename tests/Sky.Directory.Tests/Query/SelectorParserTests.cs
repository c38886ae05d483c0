using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sky.Directory.Query;
using static Sky.Directory.Tests.Query.TestOffers;

namespace Sky.Directory.Tests.Query;

public sealed class SelectorParserTests
{
    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("provider=aws")]
    [InlineData("provider==aws")]
    [InlineData("provider!=aws")]
    [InlineData("provider in (aws,gcp)")]
    [InlineData("provider in(aws)")]
    [InlineData("provider IN ( aws , gcp )")]
    [InlineData("provider notin (aws,gcp)")]
    [InlineData("vcpus<8")]
    [InlineData("vcpus<=8")]
    [InlineData("vcpus>8")]
    [InlineData("vcpus>=8")]
    [InlineData("version>=15 <17")]
    [InlineData("version>=15<17")]
    [InlineData("region~eu-*")]
    [InlineData("zone")]
    [InlineData("!zone")]
    [InlineData("! zone")]
    [InlineData("gpu=A100:8")]
    [InlineData("gpu=\"Gaudi HL-205\"")]
    [InlineData("name=\"a, b (c)\"")]
    [InlineData("name=\"say \\\"hi\\\" \\\\ o/\"")]
    [InlineData("attributes.tier>=2")]
    [InlineData("tier")]
    [InlineData("price<=3.5, spot_price>-1, load<0.5")]
    [InlineData("Provider=AWS,KIND=Compute")]
    [InlineData("service=postgres, version>=15 <17, provider in (aws,gcp), region~eu-*, price<=3.5")]
    public void Well_formed_selectors_parse(string text)
    {
        var selector = Selector.Parse(text);
        Assert.Equal(text, selector.Text);
    }

    [Fact]
    public void The_empty_selector_is_all()
    {
        Assert.Same(Selector.All, Selector.Parse(""));
        Assert.True(Selector.Parse("  ").MatchesAll);
        Assert.True(Selector.All.Matches(OfferView.From(Compute("a"))));
    }

    [Theory]
    [InlineData("provider=aws,", 12, "trailing comma")]
    [InlineData("provider=aws, ", 12, "trailing comma")]
    [InlineData("provider=aws,,region=x", 13, "empty clause")]
    [InlineData(",provider=aws", 0, "expected a field name")]
    [InlineData("@foo", 0, "expected a field name")]
    [InlineData("!", 1, "expected a field name after '!'")]
    [InlineData("!=aws", 1, "expected a field name after '!'")]
    [InlineData("provider=>aws", 8, "unknown operator '=>'")]
    [InlineData("provider=!aws", 8, "unknown operator '=!'")]
    [InlineData("provider !aws", 9, "unknown operator '!'")]
    [InlineData("provider in (aws,gcp", 20, "missing ')'")]
    [InlineData("provider in (", 13, "missing ')'")]
    [InlineData("provider in (aws,)", 16, "trailing comma")]
    [InlineData("provider in ()", 13, "empty set")]
    [InlineData("provider in (aws gcp)", 17, "expected ',' or ')'")]
    [InlineData("provider in (aws,,gcp)", 17, "empty value")]
    [InlineData("provider in aws", 12, "expected '('")]
    [InlineData("provider in", 11, "expected '('")]
    [InlineData("provider=", 9, "empty value")]
    [InlineData("provider=  ", 11, "empty value")]
    [InlineData("provider=,region=x", 9, "empty value")]
    [InlineData("provider=aws region=x", 13, "expected ','")]
    [InlineData("provider=aws)", 12, "expected ','")]
    [InlineData("provider aws", 9, "expected an operator")]
    [InlineData("provider(aws)", 8, "expected an operator")]
    [InlineData("version>=15 <17 16", 16, "expected ','")]
    [InlineData("name=\"abc", 5, "unterminated")]
    [InlineData("name=\"abc\\\"", 5, "unterminated")]
    [InlineData("vcpus>=eight", 7, "not a number")]
    [InlineData("vcpus>=1e3", 7, "not a number")]
    [InlineData("memory in (8,16,x)", 16, "not a number")]
    [InlineData("price<=\"3.5x\"", 7, "not a number")]
    [InlineData("price<=$3", 7, "not a number")]
    [InlineData("load=\"\"", 5, "not a number")]
    [InlineData("region<us", 6, "is text")]
    [InlineData("kind>=compute", 4, "is text")]
    [InlineData("gpu>=2", 3, "gpu_count")]
    [InlineData("vcpus~8*", 5, "is a number")]
    [InlineData("price~1*", 5, "is a number")]
    [InlineData("kind=vm", 5, "kind is one of service_instance, compute")]
    [InlineData("kind in (compute, vm)", 18, "kind is one of")]
    [InlineData("availability=gone", 13, "availability is one of available, limited, unavailable")]
    [InlineData("gpu=A100:x", 9, "not an accelerator count")]
    [InlineData("gpu=A100:0", 9, "not an accelerator count")]
    [InlineData("gpu=A100:", 9, "count after ':'")]
    [InlineData("gpu=\"A100:x\"", 10, "not an accelerator count")]
    [InlineData("gpu=:8", 4, "name before ':'")]
    [InlineData("!region=x", 7, "takes no operator")]
    [InlineData("!region x", 8, "expected ',' or the end")]
    [InlineData("attributes.=x", 11, "attribute key")]
    [InlineData("provider in (aws) x", 18, "after the set")]
    public void Malformed_selectors_fail_at_the_offending_character(string text, int position, string message)
    {
        var error = Assert.Throws<SelectorException>(() => Selector.Parse(text));
        Assert.Equal(position, error.Position);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void ParseSelector_reports_the_offset_as_invalid_argument_on_the_field()
    {
        var description = InvalidArgument(() => OfferQuery.ParseSelector("provider=aws,"), "selector");
        Assert.StartsWith("at 12: trailing comma", description);
        description = InvalidArgument(() => OfferQuery.ParseSelector("vcpus>x", "watch.selector"), "watch.selector");
        Assert.StartsWith("at 6: ", description);
    }

    [Property(MaxTest = 2000)]
    public bool Any_string_parses_or_fails_at_a_position_inside_it(NonNull<string> input) =>
        ParsesOrPointsInside(input.Get);

    [Property(MaxTest = 3000, Arbitrary = [typeof(SelectorGenerators)])]
    public bool Selector_like_strings_parse_or_fail_at_a_position_inside_them(SelectorLike input) =>
        ParsesOrPointsInside(input.Text);

    // Any other exception escapes and fails the property.
    private static bool ParsesOrPointsInside(string text)
    {
        try
        {
            var selector = Selector.Parse(text);
            selector.Matches(OfferView.From(Compute("x", gpu: "A100", gpuCount: 8, price: 1.5m, load: 0.5)));
            return true;
        }
        catch (SelectorException e)
        {
            return e.Position >= 0 && e.Position <= text.Length && e.Message.Length > 0;
        }
    }
}

/// <summary>A string made of selector tokens, so random input is often nearly valid.</summary>
public sealed record SelectorLike(string Text)
{
    public override string ToString() => $"\"{Text}\"";
}

public static class SelectorGenerators
{
    public static Arbitrary<SelectorLike> SelectorLikes() =>
        Gen.Elements(
                "provider", "region", "zone", "kind", "gpu", "gpu_count", "version", "price", "load", "vcpus", "attributes.", "attributes.tier",
                "availability", "tier", "=", "==", "!=", "!", "<", "<=", ">", ">=", "~", " in ", " notin ", "in", "(", ")", ",", " ", "\"",
                "\\", "aws", "compute", "A100", "A100:8", ":", "15", "3.5", "-1", "x", "eu-*", "?", "*", "limited", "\t", "é", "")
            .ListOf()
            .Select(pieces => new SelectorLike(string.Concat(pieces)))
            .ToArbitrary();
}
