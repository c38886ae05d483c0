using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace Sky.Testing;

/// <summary>
/// An object-store emulator from npm for tests: the endpoint in its environment variable if set (CI starts the
/// emulators and exports <c>SKY_TEST_S3</c> and <c>SKY_TEST_AZURITE</c>), else the emulator started on a free loopback
/// port with a temporary data folder, found in <c>SKY_NPM_BIN</c> or on PATH, else none: tests then skip and say why.
/// Tests give each bucket or container a name of its own (<see cref="NewName"/>), so one emulator serves them all.
/// </summary>
public abstract class NpmEmulator : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly List<string> _output = [];
    private Process? _process;
    private string? _dir;

    /// <summary>The emulator's base URL, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string? Endpoint { get; private set; }

    public string? SkipReason { get; private set; }

    /// <summary>The environment variable that names a running emulator.</summary>
    protected abstract string EndpointVariable { get; }

    /// <summary>The npm binary's name and the npm package (with its pinned version) that provides it.</summary>
    protected abstract (string Binary, string Package) Program { get; }

    protected abstract IEnumerable<string> Arguments(int port, string dataDir);

    /// <summary>Skips the calling test, with the reason, when no emulator is available.</summary>
    public void Require() => Skip.If(SkipReason is not null, SkipReason);

    /// <summary>A fresh lowercase name (3-63 letters, digits and hyphens), valid for an S3 bucket and an Azure container.</summary>
    public static string NewName(string prefix = "sky") => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(63, prefix.Length + 33)];

    public async Task InitializeAsync()
    {
        var configured = Environment.GetEnvironmentVariable(EndpointVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            Endpoint = configured.TrimEnd('/');
            return;
        }
        var (binary, package) = Program;
        var path = Find(binary);
        if (path is null)
        {
            SkipReason = $"no {binary}: {EndpointVariable} is unset and {binary} is neither in SKY_NPM_BIN nor on PATH (npm install {package})";
            return;
        }
        var port = FreePort();
        _dir = System.IO.Directory.CreateTempSubdirectory($"sky-{binary}-").FullName;
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in Arguments(port, _dir)) start.ArgumentList.Add(argument);
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < StartTimeout && !_process.HasExited)
        {
            if (await AcceptsAsync(port))
            {
                Endpoint = $"http://127.0.0.1:{port}";
                return;
            }
            await Task.Delay(100);
        }
        string said;
        lock (_output) said = string.Join(" | ", _output.TakeLast(5));
        SkipReason = $"{binary} on port {port} did not start within {StartTimeout.TotalSeconds:0} s: {said}";
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        _process?.Dispose();
        if (_dir is not null) try { System.IO.Directory.Delete(_dir, true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.Add(line);
            if (_output.Count > 50) _output.RemoveAt(0);
        }
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException) { return false; }
    }

    private static string? Find(string name)
    {
        var dirs = new List<string>();
        if (Environment.GetEnvironmentVariable("SKY_NPM_BIN") is { Length: > 0 } npmBin) dirs.Add(npmBin);
        dirs.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries));
        return dirs.Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>
/// s3rver 3.7.1 (S3). It accepts any access key (it checks no signatures); see ../shared/ENVIRONMENT.md for what it
/// lacks (ListParts, AbortMultipartUpload, UploadPartCopy, Content-MD5 checks).
/// </summary>
public sealed class S3rverEmulator : NpmEmulator
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    protected override string EndpointVariable => "SKY_TEST_S3";
    protected override (string Binary, string Package) Program => ("s3rver", "s3rver@3.7.1");

    protected override IEnumerable<string> Arguments(int port, string dataDir) =>
        ["-d", dataDir, "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent"];
}

/// <summary>
/// azurite 3.35.0 (Azure Blob), started with <c>--skipApiVersionCheck</c> as CI starts it, serving the emulator's
/// well-known account path-style (<c>{Endpoint}/devstoreaccount1</c>).
/// </summary>
public sealed class AzuriteEmulator : NpmEmulator
{
    public const string AccountName = "devstoreaccount1";

    /// <summary>The emulator's published, well-known shared key.</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    protected override string EndpointVariable => "SKY_TEST_AZURITE";
    protected override (string Binary, string Package) Program => ("azurite-blob", "azurite@3.35.0");

    protected override IEnumerable<string> Arguments(int port, string dataDir) =>
        ["--blobHost", "127.0.0.1", "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
         "--location", dataDir, "--skipApiVersionCheck", "--disableTelemetry", "--silent"];
}
