using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Google.Rpc;
using Grpc.Core;

namespace Sky.Cli.Commands;

/// <summary>
/// Points at the offending character of a rejected selector or name. The services report it as an
/// INVALID_ARGUMENT whose google.rpc.BadRequest field violation reads "at OFFSET: MESSAGE" (0-based);
/// the CLI still has the text it sent, so it can print it with a caret underneath.
/// </summary>
public static partial class FieldCaret
{
    /// <summary>Reads "at 12: unexpected ')'" into (12, "unexpected ')'").</summary>
    public static bool TryParse(string description, out int offset, out string message)
    {
        var match = OffsetPattern().Match(description);
        if (match.Success && int.TryParse(match.Groups["offset"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out offset))
        {
            message = match.Groups["message"].Value;
            return true;
        }
        (offset, message) = (0, description);
        return false;
    }

    /// <summary>
    /// Two lines, each indented by two spaces: the input, and a '^' under character <paramref name="offset"/>
    /// (at the end when the offset is the input's length, e.g. "unexpected end"). Tabs are copied into the
    /// caret line so it lines up; other control characters show as spaces so the input stays on one line.
    /// </summary>
    public static string Render(string input, int offset)
    {
        offset = Math.Clamp(offset, 0, input.Length);
        var shown = new StringBuilder("  ");
        var caret = new StringBuilder("  ");
        for (var i = 0; i < input.Length; i++)
        {
            var c = input[i];
            shown.Append(c == '\t' || !char.IsControl(c) ? c : ' ');
            // A surrogate pair is one character on screen: pad once, for its first half.
            if (i < offset && !char.IsLowSurrogate(c)) caret.Append(c == '\t' ? '\t' : ' ');
        }
        caret.Append('^');
        return shown + "\n" + caret;
    }

    /// <summary>
    /// For an INVALID_ARGUMENT naming one of <paramref name="fields"/> with an offset, the error to print:
    /// "FIELD: MESSAGE" and the caret lines. Null when the error is anything else.
    /// </summary>
    public static CliException? Explain(RpcException ex, params (string Field, string Input)[] fields)
    {
        if (ex.StatusCode != StatusCode.InvalidArgument) return null;
        var badRequest = ex.GetRpcStatus()?.GetDetail<BadRequest>();
        if (badRequest is null) return null;
        foreach (var violation in badRequest.FieldViolations)
        {
            foreach (var (field, input) in fields)
            {
                if (violation.Field == field && TryParse(violation.Description, out var offset, out var message))
                    return new CliException($"{field}: {message} (at character {offset})\n{Render(input, offset)}");
            }
        }
        return null;
    }

    /// <summary>Awaits a call, turning an offset-carrying INVALID_ARGUMENT for one of <paramref name="fields"/> into <see cref="Explain"/>'s error.</summary>
    public static async Task<T> CallAsync<T>(Func<Task<T>> call, params (string Field, string Input)[] fields)
    {
        try
        {
            return await call();
        }
        catch (RpcException ex) when (Explain(ex, fields) is { } explained)
        {
            throw explained;
        }
    }

    [GeneratedRegex(@"^at (?<offset>\d+): (?<message>.*)$", RegexOptions.Singleline)]
    private static partial Regex OffsetPattern();
}
