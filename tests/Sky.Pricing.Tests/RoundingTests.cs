namespace Sky.Pricing.Tests;

public sealed class RoundingTests
{
    [Theory]
    [InlineData("0.125", "0.13")]     // half up, not banker's (which gives 0.12)
    [InlineData("0.135", "0.14")]
    [InlineData("0.1249999", "0.12")]
    [InlineData("921.6", "921.60")]
    [InlineData("-0.125", "-0.13")]   // a credit rounds like the charge it reverses
    [InlineData("0", "0")]
    public void Amounts_round_half_up_to_the_cent(string amount, string cents) =>
        Assert.Equal(decimal.Parse(cents), Rounding.ToCents(decimal.Parse(amount)));
}
