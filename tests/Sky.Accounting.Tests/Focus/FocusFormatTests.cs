using System.Globalization;
using Sky.Accounting.Focus;

namespace Sky.Accounting.Tests.Focus;

/// <summary>FOCUS number, date/time and unit formats: exact, invariant, no exponent, no '+', no trailing zeros.</summary>
public sealed class FocusFormatTests
{
    [Theory]
    [InlineData(0L, "0")]
    [InlineData(1L, "0.000000001")]
    [InlineData(-1L, "-0.000000001")]
    [InlineData(1_100_000L, "0.0011")]
    [InlineData(2_000_000_000L, "2")]
    [InlineData(-2_500_000_000L, "-2.5")]
    [InlineData(123_456_789_012L, "123.456789012")]
    [InlineData(long.MaxValue, "9223372036.854775807")]
    [InlineData(long.MinValue, "-9223372036.854775808")]
    public void Nanos_are_written_exactly(long nanos, string text) => Assert.Equal(text, FocusFormat.Nanos(nanos));

    [Fact]
    public void Any_nanos_read_back_as_the_same_amount()
    {
        var random = new Random(7);
        for (var i = 0; i < 20_000; i++)
        {
            var nanos = random.NextInt64(long.MinValue, long.MaxValue) >> random.Next(64);
            var text = FocusFormat.Nanos(nanos);
            Assert.Equal(nanos / 1_000_000_000m, decimal.Parse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture));
            Assert.DoesNotContain('E', text);
            Assert.False(text.Contains('.', StringComparison.Ordinal) && text.EndsWith('0'), text);
        }
    }

    [Theory]
    [InlineData("3600.500", "3600.5")]
    [InlineData("0.0000001", "0.0000001")]
    [InlineData("-0.00", "0")]
    [InlineData("100", "100")]
    [InlineData("-12.50", "-12.5")]
    public void Decimals_have_no_exponent_or_trailing_zeros(string value, string text) =>
        Assert.Equal(text, FocusFormat.Decimal(decimal.Parse(value, NumberStyles.Number, CultureInfo.InvariantCulture)));

    [Fact]
    public void Decimals_ignore_the_current_culture()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            Assert.Equal("1234.5", FocusFormat.Decimal(1234.5m));
            Assert.Equal("2026-01-02T03:04:05Z", FocusFormat.Start(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero)));
        }
        finally { CultureInfo.CurrentCulture = saved; }
    }

    [Fact]
    public void Interval_bounds_round_outwards_to_the_second_in_UTC()
    {
        var t = new DateTimeOffset(2026, 1, 2, 3, 4, 5, 250, TimeSpan.FromHours(2));
        Assert.Equal("2026-01-02T01:04:05Z", FocusFormat.Start(t));
        Assert.Equal("2026-01-02T01:04:06Z", FocusFormat.End(t));
        var whole = new DateTimeOffset(2026, 1, 31, 23, 59, 59, TimeSpan.Zero);
        Assert.Equal("2026-01-31T23:59:59Z", FocusFormat.End(whole));
    }

    [Theory]
    [InlineData("second", "Seconds")]
    [InlineData("hour", "Hours")]
    [InlineData("gb", "GB")]
    [InlineData("gib", "GiB")]
    [InlineData("byte", "B")]
    [InlineData("request", "Requests")]
    [InlineData("vcpu-hours", "Vcpu-hours")]
    public void Units_follow_the_FOCUS_unit_format(string unit, string focus) => Assert.Equal(focus, FocusFormat.Unit(unit));

    [Fact]
    public void Units_convert_within_time_and_within_data_size_only()
    {
        Assert.Equal(1m / 3600m, FocusFormat.UnitRatio("second", "hour"));
        Assert.Equal(1_073_741_824m / 1e9m, FocusFormat.UnitRatio("gib", "gb"));
        Assert.Equal(1m, FocusFormat.UnitRatio("request", "request"));
        Assert.Null(FocusFormat.UnitRatio("second", "gb"));
        Assert.Null(FocusFormat.UnitRatio("request", "hour"));
    }
}
