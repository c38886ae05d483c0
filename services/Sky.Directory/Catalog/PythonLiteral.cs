using System.Globalization;
using System.Text;

namespace Sky.Directory.Catalog;

/// <summary>
/// Reads the subset of Python literal syntax that SkyPilot writes into its GpuInfo column (what
/// <c>ast.literal_eval</c> accepts there): dicts, lists, tuples, quoted strings, numbers, True, False, None.
/// Dicts become <see cref="Dictionary{TKey,TValue}"/> with string keys, lists and tuples
/// <see cref="List{T}"/>, numbers <see cref="double"/>.
/// </summary>
public static class PythonLiteral
{
    private const int MaxDepth = 32;

    /// <summary>Parses <paramref name="text"/> as one literal; false (and an error) when it is not one.</summary>
    public static bool TryParse(string text, out object? value, out string error)
    {
        var reader = new Reader(text);
        try
        {
            reader.SkipSpace();
            value = reader.ReadValue(0);
            reader.SkipSpace();
            if (!reader.AtEnd) throw reader.Fail("unexpected text after the literal");
            error = "";
            return true;
        }
        catch (FormatException ex)
        {
            value = null;
            error = ex.Message;
            return false;
        }
    }

    private sealed class Reader(string text)
    {
        private int _pos;

        public bool AtEnd => _pos >= text.Length;

        public FormatException Fail(string message) => new($"{message} at offset {_pos}");

        public void SkipSpace()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++;
        }

        public object? ReadValue(int depth)
        {
            if (depth > MaxDepth) throw Fail("nested too deeply");
            if (AtEnd) throw Fail("unexpected end");
            var c = text[_pos];
            switch (c)
            {
                case '{': return ReadDict(depth);
                case '[': return ReadSequence(']', depth);
                case '(': return ReadSequence(')', depth);
                case '\'' or '"': return ReadString();
            }
            if (c is '-' or '+' or '.' || char.IsAsciiDigit(c)) return ReadNumber();
            if (TryWord("True")) return true;
            if (TryWord("False")) return false;
            if (TryWord("None")) return null;
            throw Fail($"unexpected '{c}'");
        }

        private Dictionary<string, object?> ReadDict(int depth)
        {
            _pos++; // {
            var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
            SkipSpace();
            while (true)
            {
                if (AtEnd) throw Fail("unterminated dict");
                if (text[_pos] == '}') { _pos++; return dict; }
                var key = ReadValue(depth + 1);
                SkipSpace();
                Expect(':');
                SkipSpace();
                dict[Convert.ToString(key, CultureInfo.InvariantCulture) ?? "None"] = ReadValue(depth + 1);
                SkipSpace();
                if (!AtEnd && text[_pos] == ',') { _pos++; SkipSpace(); }
                else if (AtEnd || text[_pos] != '}') throw Fail("expected ',' or '}'");
            }
        }

        private List<object?> ReadSequence(char close, int depth)
        {
            _pos++; // [ or (
            var list = new List<object?>();
            SkipSpace();
            while (true)
            {
                if (AtEnd) throw Fail("unterminated list");
                if (text[_pos] == close) { _pos++; return list; }
                list.Add(ReadValue(depth + 1));
                SkipSpace();
                if (!AtEnd && text[_pos] == ',') { _pos++; SkipSpace(); }
                else if (AtEnd || text[_pos] != close) throw Fail($"expected ',' or '{close}'");
            }
        }

        private string ReadString()
        {
            var quote = text[_pos++];
            var sb = new StringBuilder();
            while (true)
            {
                if (AtEnd) throw Fail("unterminated string");
                var c = text[_pos++];
                if (c == quote) return sb.ToString();
                if (c != '\\') { sb.Append(c); continue; }
                if (AtEnd) throw Fail("unterminated string");
                var e = text[_pos++];
                sb.Append(e switch { 'n' => '\n', 't' => '\t', 'r' => '\r', '0' => '\0', _ => e });
            }
        }

        private double ReadNumber()
        {
            var start = _pos;
            while (_pos < text.Length && (char.IsAsciiDigit(text[_pos]) || text[_pos] is '-' or '+' or '.' or 'e' or 'E' or '_')) _pos++;
            var token = text[start.._pos].Replace("_", "", StringComparison.Ordinal);
            if (!double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                _pos = start;
                throw Fail($"bad number '{token}'");
            }
            return number;
        }

        private bool TryWord(string word)
        {
            if (string.CompareOrdinal(text, _pos, word, 0, word.Length) != 0) return false;
            var end = _pos + word.Length;
            if (end < text.Length && (char.IsLetterOrDigit(text[end]) || text[end] == '_')) return false;
            _pos = end;
            return true;
        }

        private void Expect(char c)
        {
            if (AtEnd || text[_pos] != c) throw Fail($"expected '{c}'");
            _pos++;
        }
    }
}
