using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Sky.Cli;

/// <summary>
/// Standard output for commands that stream until stopped (<c>sky dir watch</c>). .NET's console writer ignores
/// a broken pipe, so <c>sky dir watch | head</c> would run on forever after head exits; a plain file stream
/// on descriptor 1 reports it as an <see cref="IOException"/>, and the command can end.
/// </summary>
public static class StreamOutput
{
    public static TextWriter Open()
    {
        if (!Console.IsOutputRedirected || OperatingSystem.IsWindows()) return Console.Out;
        var stdout = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
        return new StreamWriter(stdout, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { AutoFlush = true };
    }
}
