using System.Globalization;
using System.Text;

namespace Sky.Directory.Query;

/// <summary>
/// Posting lists that hold every offer condition number <paramref name="Condition"/> can match: exact keys, or the
/// keys a glob matches. <paramref name="Implied"/>: every offer in those lists satisfies the condition, so a scan
/// of them need not test it again.
/// </summary>
internal sealed record IndexHint(IndexedField Field, string[]? Keys, Glob? Glob, int Condition, bool Implied);

/// <summary>
/// Recursive-descent parser of the selector language (grammar on <see cref="Selector"/>). Every error
/// names the offset of the offending character; a value's own errors point at its first character.
/// </summary>
internal sealed class SelectorParser(string text)
{
    private readonly List<Condition> conditions = [];
    private readonly List<IndexHint> hints = [];
    private int i;

    public (Condition[] Conditions, IndexHint[] Hints) Parse()
    {
        SkipSpace();
        if (AtEnd) return ([], []);
        while (true)
        {
            ParseClause();
            SkipSpace();
            if (AtEnd) break;
            // ParseClause only returns in front of a comma or the end.
            var comma = i++;
            SkipSpace();
            if (AtEnd) throw new SelectorException(comma, "trailing comma: expected a clause after ','");
            if (Current == ',') throw new SelectorException(i, "empty clause between commas");
        }
        return ([.. conditions], [.. hints]);
    }

    private bool AtEnd => i >= text.Length;
    private char Current => text[i];

    private void SkipSpace()
    {
        while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
    }

    private static bool IsIdentifierStart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
    private static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-';
    private static bool IsOperatorChar(char c) => c is '=' or '!' or '<' or '>' or '~';
    private static bool IsBareValueChar(char c) => !char.IsWhiteSpace(c) && c is not (',' or '(' or ')' or '"') && !IsOperatorChar(c);

    private static string Show(char c) => char.IsControl(c) || char.IsWhiteSpace(c) ? $"U+{(int)c:X4}" : $"'{c}'";

    private void ParseClause()
    {
        if (Current == '!')
        {
            i++;
            SkipSpace();
            var absent = ParseField("after '!'");
            Add(absent, SelectorOp.Absent, []);
            SkipSpace();
            if (!AtEnd && Current != ',')
                throw new SelectorException(i, IsOperatorChar(Current)
                    ? $"'!{absent.Name}' is an absence test and takes no operator"
                    : $"expected ',' or the end after '!{absent.Name}', found {Show(Current)}");
            return;
        }

        var field = ParseField(null);
        var afterField = i;
        SkipSpace();
        if (AtEnd || Current == ',')
        {
            Add(field, SelectorOp.Present, []);
            return;
        }
        if (IsOperatorChar(Current))
        {
            // One or more comparisons ANDed: "version>=15 <17".
            while (true)
            {
                var op = ParseOperator(field);
                SkipSpace();
                var value = ParseValue(field, op == SelectorOp.Glob);
                Add(field, op, [value]);
                SkipSpace();
                if (AtEnd || Current == ',') return;
                if (!IsOperatorChar(Current))
                    throw new SelectorException(i, $"expected ',', another comparison or the end after the value of {field.Name}, found {Show(Current)}");
            }
        }
        // "in" and "notin" need a space before them; "regionin" is a field name.
        var keyword = i == afterField ? null : TryKeyword("notin") ? "notin" : TryKeyword("in") ? "in" : null;
        if (keyword is not null)
        {
            var negated = keyword == "notin";
            SkipSpace();
            if (AtEnd) throw new SelectorException(i, $"expected '(' after '{keyword}'");
            if (Current != '(') throw new SelectorException(i, $"expected '(' after '{keyword}', found {Show(Current)}");
            var values = ParseSet(field);
            Add(field, negated ? SelectorOp.NotIn : SelectorOp.In, values);
            SkipSpace();
            if (!AtEnd && Current != ',')
                throw new SelectorException(i, $"expected ',' or the end after the set, found {Show(Current)}");
            return;
        }
        throw new SelectorException(i, $"expected an operator, 'in', 'notin', ',' or the end after {field.Name}, found {Show(Current)}");
    }

    private FieldRef ParseField(string? context)
    {
        var start = i;
        if (AtEnd) throw new SelectorException(i, context is null ? "expected a field name" : $"expected a field name {context}");
        if (!IsIdentifierStart(Current))
            throw new SelectorException(i, $"expected a field name{(context is null ? "" : " " + context)}, found {Show(Current)}");
        while (i < text.Length && IsIdentifierPart(text[i])) i++;
        var field = FieldRef.Resolve(text[start..i].ToLowerInvariant());
        if (field.AttributeKey is { Length: 0 }) throw new SelectorException(i, "expected an attribute key after 'attributes.'");
        return field;
    }

    private bool TryKeyword(string word)
    {
        if (string.Compare(text, i, word, 0, word.Length, StringComparison.OrdinalIgnoreCase) != 0) return false;
        var end = i + word.Length;
        if (end < text.Length && IsIdentifierPart(text[end])) return false;
        i = end;
        return true;
    }

    private SelectorOp ParseOperator(FieldRef field)
    {
        var start = i;
        while (i < text.Length && IsOperatorChar(text[i])) i++;
        var symbol = text[start..i];
        var op = symbol switch
        {
            "=" or "==" => SelectorOp.Equal,
            "!=" => SelectorOp.NotEqual,
            "<" => SelectorOp.Less,
            "<=" => SelectorOp.LessOrEqual,
            ">" => SelectorOp.Greater,
            ">=" => SelectorOp.GreaterOrEqual,
            "~" => SelectorOp.Glob,
            _ => throw new SelectorException(start, $"unknown operator '{symbol}' (expected =, !=, <, <=, >, >=, ~, in or notin)"),
        };
        var isRange = op is SelectorOp.Less or SelectorOp.LessOrEqual or SelectorOp.Greater or SelectorOp.GreaterOrEqual;
        if (isRange && field.Type is FieldType.Text or FieldType.Enumeration)
            throw new SelectorException(start, $"'{symbol}' compares numbers and versions; {field.Name} is text");
        if (isRange && field.Type == FieldType.Gpu)
            throw new SelectorException(start, $"'{symbol}' does not apply to gpu; use gpu_count for ranges");
        if (op == SelectorOp.Glob && field.Type is FieldType.Number or FieldType.Money)
            throw new SelectorException(start, $"'~' matches text; {field.Name} is a number");
        return op;
    }

    private Literal[] ParseSet(FieldRef field)
    {
        i++; // '('
        var values = new List<Literal>();
        var lastComma = -1;
        while (true)
        {
            SkipSpace();
            if (AtEnd) throw new SelectorException(i, "missing ')'");
            if (Current == ')')
            {
                if (values.Count == 0) throw new SelectorException(i, "empty set: expected a value");
                throw new SelectorException(lastComma, "trailing comma in the set");
            }
            values.Add(ParseValue(field, glob: false));
            SkipSpace();
            if (AtEnd) throw new SelectorException(i, "missing ')'");
            if (Current == ')') { i++; return [.. values]; }
            if (Current != ',') throw new SelectorException(i, $"expected ',' or ')' in the set, found {Show(Current)}");
            lastComma = i++;
        }
    }

    private Literal ParseValue(FieldRef field, bool glob)
    {
        var start = i;
        string raw;
        var quoted = false;
        if (AtEnd) throw new SelectorException(i, "empty value: expected a value");
        if (Current == '"')
        {
            quoted = true;
            var sb = new StringBuilder();
            i++;
            while (true)
            {
                if (AtEnd) throw new SelectorException(start, "unterminated quoted value");
                var c = text[i++];
                if (c == '"') break;
                if (c == '\\' && i < text.Length && text[i] is '"' or '\\') c = text[i++];
                sb.Append(c);
            }
            raw = sb.ToString();
        }
        else
        {
            while (i < text.Length && IsBareValueChar(text[i])) i++;
            if (i == start)
                throw new SelectorException(i, Current is ',' or ')' ? "empty value: expected a value" : $"expected a value, found {Show(Current)}");
            raw = text[start..i];
        }
        var literal = new Literal(raw, start) { Quoted = quoted };
        if (!glob) Type(field, literal);
        return literal;
    }

    // Checks the value against the field's type and fills in its typed form.
    private static void Type(FieldRef field, Literal literal)
    {
        switch (field.Type)
        {
            case FieldType.Enumeration:
                if (Array.IndexOf(field.EnumerationValues!, literal.Lower) < 0)
                    throw new SelectorException(literal.Position, $"{field.Name} is one of {string.Join(", ", field.EnumerationValues!)}, not '{literal.Text}'");
                break;
            case FieldType.Number:
                if (!Literal.TryParseDecimal(literal.Text, out var number))
                    throw new SelectorException(literal.Position, $"{field.Name} compares numbers; '{literal.Text}' is not a number");
                literal.Number = (double)number;
                break;
            case FieldType.Money:
                if (!Literal.TryParseDecimal(literal.Text, out var money))
                    throw new SelectorException(literal.Position, $"{field.Name} compares prices; '{literal.Text}' is not a number");
                literal.Money = money;
                break;
            case FieldType.Version:
                literal.Version = literal.Text.Length > 0 ? VersionValue.Parse(literal.Text) : null;
                break;
            case FieldType.Gpu:
                TypeGpu(literal);
                break;
            case FieldType.Attribute:
                literal.Version = VersionValue.Parse(literal.Text);
                literal.AttributeNumber = Literal.TryParseDecimal(literal.Text, out var attributeNumber) ? attributeNumber : null;
                break;
        }
    }

    private static void TypeGpu(Literal literal)
    {
        var text = literal.Lower;
        var colon = text.LastIndexOf(':');
        if (colon < 0)
        {
            literal.GpuName = text;
            return;
        }
        if (colon == 0) throw new SelectorException(literal.Position, "expected an accelerator name before ':'");
        var count = text[(colon + 1)..];
        if (count.Length == 0) throw new SelectorException(literal.SourceOffset(colon + 1), "expected an accelerator count after ':'");
        if (!int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
            throw new SelectorException(literal.SourceOffset(colon + 1), $"'{count}' is not an accelerator count (a whole number >= 1)");
        literal.GpuName = text[..colon];
        literal.GpuCount = n;
    }

    private void Add(FieldRef field, SelectorOp op, Literal[] values)
    {
        conditions.Add(SelectorConditions.Compile(field, op, values));
        if (field.Indexed is not { } indexed) return;
        // Only conditions that every match must satisfy through one posting key can narrow the candidates.
        // gpu keys are model names: the count ("A100:8") still needs testing.
        var implied = indexed != IndexedField.Gpu;
        var number = conditions.Count - 1;
        if (op == SelectorOp.Equal)
            hints.Add(new IndexHint(indexed, [Key(field, values[0])], null, number, implied));
        else if (op == SelectorOp.In)
            hints.Add(new IndexHint(indexed, [.. values.Select(v => Key(field, v)).Distinct(StringComparer.Ordinal)], null, number, implied));
        else if (op == SelectorOp.Glob)
            hints.Add(new IndexHint(indexed, null, new Glob(values[0].Lower), number, implied));
    }

    private static string Key(FieldRef field, Literal value) => field.Type == FieldType.Gpu ? value.GpuName : value.Lower;
}
