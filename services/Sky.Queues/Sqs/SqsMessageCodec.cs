using System.Text;
using System.Text.Json;
using Amazon.SQS.Model;

namespace Sky.Queues.Sqs;

/// <summary>
/// How bytes and string attributes travel in SQS, whose bodies and attribute values are text with rules of their own.
/// <para>Body: a body that is valid UTF-8 made only of characters SQS accepts travels as that text, so JSON and
/// CloudEvents stay readable in the console and to other consumers. Any other body, and the empty body SQS refuses,
/// travels base64 with the message attribute <c>sky-body-encoding=base64</c>. Receive decodes base64 only when that
/// attribute says so; a message without it (any other producer's) reads as the UTF-8 bytes of its text.</para>
/// <para>Attributes: String message attributes when they fit SQS's rules (at most 10 counting the adapter's own,
/// names of letters, digits, <c>-_.</c>, values not empty); otherwise all of them travel as one JSON object in
/// <c>sky-attributes</c>, so a message with many attributes, or a dead-lettered copy that gains the reason, still sends.</para>
/// </summary>
public static class SqsMessageCodec
{
    /// <summary>Present, with the value <c>base64</c>, when the body is base64 of the bytes.</summary>
    public const string BodyEncodingAttribute = "sky-body-encoding";
    /// <summary>Holds every attribute as a JSON object when they do not fit as SQS message attributes.</summary>
    public const string PackedAttributesAttribute = "sky-attributes";
    /// <summary>SQS's limit on message attributes per message.</summary>
    public const int MaxAttributes = 10;

    /// <summary>The attribute names the codec itself writes; they never reach a handler as attributes of their own.</summary>
    public static bool IsReserved(string name) => name is BodyEncodingAttribute or PackedAttributesAttribute;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static (string Body, Dictionary<string, MessageAttributeValue> Attributes) Encode(
        ReadOnlySpan<byte> body, IReadOnlyDictionary<string, string> attributes)
    {
        if (attributes.Keys.FirstOrDefault(IsReserved) is { } reserved)
            throw new ArgumentException($"attribute '{reserved}' is reserved by the SQS adapter", nameof(attributes));

        var encoded = new Dictionary<string, MessageAttributeValue>(StringComparer.Ordinal);
        string text;
        if (body.Length > 0 && IsSqsText(body)) text = StrictUtf8.GetString(body);
        else
        {
            // An empty body goes as a single space: SQS needs one character, and base64 of " " is no bytes.
            text = body.Length == 0 ? " " : Convert.ToBase64String(body);
            encoded[BodyEncodingAttribute] = Text("base64");
        }

        var fits = attributes.Count + encoded.Count <= MaxAttributes
                   && attributes.All(a => IsSqsName(a.Key) && a.Value.Length > 0 && IsSqsText(a.Value));
        if (fits)
            foreach (var (name, value) in attributes) encoded[name] = Text(value);
        else if (attributes.Count > 0)
            encoded[PackedAttributesAttribute] = Text(JsonSerializer.Serialize(attributes));
        return (text, encoded);
    }

    public static (byte[] Body, Dictionary<string, string> Attributes) Decode(string? body, Dictionary<string, MessageAttributeValue>? attributes)
    {
        var decoded = new Dictionary<string, string>(StringComparer.Ordinal);
        var base64 = false;
        foreach (var (name, value) in attributes ?? [])
        {
            var text = ValueText(value);
            if (name == BodyEncodingAttribute) base64 = text == "base64"; // an unknown encoding: read the text as it is
            else if (name == PackedAttributesAttribute && TryUnpack(text) is { } packed)
                foreach (var (key, item) in packed) decoded[key] = item;
            else decoded[name] = text;
        }
        body ??= "";
        if (base64)
        {
            try { return (Convert.FromBase64String(body), decoded); }
            catch (FormatException) { decoded[BodyEncodingAttribute] = "base64"; } // not base64 after all: hand over the text, marker kept
        }
        return (Encoding.UTF8.GetBytes(body), decoded);
    }

    /// <summary>Valid UTF-8 of only the characters SQS accepts: #x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF.</summary>
    public static bool IsSqsText(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes, out var rune, out var used) != System.Buffers.OperationStatus.Done) return false;
            if (!IsSqsChar(rune.Value)) return false;
            bytes = bytes[used..];
        }
        return true;
    }

    private static bool IsSqsText(string text)
    {
        var chars = text.AsSpan();
        while (!chars.IsEmpty)
        {
            if (System.Text.Rune.DecodeFromUtf16(chars, out var rune, out var used) != System.Buffers.OperationStatus.Done) return false;
            if (!IsSqsChar(rune.Value)) return false;
            chars = chars[used..];
        }
        return true;
    }

    private static bool IsSqsChar(int c) =>
        c is 0x9 or 0xA or 0xD or >= 0x20 and <= 0xD7FF or >= 0xE000 and <= 0xFFFD or >= 0x10000 and <= 0x10FFFF;

    /// <summary>
    /// An SQS message attribute name: up to 256 letters, digits, '-', '_' and '.', not starting or ending with '.',
    /// no '..', and not starting with AWS. or Amazon. in any case.
    /// </summary>
    public static bool IsSqsName(string name)
    {
        if (name.Length is 0 or > 256 || name[0] == '.' || name[^1] == '.' || name.Contains("..", StringComparison.Ordinal)) return false;
        if (name.StartsWith("aws.", StringComparison.OrdinalIgnoreCase) || name.StartsWith("amazon.", StringComparison.OrdinalIgnoreCase)) return false;
        foreach (var c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) return false;
        return true;
    }

    private static MessageAttributeValue Text(string value) => new() { DataType = "String", StringValue = value };

    /// <summary>String and Number attributes read as their text; Binary ones (from other producers) as base64.</summary>
    private static string ValueText(MessageAttributeValue value) =>
        value.StringValue ?? (value.BinaryValue is { } binary ? Convert.ToBase64String(binary.ToArray()) : "");

    private static Dictionary<string, string>? TryUnpack(string json)
    {
        try { return JsonSerializer.Deserialize<Dictionary<string, string>>(json); }
        catch (JsonException) { return null; }
    }
}
