namespace Sky.Transfer.Planning;

/// <summary>The VM a region's gateways run on and its on-demand price per hour (in the egress grid's currency).</summary>
public sealed record GatewayOffer(string InstanceType, string OfferId, decimal HourlyPrice)
{
    /// <summary>Checks the offer the lookup gave for <paramref name="region"/>.</summary>
    /// <exception cref="ArgumentException">A name is empty or the price is negative.</exception>
    internal void Validate(CloudRegion region)
    {
        if (string.IsNullOrWhiteSpace(InstanceType) || string.IsNullOrWhiteSpace(OfferId))
            throw new ArgumentException($"gateway offer for {region}: instance type and offer id are required");
        if (HourlyPrice < 0) throw new ArgumentException($"gateway offer for {region}: hourly price {HourlyPrice} is negative");
    }
}

/// <summary>
/// The gateway offer in a region, or null where no gateway can run (such a region is never a relay; as source or
/// destination it is an error). The API answers it from the directory's offers for <see cref="GatewayInstanceTypes"/>.
/// </summary>
public delegate GatewayOffer? GatewayOffers(string provider, string region);

/// <summary>
/// The instance types Skyplane measured its throughput grid with (one VM per region, 64 TCP connections), so the
/// grid's rates hold for them: a gateway on a smaller VM would not reach them.
/// </summary>
public static class GatewayInstanceTypes
{
    public const string Aws = "m5.8xlarge";
    public const string Gcp = "n2-standard-32";
    public const string Azure = "Standard_D32_v5";

    /// <summary>The default gateway instance type of <paramref name="provider"/>, or null for a provider the grid did not measure.</summary>
    public static string? For(string provider) => provider.ToLowerInvariant() switch
    {
        "aws" => Aws,
        "gcp" => Gcp,
        "azure" => Azure,
        _ => null,
    };
}
