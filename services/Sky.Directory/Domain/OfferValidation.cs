using Google.Protobuf.WellKnownTypes;
using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Hosting.Errors;
using Sky.Hosting.Identity;
using Sky.Naming.Domain;

namespace Sky.Directory.Domain;

/// <summary>
/// Checks an offer as a client sent it (Register) or as a catalog produced it, collecting every
/// violation with its field path, and returns a copy with output-only fields cleared.
/// </summary>
public static class OfferValidation
{
    public static readonly TimeSpan MinTtl = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxTtl = TimeSpan.FromHours(24);
    public const int MaxAttributes = 64;

    /// <summary>The offer without output-only fields; throws INVALID_ARGUMENT listing every violation.</summary>
    public static Offer Validate(Offer? offer, string currency, string field = "offer")
    {
        if (offer is null) throw RpcErrors.InvalidArgument(field, "required");
        var errors = new List<(string, string)>();
        void Check(bool ok, string path, string message) { if (!ok) errors.Add(($"{field}.{path}", message)); }

        Check(offer.Key.Length is >= 1 and <= 200 && offer.Key.All(c => c is > ' ' and <= '~'), "key", "1 to 200 printable ASCII characters without spaces");
        Check(offer.Kind is OfferKind.ServiceInstance or OfferKind.Compute, "kind", "must be OFFER_KIND_SERVICE_INSTANCE or OFFER_KIND_COMPUTE");
        var location = offer.Location;
        Check(location is not null && ApiKeys.IsValidScope(location.Provider), "location.provider", "required: a lower-case provider name ([a-z0-9-], 1 to 63)");
        Check(location is not null && IsLocationPart(location.Region, required: true), "location.region", "required: 1 to 63 characters of [A-Za-z0-9._-]");
        Check(location is null || IsLocationPart(location.Zone, required: false), "location.zone", "at most 63 characters of [A-Za-z0-9._-]");
        if (offer.Kind == OfferKind.ServiceInstance)
            Check(ApiKeys.IsValidScope(offer.Service), "service", "required for a service instance: a lower-case name ([a-z0-9-], 1 to 63)");
        else
            Check(offer.Service.Length == 0 || ApiKeys.IsValidScope(offer.Service), "service", "a lower-case name ([a-z0-9-], 1 to 63)");
        if (offer.Name.Length > 0 && !SkyName.TryParse(offer.Name, out _, out var nameError))
            Check(false, "name", nameError.ToString());
        if (offer.Kind == OfferKind.Compute)
            Check(offer.InstanceType.Length is >= 1 and <= 128, "instance_type", "required for a compute offering, at most 128 characters");
        else
            Check(offer.InstanceType.Length <= 128, "instance_type", "at most 128 characters");
        Check(offer.Version.Length <= 64, "version", "at most 64 characters");
        Check(offer.ApiVersion.Length <= 64, "api_version", "at most 64 characters");

        var hw = offer.Hardware;
        if (offer.Kind == OfferKind.Compute)
            Check(hw is not null && hw.Vcpus > 0 && hw.MemoryGib > 0, "hardware", "required for a compute offering with vcpus and memory_gib > 0");
        if (hw is not null)
        {
            Check(double.IsFinite(hw.Vcpus) && hw.Vcpus >= 0, "hardware.vcpus", "must be >= 0");
            Check(double.IsFinite(hw.MemoryGib) && hw.MemoryGib >= 0, "hardware.memory_gib", "must be >= 0");
            Check(double.IsFinite(hw.AcceleratorMemoryGib) && hw.AcceleratorMemoryGib >= 0, "hardware.accelerator_memory_gib", "must be >= 0");
            Check(hw.Arch is "" or "x86_64" or "arm64", "hardware.arch", "must be x86_64 or arm64");
            for (var i = 0; i < hw.Accelerators.Count; i++)
            {
                var a = hw.Accelerators[i];
                Check(a.Name.Length is >= 1 and <= 64 && !a.Name.Any(char.IsWhiteSpace), $"hardware.accelerators[{i}].name", "1 to 64 characters without spaces");
                Check(a.Count >= 1, $"hardware.accelerators[{i}].count", "must be >= 1");
            }
        }
        if (offer.Price is { } price)
        {
            CheckMoney(price.OnDemandHourly, "price.on_demand_hourly");
            CheckMoney(price.SpotHourly, "price.spot_hourly");
        }
        Check(offer.Load is null || offer.Load is >= 0 and <= 1, "load", "must be between 0 and 1");
        Check(System.Enum.IsDefined(offer.Availability), "availability", "unknown value");
        Check(offer.Attributes.Count <= MaxAttributes, "attributes", $"at most {MaxAttributes} entries");
        foreach (var (key, value) in offer.Attributes)
        {
            Check(IsAttributeKey(key), $"attributes[{key}]", "keys are 1 to 63 characters of [a-z0-9._-]");
            Check(value.Length <= 256, $"attributes[{key}]", "values are at most 256 characters");
        }
        if (errors.Count > 0) throw RpcErrors.InvalidArgument([.. errors]);

        var clean = offer.Clone();
        clean.OfferId = "";
        clean.LeaseId = "";
        clean.LeaseExpiresAt = null;
        clean.Origin = "";
        clean.Revision = 0;
        clean.CreatedAt = null;
        clean.UpdatedAt = null;
        return clean;

        void CheckMoney(Money? money, string path)
        {
            if (money is null) return;
            Check(money.CurrencyCode == currency, path + ".currency_code", $"the directory's currency is {currency}");
            Check(money.IsWellFormed() && money.ToDecimal() >= 0, path, "must be a well-formed, non-negative amount");
        }
    }

    /// <summary>The lease TTL: required and positive; clamped to 1 s .. 24 h.</summary>
    public static TimeSpan LeaseTtl(Duration? ttl, string field = "ttl")
    {
        if (ttl is null) throw RpcErrors.InvalidArgument(field, "required: the lease TTL, 1 s to 24 h");
        var value = ttl.ToTimeSpan();
        if (value <= TimeSpan.Zero) throw RpcErrors.InvalidArgument(field, "must be positive");
        return value < MinTtl ? MinTtl : value > MaxTtl ? MaxTtl : value;
    }

    public static bool IsAttributeKey(string key) =>
        key.Length is >= 1 and <= 63 && key.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '.' or '_' or '-');

    private static bool IsLocationPart(string value, bool required) =>
        (value.Length == 0 ? !required : value.Length <= 63) &&
        value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
