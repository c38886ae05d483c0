using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sky.Directory.Query;

namespace Sky.Directory.Tests.Query;

public sealed class GlobAndVersionTests
{
    [Theory]
    [InlineData("eu-*", "eu-west-1", true)]
    [InlineData("eu-*", "eu-", true)]
    [InlineData("eu-*", "europe-west4", false)]
    [InlineData("*-1", "us-east-1", true)]
    [InlineData("*-1", "us-east-2", false)]
    [InlineData("us-*-?", "us-east-1", true)]
    [InlineData("us-*-?", "us-east-10", false)]
    [InlineData("*east*", "northeast", true)]
    [InlineData("a*b*c", "aXbYc", true)]
    [InlineData("a*b*c", "aXcYb", false)]
    [InlineData("a*a*a", "aaa", true)]
    [InlineData("a*a*a", "aa", false)]
    [InlineData("*", "", true)]
    [InlineData("*", "anything", true)]
    [InlineData("?", "", false)]
    [InlineData("", "", true)]
    [InlineData("", "x", false)]
    [InlineData("P4D.*", "p4d.24xlarge", true)]
    public void Globs_match_star_and_question_mark(string pattern, string text, bool matches) =>
        Assert.Equal(matches, new Glob(pattern).Matches(text));

    [Property(MaxTest = 500)]
    public bool A_glob_without_wildcards_is_equality(NonNull<string> a, NonNull<string> b)
    {
        var pattern = a.Get.Replace("*", "").Replace("?", "").ToLowerInvariant();
        var text = b.Get.ToLowerInvariant();
        return new Glob(pattern).Matches(text) == (pattern == text) && new Glob(pattern).Matches(pattern);
    }

    [Theory]
    [InlineData("16", "16.0.0", 0)]
    [InlineData("v1", "1", 0)]
    [InlineData("16.2", "16.10", -1)]
    [InlineData("3.7.0", "3.10", -1)]
    [InlineData("16.0.0-rc1", "16", -1)]
    [InlineData("1.0.0-alpha", "1.0.0-alpha.1", -1)]
    [InlineData("1.0.0-alpha.1", "1.0.0-alpha.beta", -1)]
    [InlineData("1.0.0-beta.2", "1.0.0-beta.11", -1)]
    [InlineData("1.0.0-rc.1", "1.0.0", -1)]
    [InlineData("1.2.3+build.5", "1.2.3", 0)]
    [InlineData("V2", "v10", -1)]
    [InlineData("v1beta1", "v1beta2", -1)]   // not semantic: text
    [InlineData("v1beta1", "v1", 1)]         // mixed: text
    [InlineData("99999999999999999999", "1", 1)] // too large for a number: text
    public void Versions_compare_semantically_where_they_can(string a, string b, int sign)
    {
        Assert.Equal(sign, Math.Sign(VersionValue.Parse(a).CompareTo(VersionValue.Parse(b))));
        Assert.Equal(-sign, Math.Sign(VersionValue.Parse(b).CompareTo(VersionValue.Parse(a))));
    }

    // Between a semantic and a non-semantic version the comparison is textual (as documented), so transitivity
    // holds among semantic versions and among the others, not across the two.
    [Property(MaxTest = 500, Arbitrary = [typeof(VersionGenerators)])]
    public bool Version_order_is_antisymmetric_and_transitive_within_a_kind(VersionText a, VersionText b, VersionText c)
    {
        var (x, y, z) = (VersionValue.Parse(a.Text), VersionValue.Parse(b.Text), VersionValue.Parse(c.Text));
        var antisymmetric = Math.Sign(x.CompareTo(y)) == -Math.Sign(y.CompareTo(x));
        var sameKind = x.IsSemantic == y.IsSemantic && y.IsSemantic == z.IsSemantic;
        var transitive = !sameKind || !(x.CompareTo(y) <= 0 && y.CompareTo(z) <= 0) || x.CompareTo(z) <= 0;
        return antisymmetric && transitive;
    }
}

public sealed record VersionText(string Text)
{
    public override string ToString() => Text;
}

public static class VersionGenerators
{
    public static Arbitrary<VersionText> Versions() =>
        (from prefix in Gen.Elements("", "v")
         from parts in Gen.Choose(0, 20).ArrayOf().Where(p => p.Length is > 0 and <= 4)
         from pre in Gen.Elements("", "-rc1", "-rc.2", "-alpha", "-beta.11", "beta")
         select new VersionText(prefix + string.Join('.', parts) + pre)).ToArbitrary();
}
