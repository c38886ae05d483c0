using Sky.Common.V1;
using Sky.Hosting.Options;

namespace Sky.Hosting.Identity;

/// <summary>
/// The operator's API key: from <c>--operator-token</c> / <c>SKY_OPERATOR_TOKEN</c>, or generated at
/// start-up and written (mode 0600) to <see cref="MeshOptions.OperatorTokenFile"/> so the CLI on the
/// same machine can read it. Only its hash reaches the <see cref="ApiKeyRegistry"/>.
/// </summary>
public sealed class OperatorKey
{
    private OperatorKey(string secret, string? writtenTo)
    {
        Secret = secret;
        WrittenTo = writtenTo;
        Record = new ApiKeyRecord("operator", ApiKeys.Hash(secret), PrincipalKind.Operator, "", "operator key", DateTimeOffset.UnixEpoch, null, "config");
    }

    /// <summary>Kept only to authenticate this host's own calls to its peers.</summary>
    internal string Secret { get; }

    /// <summary>Path of the file the generated key was written to; null when the key was configured.</summary>
    public string? WrittenTo { get; }

    public ApiKeyRecord Record { get; }

    public static OperatorKey Resolve(MeshOptions options)
    {
        var configured = options.OperatorToken ?? Environment.GetEnvironmentVariable("SKY_OPERATOR_TOKEN");
        if (!string.IsNullOrWhiteSpace(configured)) return new OperatorKey(configured.Trim(), null);
        var secret = ApiKeys.NewSecret();
        var path = options.OperatorTokenFile;
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var file = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) file.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(path, file))
        using (var writer = new StreamWriter(stream))
            writer.WriteLine(secret);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return new OperatorKey(secret, path);
    }

    /// <summary>For hosts built in-process (tests, the CLI's embedded mesh): a fixed key, nothing written.</summary>
    public static OperatorKey FromSecret(string secret) => new(secret, null);
}
