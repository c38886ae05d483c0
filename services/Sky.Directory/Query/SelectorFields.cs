namespace Sky.Directory.Query;

/// <summary>The fields a selector can name.</summary>
internal enum SelectorField
{
    Kind, Service, Name, Provider, Region, Zone, InstanceType, Version, ApiVersion, Vcpus, Memory,
    Gpu, GpuCount, Arch, Price, SpotPrice, Load, Availability, Origin, Attribute,
}

/// <summary>How a field's values compare, which decides the operators it accepts.</summary>
internal enum FieldType { Text, Enumeration, Version, Number, Money, Gpu, Attribute }

internal enum SelectorOp { Equal, NotEqual, In, NotIn, Less, LessOrEqual, Greater, GreaterOrEqual, Glob, Present, Absent }

/// <summary>Fields with posting lists in <see cref="OfferIndex"/>.</summary>
internal enum IndexedField { Kind, Provider, Region, Zone, Service, InstanceType, Gpu, Availability, Origin }

/// <summary>A field reference as resolved from the selector text.</summary>
internal readonly record struct FieldRef(SelectorField Field, FieldType Type, string Name, string? AttributeKey)
{
    public static readonly string[] KindValues = ["service_instance", "compute"];
    public static readonly string[] AvailabilityValues = ["available", "limited", "unavailable"];

    private static readonly Dictionary<string, (SelectorField Field, FieldType Type)> Known = new(StringComparer.Ordinal)
    {
        ["kind"] = (SelectorField.Kind, FieldType.Enumeration),
        ["service"] = (SelectorField.Service, FieldType.Text),
        ["name"] = (SelectorField.Name, FieldType.Text),
        ["provider"] = (SelectorField.Provider, FieldType.Text),
        ["region"] = (SelectorField.Region, FieldType.Text),
        ["zone"] = (SelectorField.Zone, FieldType.Text),
        ["instance_type"] = (SelectorField.InstanceType, FieldType.Text),
        ["version"] = (SelectorField.Version, FieldType.Version),
        ["api_version"] = (SelectorField.ApiVersion, FieldType.Version),
        ["vcpus"] = (SelectorField.Vcpus, FieldType.Number),
        ["memory"] = (SelectorField.Memory, FieldType.Number),
        ["memory_gib"] = (SelectorField.Memory, FieldType.Number),
        ["gpu"] = (SelectorField.Gpu, FieldType.Gpu),
        ["gpu_count"] = (SelectorField.GpuCount, FieldType.Number),
        ["arch"] = (SelectorField.Arch, FieldType.Text),
        ["price"] = (SelectorField.Price, FieldType.Money),
        ["spot_price"] = (SelectorField.SpotPrice, FieldType.Money),
        ["load"] = (SelectorField.Load, FieldType.Number),
        ["availability"] = (SelectorField.Availability, FieldType.Enumeration),
        ["origin"] = (SelectorField.Origin, FieldType.Text),
    };

    public const string AttributePrefix = "attributes.";

    /// <summary>Resolves a lower-case identifier; null key for "attributes." with nothing after it.</summary>
    public static FieldRef Resolve(string lowerName)
    {
        if (lowerName.StartsWith(AttributePrefix, StringComparison.Ordinal))
            return new FieldRef(SelectorField.Attribute, FieldType.Attribute, lowerName, lowerName[AttributePrefix.Length..]);
        return Known.TryGetValue(lowerName, out var known)
            ? new FieldRef(known.Field, known.Type, lowerName, null)
            : new FieldRef(SelectorField.Attribute, FieldType.Attribute, lowerName, lowerName);
    }

    public string[]? EnumerationValues => Field switch
    {
        SelectorField.Kind => KindValues,
        SelectorField.Availability => AvailabilityValues,
        _ => null,
    };

    public IndexedField? Indexed => Field switch
    {
        SelectorField.Kind => IndexedField.Kind,
        SelectorField.Provider => IndexedField.Provider,
        SelectorField.Region => IndexedField.Region,
        SelectorField.Zone => IndexedField.Zone,
        SelectorField.Service => IndexedField.Service,
        SelectorField.InstanceType => IndexedField.InstanceType,
        SelectorField.Gpu => IndexedField.Gpu,
        SelectorField.Availability => IndexedField.Availability,
        SelectorField.Origin => IndexedField.Origin,
        _ => null,
    };
}
