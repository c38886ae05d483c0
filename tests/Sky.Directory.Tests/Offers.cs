using Google.Protobuf.WellKnownTypes;
using Sky.Common.V1;
using Sky.Directory.V1;

namespace Sky.Directory.Tests;

/// <summary>Offers as providers would register them, for tests.</summary>
internal static class Offers
{
    public static Money Usd(decimal amount) => Money.FromDecimal(amount, "USD");

    public static Offer Postgres(string provider, string region, string instance, string version = "16.2", decimal price = 0.5m, double? load = null) => new()
    {
        Key = $"{instance}.postgres.{region}.{provider}.sky",
        Kind = OfferKind.ServiceInstance,
        Location = new Location { Provider = provider, Region = region },
        Service = "postgres",
        Name = $"{instance}.postgres.{region}.{provider}.sky",
        Version = version,
        Hardware = new Hardware { Vcpus = 4, MemoryGib = 16 },
        Price = new Price { OnDemandHourly = Usd(price) },
        Load = load,
        Attributes = { ["tier"] = "standard" },
    };

    public static Offer Compute(string provider, string region, string type, decimal price, string gpu = "", int gpus = 0) => new()
    {
        Key = $"{type}/{region}",
        Kind = OfferKind.Compute,
        Location = new Location { Provider = provider, Region = region },
        InstanceType = type,
        Hardware = new Hardware
        {
            Vcpus = 8, MemoryGib = 32, Arch = "x86_64",
            Accelerators = { gpus > 0 ? [new Accelerator { Name = gpu, Count = gpus }] : Array.Empty<Accelerator>() },
        },
        Price = new Price { OnDemandHourly = Usd(price), SpotHourly = Usd(Math.Round(price / 3, 4)) },
    };

    public static RegisterRequest Register(Offer offer, int ttlSeconds = 30) =>
        new() { Offer = offer, Ttl = Duration.FromTimeSpan(TimeSpan.FromSeconds(ttlSeconds)) };
}
