using Google.Protobuf.WellKnownTypes;
using Sky.Hosting.Errors;
using Sky.Hosting.Identity;
using Sky.Naming.V1;

namespace Sky.Naming.Domain;

/// <summary>What a client may send as a Zone, and who may create, delete and write in zones (naming.proto, "Zones").</summary>
public static class ZoneRules
{
    public const int MaxDescriptionCharacters = 200;

    /// <summary>Checks a zone to create and returns its name and stored form (canonical name, lower-case owner, created now).</summary>
    public static (SkyName Name, Zone Zone) Validate(Zone? input, DateTimeOffset now, string field = "zone")
    {
        if (input is null) throw RpcErrors.InvalidArgument(field, "required");
        var violations = new FieldViolations();
        var name = violations.Name(input.Name, $"{field}.name");
        if (name is { Kind: SkyNameKind.Lookup })
            violations.Add($"{field}.name", "at 0: a lookup name (_<service>._tcp...) cannot be a zone");

        var owner = input.Owner.ToLowerInvariant();
        if (owner.Length == 0)
            violations.Add($"{field}.owner", "required: the provider that may write records in the zone");
        else if (!ApiKeys.IsValidScope(owner))
            violations.Add($"{field}.owner", "a provider name: 1 to 63 characters of [a-z0-9-], not starting or ending with '-'");
        else if (name is { Kind: SkyNameKind.Provider } && owner != name.Provider)
            violations.Add($"{field}.owner", $"the apex zone '{name}' belongs to provider '{name.Provider}'");

        if (FieldViolations.CharacterCount(input.Description) > MaxDescriptionCharacters)
            violations.Add($"{field}.description", $"at most {MaxDescriptionCharacters} characters");
        violations.ThrowIfAny();

        return (name!, new Zone
        {
            Name = name!.Canonical,
            Owner = owner,
            Description = input.Description,
            CreatedAt = Timestamp.FromDateTimeOffset(now),
        });
    }

    /// <summary>
    /// A provider creates its own apex zone, or a sub-zone below a zone it owns (for any owner: delegation).
    /// <paramref name="parent"/> is the deepest existing zone above <paramref name="name"/>.
    /// </summary>
    public static void RequireCreate(Principal caller, SkyName name, Zone? parent)
    {
        if (name.Kind == SkyNameKind.Provider)
        {
            if (!caller.ActsForProvider(name.Provider))
                throw RpcErrors.PermissionDenied($"{caller} may not create the apex zone '{name}': it belongs to provider '{name.Provider}'");
            return;
        }
        if (parent is null)
            throw RpcErrors.FailedPrecondition("ZONE_PARENT_MISSING", name.Canonical,
                $"no zone encloses '{name}': create the apex zone '{name.Provider}.{SkyName.RootLabel}' first");
        if (!caller.ActsForProvider(parent.Owner))
            throw RpcErrors.PermissionDenied($"{caller} may not create zones in '{parent.Name}' (owned by '{parent.Owner}')");
    }

    /// <summary>An apex zone is deleted by its owner; a sub-zone by the owner of its parent zone (taking a delegation back).</summary>
    public static void RequireDelete(Principal caller, Zone zone, Zone? parent)
    {
        var authority = parent?.Owner ?? zone.Owner;
        if (!caller.ActsForProvider(authority))
            throw RpcErrors.PermissionDenied(parent is null
                ? $"{caller} may not delete the zone '{zone.Name}' (owned by '{zone.Owner}')"
                : $"{caller} may not delete the zone '{zone.Name}': only the owner of its parent zone '{parent.Name}' ('{parent.Owner}') may");
    }

    /// <summary>Records are written by the owner of the zone they belong to.</summary>
    public static void RequireWrite(Principal caller, Zone zone, string recordName)
    {
        if (!caller.ActsForProvider(zone.Owner))
            throw RpcErrors.PermissionDenied($"{caller} may not write '{recordName}': it is in zone '{zone.Name}', owned by '{zone.Owner}'");
    }
}
