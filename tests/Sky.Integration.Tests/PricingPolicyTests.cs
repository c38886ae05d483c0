using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Sky.Hosting.Pricing;
using Sky.Pricing;
using Xunit;

namespace Sky.Integration.Tests;

/// <summary>The one pricing engine's settings: every service resolves the same rater from the Pricing: section.</summary>
public sealed class PricingPolicyTests
{
    private static IConfiguration Config(params (string Key, string Value)[] pairs) =>
        new ConfigurationBuilder().AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value))).Build();

    [Fact]
    public void Defaults_are_the_rating_policys_own()
    {
        var policy = PricingHosting.Policy(Config().GetSection("Pricing"));
        Assert.Equal(new RatingPolicy(), policy);
    }

    [Fact]
    public void The_section_sets_margin_and_minimum_and_one_rater_serves_every_caller()
    {
        var services = new ServiceCollection()
            .AddSingleton(Config(("Pricing:MarginRate", "0.1"), ("Pricing:ComputeMinimum", "00:00:30")))
            .AddPricing();
        using var provider = services.BuildServiceProvider();
        var rater = provider.GetRequiredService<UsageRater>();
        Assert.Same(rater, provider.GetRequiredService<UsageRater>());
        Assert.Equal((0.1m, TimeSpan.FromSeconds(30)), (rater.Policy.MarginRate, rater.Policy.ComputeMinimum));
        // 10 s on one node bills the 30 s minimum: $3.60/h -> $0.03, plus 10 %.
        Assert.Equal(0.033m, rater.Compute(3.60m, 10, 1).Amount);
    }

    [Theory]
    [InlineData("MarginRate", "1.5")]
    [InlineData("ComputeMinimum", "-00:01:00")]
    public void Out_of_range_settings_are_refused(string key, string value) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => PricingHosting.Policy(Config(("Pricing:" + key, value)).GetSection("Pricing")));

    [Fact]
    public void A_setting_that_is_not_a_number_is_refused() =>
        Assert.Throws<FormatException>(() => PricingHosting.Policy(Config(("Pricing:MarginRate", "five percent")).GetSection("Pricing")));
}
