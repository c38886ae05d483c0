using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sky.Naming.Domain;

namespace Sky.Naming.Tests;

/// <summary>The name grammar of naming.proto: parts, canonical form, limits, IDN, lookup names, and the offending position of every rejection.</summary>
public sealed class SkyNameTests
{
    private static SkyName Valid(string input)
    {
        var result = SkyName.Parse(input);
        Assert.True(result.Success, $"\"{input}\" was rejected: {result.Error}");
        return result.Name;
    }

    private static SkyNameError Invalid(string input)
    {
        var result = SkyName.Parse(input);
        Assert.False(result.Success, $"\"{input}\" was accepted as {result.Name}");
        return result.Error;
    }

    [Theory]
    [InlineData("aws.sky", SkyNameKind.Provider, "aws", null, null, null)]
    [InlineData("us-east-1.aws.sky", SkyNameKind.Region, "aws", "us-east-1", null, null)]
    [InlineData("postgres.us-east-1.aws.sky", SkyNameKind.Service, "aws", "us-east-1", "postgres", null)]
    [InlineData("pg-1.postgres.us-east-1.aws.sky", SkyNameKind.Instance, "aws", "us-east-1", "postgres", "pg-1")]
    [InlineData("_postgres._tcp.us-east-1.aws.sky", SkyNameKind.Lookup, "aws", "us-east-1", "postgres", null)]
    [InlineData("db.pg-1.postgres.europe-west4.gcp.sky", SkyNameKind.Other, "gcp", "europe-west4", "postgres", null)]
    public void Each_kind_parses_to_its_parts(string input, SkyNameKind kind, string provider, string? region, string? service, string? instance)
    {
        var name = Valid(input);
        Assert.Equal(kind, name.Kind);
        Assert.Equal(input, name.Canonical);
        Assert.Equal(input.Split('.'), name.Labels);
        Assert.Equal(provider, name.Provider);
        Assert.Equal(region, name.Region);
        Assert.Equal(service, name.Service);
        Assert.Equal(instance, name.Instance);
        Assert.Equal(name.Canonical, Valid(name.Canonical).Canonical);
    }

    [Theory]
    [InlineData("PG-1.Postgres.US-EAST-1.AWS.SKY", "pg-1.postgres.us-east-1.aws.sky")]
    [InlineData("aws.sky.", "aws.sky")]
    [InlineData("_Postgres._TCP.us-east-1.Aws.Sky.", "_postgres._tcp.us-east-1.aws.sky")]
    public void Upper_case_and_one_trailing_dot_are_canonicalised(string input, string canonical)
    {
        var name = Valid(input);
        Assert.Equal(canonical, name.Canonical);
        Assert.Equal(canonical, name.ToString());
        Assert.Equal(Valid(canonical), name);
    }

    [Fact]
    public void A_label_may_have_63_bytes_but_not_64()
    {
        Assert.Equal(63, Valid(new string('a', 63) + ".aws.sky").Labels[0].Length);
        var error = Invalid(new string('a', 64) + ".aws.sky");
        Assert.Equal(63, error.Position);
    }

    [Fact]
    public void A_name_may_have_253_bytes_but_not_254()
    {
        // 3 x 63 + 53 + 4 dots + "aws.sky" = 253.
        var prefix = $"{new string('a', 63)}.{new string('b', 63)}.{new string('c', 63)}.";
        var longest = prefix + new string('d', 53) + ".aws.sky";
        Assert.Equal(253, longest.Length);
        Assert.Equal(longest, Valid(longest).Canonical);
        Assert.Equal(longest, Valid(longest + ".").Canonical);

        var tooLong = prefix + new string('d', 54) + ".aws.sky";
        Assert.Equal(253, Invalid(tooLong).Position);
        Assert.Equal(253, Invalid(tooLong + ".").Position);
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData(".", 0)]
    [InlineData(".aws.sky", 0)]
    [InlineData("a..sky", 2)]
    [InlineData("aws.sky..", 8)]
    [InlineData(" aws.sky", 0)]
    [InlineData("aws.sky ", 7)]
    [InlineData("aws .sky", 3)]
    [InlineData("pg_1.postgres.us-east-1.aws.sky", 2)]
    [InlineData("pg-1.postgres.us-east!1.aws.sky", 21)]
    [InlineData("pg-1.postgres/us-east-1.aws.sky", 13)]
    [InlineData("-pg.aws.sky", 0)]
    [InlineData("pg-.aws.sky", 2)]
    [InlineData("aws.com", 4)]
    [InlineData("aws.sky.com", 8)]
    [InlineData("sky", 0)]
    [InlineData("pg\u3002x.aws.sky", 2)]
    public void Rejections_point_at_the_first_offending_character(string input, int position)
    {
        var error = Invalid(input);
        Assert.Equal(position, error.Position);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Theory]
    [InlineData("bücher.us-east-1.aws.sky")]
    [InlineData("BÜCHER.us-east-1.aws.sky.")]
    public void Non_ascii_labels_become_idna_a_labels(string input)
    {
        var name = Valid(input);
        Assert.Equal("xn--bcher-kva.us-east-1.aws.sky", name.Canonical);
        Assert.Equal(SkyNameKind.Service, name.Kind);
        Assert.Equal("xn--bcher-kva", name.Service);
    }

    [Fact]
    public void A_label_that_cannot_be_converted_is_rejected_at_its_first_non_ascii_character()
    {
        // Built at run time: a lone surrogate does not survive xunit's serialisation of InlineData.
        var loneSurrogate = "b" + (char)0xD800 + "cher.aws.sky";
        Assert.Equal(1, Invalid(loneSurrogate).Position);
    }

    [Fact]
    public void Lookup_names_take_only_tcp_and_only_in_their_first_two_labels()
    {
        Assert.Equal(SkyNameKind.Lookup, Valid("_postgres._tcp.us-east-1.aws.sky").Kind);
        Assert.Equal(10, Invalid("_postgres._udp.us-east-1.aws.sky").Position);
        Assert.Equal(10, Invalid("_postgres.tcp.us-east-1.aws.sky").Position);
        Assert.Equal(5, Invalid("pg-1._x.us-east-1.aws.sky").Position);
        Assert.Equal(15, Invalid("_postgres._tcp._x.aws.sky").Position);
        Assert.Equal(0, Invalid("_postgres.us-east-1.aws.sky").Position);
        Assert.Equal(0, Invalid("_x.pg._tcp.us-east-1.aws.sky").Position);
        Assert.Equal(1, Invalid("_._tcp.us-east-1.aws.sky").Position);
    }

    [Fact]
    public void TryParse_reports_the_name_or_the_error()
    {
        Assert.True(SkyName.TryParse("aws.sky", out var name, out var error));
        Assert.Equal("aws.sky", name.Canonical);
        Assert.Null(error);

        Assert.False(SkyName.TryParse("aws..sky", out name, out error));
        Assert.Null(name);
        Assert.Equal(4, error.Position);
    }

    [Fact]
    public void Null_is_a_programming_error() =>
        Assert.Throws<ArgumentNullException>(() => SkyName.Parse(null!));

    [Property(MaxTest = 1000)]
    public bool Any_string_parses_to_a_canonical_name_or_is_rejected_at_a_position_in_it(NonNull<string> input) =>
        ParsesCanonicallyOrPointsInside(input.Get);

    [Property(MaxTest = 1000, Arbitrary = new[] { typeof(NameGenerators) })]
    public bool Name_like_strings_parse_to_a_canonical_name_or_are_rejected_at_a_position_in_them(NameLike input) =>
        ParsesCanonicallyOrPointsInside(input.Text);

    [Property(MaxTest = 500, Arbitrary = new[] { typeof(NameGenerators) })]
    public bool Valid_names_parse_to_their_lower_cased_spelling(ValidName input)
    {
        var result = SkyName.Parse(input.Text);
        return result.Success && result.Name.Canonical == input.Text.TrimEnd('.').ToLowerInvariant();
    }

    private static bool ParsesCanonicallyOrPointsInside(string input)
    {
        var result = SkyName.Parse(input);
        if (!result.Success)
            return result.Error.Position >= 0 && result.Error.Position <= input.Length;
        var again = SkyName.Parse(result.Name.Canonical);
        return again.Success && again.Name.Canonical == result.Name.Canonical;
    }
}

/// <summary>A string built from pieces of names, so that random input often comes close to valid.</summary>
public sealed record NameLike(string Text)
{
    public override string ToString() => $"\"{Text}\"";
}

/// <summary>A name that obeys the grammar, in mixed case, sometimes with a trailing dot.</summary>
public sealed record ValidName(string Text)
{
    public override string ToString() => $"\"{Text}\"";
}

public static class NameGenerators
{
    private const string Alphanumerics = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    public static Arbitrary<NameLike> NameLikes() =>
        Gen.Elements("a", "Z", "0", "-", "_", ".", "sky", ".sky", "_tcp", "aws", "ü", "ß", " ", "\u3002", new string('x', 63))
            .ListOf()
            .Select(pieces => new NameLike(string.Concat(pieces)))
            .ToArbitrary();

    public static Arbitrary<ValidName> ValidNames() =>
        (from count in Gen.Choose(1, 6)
         from labels in Label().ArrayOf(count)
         from root in Gen.Elements("sky", "SKY", "Sky")
         from trailingDot in Gen.Elements("", ".")
         select string.Join('.', labels) + "." + root + trailingDot)
            .Where(text => text.TrimEnd('.').Length <= SkyName.MaxNameBytes)
            .Select(text => new ValidName(text))
            .ToArbitrary();

    private static Gen<string> Label()
    {
        var edge = Gen.Elements(Alphanumerics.ToCharArray());
        var inner = Gen.Elements((Alphanumerics + "-").ToCharArray());
        var single = edge.Select(c => c.ToString());
        var longer = Gen.Choose(0, 61).SelectMany(n =>
            from first in edge
            from middle in inner.ArrayOf(n)
            from last in edge
            select first + new string(middle) + last);
        return Gen.OneOf(single, longer);
    }
}

/// <summary>With ICU present (the default), IDN input is mapped as UTS #46 says.</summary>
public sealed class SkyNameIdnTests
{
    [Fact]
    public void Idn_input_is_mapped_as_uts46_says_so_equal_names_get_one_a_label()
    {
        // Composed and decomposed ü, and full-width letters, are the same name after UTS #46 mapping (needs ICU).
        Assert.Equal("xn--bcher-kva.us-east-1.aws.sky", SkyName.Parse("bu\u0308cher.us-east-1.aws.sky").Name!.Canonical);
        Assert.Equal("pg.us-east-1.aws.sky", SkyName.Parse("\uFF50\uFF47.us-east-1.aws.sky").Name!.Canonical);
    }
}
