using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sky.Pricing;

namespace Sky.Hosting.Pricing;

/// <summary>
/// The one pricing engine every service rates with: placement and transfer price their quotes, accounting rates usage,
/// all through the same <see cref="UsageRater"/> and the same <see cref="RatingPolicy"/>, so a quote and its bill agree
/// to the nano. The policy comes from the <c>Pricing:</c> section (<c>MarginRate</c>, <c>ComputeMinimum</c>), read at
/// resolve time, and must be the same on every host of a mesh.
/// </summary>
public static class PricingHosting
{
    public static IServiceCollection AddPricing(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => Policy(sp.GetRequiredService<IConfiguration>().GetSection("Pricing")));
        services.TryAddSingleton(sp => new UsageRater(sp.GetRequiredService<RatingPolicy>()));
        return services;
    }

    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    /// <exception cref="FormatException">A setting is not a number or a time span.</exception>
    public static RatingPolicy Policy(IConfiguration section)
    {
        var defaults = new RatingPolicy();
        return new RatingPolicy
        {
            MarginRate = section["MarginRate"] is { Length: > 0 } margin
                ? decimal.Parse(margin, System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture) : defaults.MarginRate,
            ComputeMinimum = section["ComputeMinimum"] is { Length: > 0 } minimum
                ? TimeSpan.Parse(minimum, System.Globalization.CultureInfo.InvariantCulture) : defaults.ComputeMinimum,
        }.Validated();
    }
}
