namespace Sky.Transfer.Planning;

/// <summary>
/// A provider's region, the unit the throughput and egress grids are measured in (zones are not: a plan cannot
/// count on a zone). Names compare case-insensitively, as the directory compares them.
/// </summary>
public readonly record struct CloudRegion(string Provider, string Region)
{
    public bool Equals(CloudRegion other) =>
        string.Equals(Provider, other.Provider, StringComparison.OrdinalIgnoreCase)
        && string.Equals(Region, other.Region, StringComparison.OrdinalIgnoreCase);

    public override int GetHashCode() =>
        HashCode.Combine(StringComparer.OrdinalIgnoreCase.GetHashCode(Provider ?? ""), StringComparer.OrdinalIgnoreCase.GetHashCode(Region ?? ""));

    /// <summary>"provider/region", as quotes and errors name a region.</summary>
    public override string ToString() => $"{Provider}/{Region}";
}
