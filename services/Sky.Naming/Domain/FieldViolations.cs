using Sky.Hosting.Errors;

namespace Sky.Naming.Domain;

/// <summary>
/// The field violations found while checking one request, thrown together as one INVALID_ARGUMENT
/// (a google.rpc.BadRequest with every violation) so a client can fix them all in one go.
/// </summary>
public sealed class FieldViolations
{
    private readonly List<(string Field, string Description)> _all = [];

    public IReadOnlyList<(string Field, string Description)> All => _all;

    public void Add(string field, string description) => _all.Add((field, description));

    /// <summary>Parses a name field; a rejection is recorded as "at OFFSET: reason" (the 0-based offset of the first bad character).</summary>
    public SkyName? Name(string value, string field)
    {
        if (SkyName.TryParse(value, out var name, out var error)) return name;
        Add(field, error.ToString());
        return null;
    }

    public void ThrowIfAny()
    {
        if (_all.Count > 0) throw RpcErrors.InvalidArgument([.. _all]);
    }

    /// <summary>Parses one name field of a request, throwing INVALID_ARGUMENT with the offset when it is malformed.</summary>
    public static SkyName RequireName(string value, string field)
    {
        var violations = new FieldViolations();
        var name = violations.Name(value, field);
        violations.ThrowIfAny();
        return name!;
    }

    /// <summary>Text length as a reader counts it: Unicode scalar values, not UTF-16 code units.</summary>
    public static int CharacterCount(string text) => text.EnumerateRunes().Count();
}
