using System.Text;
using Google.Protobuf;

namespace Sky.Cli;

/// <summary>
/// How <c>--json</c> prints contract messages: the proto3 JSON mapping with the .proto field names
/// (snake_case, as every other <c>sky</c> JSON) and default values included, so a script can read
/// <c>.revision</c> even when it is 0.
/// </summary>
public static class ProtoJson
{
    private static readonly JsonFormatter Indented = new(JsonFormatter.Settings.Default
        .WithPreserveProtoFieldNames(true).WithFormatDefaultValues(true).WithIndentation());

    private static readonly JsonFormatter Compact = new(JsonFormatter.Settings.Default
        .WithPreserveProtoFieldNames(true).WithFormatDefaultValues(true));

    /// <summary>One message as indented JSON text (to embed in a larger document).</summary>
    public static string Format(IMessage message) => Indented.Format(message);

    /// <summary>One message as one indented JSON document (a command's whole answer).</summary>
    public static void Write(IMessage message) => Console.Out.WriteLine(Indented.Format(message));

    /// <summary>One message on one line: a record of an NDJSON stream.</summary>
    public static void WriteLine(IMessage message, TextWriter? output = null) => (output ?? Console.Out).WriteLine(Compact.Format(message));

    /// <summary>Several messages as one JSON object keyed by name (e.g. one import result per cloud).</summary>
    public static void WriteObject(IEnumerable<KeyValuePair<string, IMessage>> members)
    {
        var text = new StringBuilder("{");
        var first = true;
        foreach (var (key, message) in members)
        {
            text.Append(first ? "\n  " : ",\n  ").Append(System.Text.Json.JsonSerializer.Serialize(key)).Append(": ");
            // Re-indent the nested document by one level so the whole object reads as one document.
            text.Append(Indented.Format(message).Replace("\n", "\n  "));
            first = false;
        }
        text.Append(first ? "}" : "\n}");
        Console.Out.WriteLine(text.ToString());
    }
}
