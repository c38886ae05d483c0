using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Google.Protobuf.WellKnownTypes;
using Sky.Hosting.Errors;
using Sky.Naming.V1;

namespace Sky.Naming.Domain;

/// <summary>
/// The record rules of naming.proto: what a client may send in a Record and the stored form it
/// becomes (canonical name and hosts, TTL defaulted, output-only fields dropped).
/// </summary>
public static partial class RecordValidation
{
    public const int MaxEndpoints = 64;
    public const int MaxAttributes = 64;
    public const int MaxVersionCharacters = 64;
    /// <summary>A "key=value" attribute, and "api_version=..." / "software_version=...", must fit one DNS TXT string.</summary>
    public const int MaxTxtStringBytes = 255;
    public const int MaxSchemeLength = 32;
    public const int MaxHostBytes = 253;
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan MinTtl = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxTtl = TimeSpan.FromHours(24);

    [GeneratedRegex("^[a-z][a-z0-9+.-]*$")]
    private static partial Regex SchemePattern();

    [GeneratedRegex("^[a-z0-9._-]{1,63}$")]
    private static partial Regex AttributeKeyPattern();

    /// <summary>
    /// Checks <paramref name="input"/> (the request field named <paramref name="field"/>) and returns its
    /// name and stored form; every problem found is reported at once as INVALID_ARGUMENT.
    /// </summary>
    public static (SkyName Name, Record Record) Validate(Record? input, string field = "record")
    {
        if (input is null) throw RpcErrors.InvalidArgument(field, "required");
        var violations = new FieldViolations();
        var name = violations.Name(input.Name, $"{field}.name");
        if (name is { Kind: SkyNameKind.Lookup })
            violations.Add($"{field}.name", "at 0: a lookup name (_<service>._tcp.<region>.<provider>.sky) cannot hold a record; " +
                "write instance records under <service>.<region>.<provider>.sky");

        var record = new Record
        {
            Name = name?.Canonical ?? "",
            Ttl = CheckTtl(input.Ttl, $"{field}.ttl", violations),
            ApiVersion = CheckVersion(input.ApiVersion, "api_version", field, violations),
            SoftwareVersion = CheckVersion(input.SoftwareVersion, "software_version", field, violations),
        };

        if (input.Endpoints.Count == 0)
            violations.Add($"{field}.endpoints", "at least one endpoint is required");
        else if (input.Endpoints.Count > MaxEndpoints)
            violations.Add($"{field}.endpoints", $"at most {MaxEndpoints} endpoints, got {input.Endpoints.Count}");
        for (var i = 0; i < input.Endpoints.Count && i < MaxEndpoints; i++)
            record.Endpoints.Add(CheckEndpoint(input.Endpoints[i], $"{field}.endpoints[{i}]", violations));

        if (input.Attributes.Count > MaxAttributes)
            violations.Add($"{field}.attributes", $"at most {MaxAttributes} entries, got {input.Attributes.Count}");
        foreach (var (key, value) in input.Attributes)
        {
            if (!AttributeKeyPattern().IsMatch(key))
                violations.Add($"{field}.attributes", $"key \"{key}\": 1 to 63 characters of [a-z0-9._-]");
            else if (Encoding.UTF8.GetByteCount(key) + 1 + Encoding.UTF8.GetByteCount(value) > MaxTxtStringBytes)
                violations.Add($"{field}.attributes", $"key \"{key}\": \"key=value\" is longer than {MaxTxtStringBytes} bytes (one DNS TXT string)");
            else
                record.Attributes[key] = value;
        }

        violations.ThrowIfAny();
        return (name!, record);
    }

    private static RecordEndpoint CheckEndpoint(RecordEndpoint endpoint, string field, FieldViolations violations)
    {
        if (endpoint.Scheme.Length == 0)
            violations.Add($"{field}.scheme", "required, e.g. \"grpc\", \"https\", \"postgres\"");
        else if (endpoint.Scheme.Length > MaxSchemeLength || !SchemePattern().IsMatch(endpoint.Scheme))
            violations.Add($"{field}.scheme", $"1 to {MaxSchemeLength} lower-case characters of [a-z0-9+.-], starting with a letter");

        var host = "";
        if (endpoint.Host.Length == 0)
            violations.Add($"{field}.host", "required: a DNS host name or an IP literal");
        else if (EndpointHost.Normalize(endpoint.Host, out var error) is { } normalized)
            host = normalized;
        else
            violations.Add($"{field}.host", error!);

        if (endpoint.Port is < 1 or > 65535)
            violations.Add($"{field}.port", $"must be 1 to 65535, got {endpoint.Port}");
        if (endpoint.Weight is < 0 or > 65535)
            violations.Add($"{field}.weight", $"must be 0 to 65535, got {endpoint.Weight}");
        if (endpoint.Priority is < 0 or > 65535)
            violations.Add($"{field}.priority", $"must be 0 to 65535, got {endpoint.Priority}");

        return new RecordEndpoint { Scheme = endpoint.Scheme, Host = host, Port = endpoint.Port, Weight = endpoint.Weight, Priority = endpoint.Priority };
    }

    private static Duration CheckTtl(Duration? ttl, string field, FieldViolations violations)
    {
        if (ttl is null) return Duration.FromTimeSpan(DefaultTtl);
        if (ttl.Nanos != 0)
            violations.Add(field, "must be whole seconds (DNS TTLs have no fractions)");
        else if (ttl.Seconds < MinTtl.TotalSeconds || ttl.Seconds > MaxTtl.TotalSeconds)
            violations.Add(field, $"must be 1 s to 24 h, got {ttl.Seconds} s");
        return ttl.Clone();
    }

    private static string CheckVersion(string value, string name, string field, FieldViolations violations)
    {
        if (FieldViolations.CharacterCount(value) > MaxVersionCharacters)
            violations.Add($"{field}.{name}", $"at most {MaxVersionCharacters} characters");
        else if (Encoding.UTF8.GetByteCount(name) + 1 + Encoding.UTF8.GetByteCount(value) > MaxTxtStringBytes)
            violations.Add($"{field}.{name}", $"\"{name}=...\" is longer than {MaxTxtStringBytes} bytes (one DNS TXT string)");
        return value;
    }
}

/// <summary>The host of an endpoint: a DNS host name (stored lower case, without a trailing dot) or an IP literal (stored in its standard text form).</summary>
public static class EndpointHost
{
    /// <summary>The stored form of <paramref name="host"/>, or null with <paramref name="error"/> saying why it is not one.</summary>
    public static string? Normalize(string host, out string? error)
    {
        error = null;
        if (host.Contains(':'))
        {
            if (!host.Contains('[') && !host.Contains('%') && IPAddress.TryParse(host, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6)
                return v6.ToString();
            error = "not an IPv6 literal (write it without brackets, zone or port)";
            return null;
        }

        var body = host.EndsWith('.') ? host[..^1] : host;
        if (body.Length > 0 && body.All(c => char.IsAsciiDigit(c) || c == '.'))
        {
            if (IsDottedQuad(body)) return body;
            error = "not an IPv4 literal (four decimal numbers 0 to 255 without leading zeros, e.g. 10.0.0.7)";
            return null;
        }

        if (body.Length == 0 || Encoding.UTF8.GetByteCount(body) > RecordValidation.MaxHostBytes)
        {
            error = $"a host name has 1 to {RecordValidation.MaxHostBytes} bytes";
            return null;
        }
        var start = 0;
        foreach (var label in body.Split('.'))
        {
            var bad = LabelError(label);
            if (bad is { } problem)
            {
                error = $"at {start + problem.Offset}: {problem.Message}";
                return null;
            }
            start += label.Length + 1;
        }
        return body.ToLowerInvariant();
    }

    private static (int Offset, string Message)? LabelError(string label)
    {
        if (label.Length == 0) return (0, "empty label");
        if (label.Length > SkyName.MaxLabelBytes) return (SkyName.MaxLabelBytes, $"label is longer than {SkyName.MaxLabelBytes} bytes");
        for (var i = 0; i < label.Length; i++)
            if (!char.IsAsciiLetterOrDigit(label[i]) && label[i] != '-')
                return (i, $"character '{label[i]}' is not allowed in a host name; use [a-z0-9-] (IDNA A-labels for other scripts)");
        if (label[0] == '-') return (0, "label must not start with '-'");
        if (label[^1] == '-') return (label.Length - 1, "label must not end with '-'");
        return null;
    }

    private static bool IsDottedQuad(string text)
    {
        var parts = text.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is >= 1 and <= 3 && (p.Length == 1 || p[0] != '0') && int.Parse(p) <= 255);
    }
}
