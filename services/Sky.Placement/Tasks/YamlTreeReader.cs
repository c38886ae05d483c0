using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using static Sky.Placement.Tasks.YamlScalars;

namespace Sky.Placement.Tasks;

/// <summary>One `---` document: its root (a null scalar when the document is empty) and where it starts.</summary>
internal sealed record YamlDocument(YamlValue Root, int Line, int Column)
{
    public bool IsEmpty => Root is YamlScalar { IsNull: true };
}

/// <summary>
/// Builds <see cref="YamlValue"/> trees from YamlDotNet's event stream, resolving scalars as PyYAML does, applying
/// merge keys (<c>&lt;&lt;</c>) and keeping every position. It never recurses, refuses nesting deeper than
/// <see cref="MaxDepth"/>, and counts aliases at their expanded size, so an alias bomb is refused after a bounded
/// amount of work instead of being expanded.
/// </summary>
internal sealed class YamlTreeReader
{
    /// <summary>Task YAML nests a handful of levels; Kubernetes pod configs kept under `config` a dozen or so.</summary>
    public const int MaxDepth = 64;

    /// <summary>Nodes a file may hold with every alias expanded; a 1 MiB task file written by hand has a few thousand.</summary>
    public const long MaxExpandedNodes = 250_000;

    private const string YamlTagPrefix = "tag:yaml.org,2002:";

    private readonly ErrorSink _errors;
    private readonly Dictionary<string, YamlValue> _anchors = new(StringComparer.Ordinal);
    private readonly Stack<Frame> _open = new();
    private readonly List<YamlDocument> _documents = [];
    private long _totalSize;
    private YamlValue? _root;
    private (int Line, int Column) _documentStart;

    private YamlTreeReader(ErrorSink errors) => _errors = errors;

    /// <summary>The documents of <paramref name="text"/>, or null after recording a syntax error or an exceeded limit.</summary>
    public static IReadOnlyList<YamlDocument>? Read(string text, ErrorSink errors)
    {
        var reader = new YamlTreeReader(errors);
        var parser = new Parser(new StringReader(text));
        var last = (Line: 1, Column: 1);
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = parser.MoveNext();
                }
                catch (Exception e) when (e is InvalidOperationException or ArgumentException)
                {
                    // YamlDotNet's scanner throws these (not YamlException) on some malformed input, e.g. a flow
                    // sequence left open before a plain scalar, or a tag handle it cannot hold.
                    errors.Add(last.Line, last.Column, "", "YAML syntax: the YAML cannot be read after this point");
                    return null;
                }
                if (!more) return reader._documents;
                last = Position(parser.Current!.End);
                reader.On(parser.Current);
            }
        }
        catch (YamlException e)
        {
            var (line, column) = Position(e.Start);
            errors.Add(line, column, "", $"YAML syntax: {e.Message}");
            return null;
        }
        catch (LimitExceeded e)
        {
            errors.Add(e.Line, e.Column, "", e.Message);
            return null;
        }
    }

    private void On(ParsingEvent e)
    {
        switch (e)
        {
            case DocumentStart:
                _anchors.Clear();
                _root = null;
                _documentStart = Position(e.Start);
                break;
            case DocumentEnd:
                var (line, column) = _documentStart;
                _documents.Add(new YamlDocument(_root ?? new YamlScalar("", YamlScalarKind.Null, line, column), line, column));
                break;
            case Scalar scalar:
                Complete(ReadScalar(scalar), scalar.Anchor);
                break;
            case AnchorAlias alias:
                Complete(Dereference(alias), AnchorName.Empty);
                break;
            case SequenceStart start:
                Open(new Frame(isMapping: false, start.Anchor, Position(start.Start)), start.Tag, isMapping: false);
                break;
            case MappingStart start:
                Open(new Frame(isMapping: true, start.Anchor, Position(start.Start)), start.Tag, isMapping: true);
                break;
            case SequenceEnd or MappingEnd:
                var frame = _open.Pop();
                Complete(frame.Build(_errors), frame.Anchor);
                break;
        }
    }

    private void Open(Frame frame, TagName tag, bool isMapping)
    {
        if (_open.Count >= MaxDepth)
            throw new LimitExceeded(frame.Line, frame.Column, $"the YAML nests deeper than {MaxDepth} levels");
        if (!tag.IsEmpty && tag.Value != "!")
        {
            var allowed = isMapping ? new[] { "map", "set" } : ["seq", "omap"];
            if (!tag.Value.StartsWith(YamlTagPrefix, StringComparison.Ordinal) || !allowed.Contains(tag.Value[YamlTagPrefix.Length..]))
                _errors.Add(frame.Line, frame.Column, "", $"unsupported YAML tag '{Shorten(ShortTag(tag))}' on {(isMapping ? "a mapping" : "a list")}");
        }
        _open.Push(frame);
    }

    private YamlScalar ReadScalar(Scalar scalar)
    {
        var (line, column) = Position(scalar.Start);
        var plainKind = YamlScalars.ResolvePlain(scalar.Value);
        var kind = scalar.Style == ScalarStyle.Plain ? plainKind : YamlScalarKind.String;
        if (!scalar.Tag.IsEmpty)
        {
            var tag = scalar.Tag.Value;
            var wanted = tag == "!" ? YamlScalarKind.String : tag switch
            {
                YamlTagPrefix + "str" => YamlScalarKind.String,
                YamlTagPrefix + "null" => YamlScalarKind.Null,
                YamlTagPrefix + "bool" => YamlScalarKind.Bool,
                YamlTagPrefix + "int" => YamlScalarKind.Int,
                YamlTagPrefix + "float" => YamlScalarKind.Float,
                _ => (YamlScalarKind?)null,
            };
            if (wanted is null)
            {
                _errors.Add(line, column, "", $"unsupported YAML tag '{Shorten(ShortTag(scalar.Tag))}'");
                kind = YamlScalarKind.String;
            }
            else if (wanted is YamlScalarKind.String)
            {
                kind = YamlScalarKind.String;
            }
            else
            {
                var fits = plainKind == wanted || (wanted == YamlScalarKind.Float && plainKind == YamlScalarKind.Int);
                if (!fits) _errors.Add(line, column, "", $"'{Shorten(scalar.Value)}' is not a valid {ShortTag(scalar.Tag)}");
                kind = fits ? wanted.Value : YamlScalarKind.String;
            }
        }
        return new YamlScalar(scalar.Value, kind, line, column);
    }

    private YamlValue Dereference(AnchorAlias alias)
    {
        if (_anchors.TryGetValue(alias.Value.Value, out var target)) return target;
        var (line, column) = Position(alias.Start);
        // Anchors are registered when their node is complete, so an alias inside its own anchor lands here too.
        _errors.Add(line, column, "", $"alias '*{Shorten(alias.Value.Value)}' refers to no anchor defined before it");
        return new YamlScalar("", YamlScalarKind.Null, line, column);
    }

    private void Complete(YamlValue node, AnchorName anchor)
    {
        if (!anchor.IsEmpty) _anchors[anchor.Value] = node;
        if (_open.Count == 0)
        {
            _totalSize += node.ExpandedSize;
            CheckSize(_totalSize, node);
            _root = node;
            return;
        }
        var parent = _open.Peek();
        parent.Add(node, _errors);
        CheckSize(parent.Size, node);
    }

    private static void CheckSize(long size, YamlValue at)
    {
        if (size > MaxExpandedNodes)
            throw new LimitExceeded(at.Line, at.Column, $"the YAML holds more than {MaxExpandedNodes} nodes (aliases counted as expanded)");
    }

    private static (int Line, int Column) Position(Mark mark) => ((int)Math.Max(1, mark.Line), (int)Math.Max(1, mark.Column));

    private static string ShortTag(TagName tag) =>
        tag.Value.StartsWith(YamlTagPrefix, StringComparison.Ordinal) ? "!!" + tag.Value[YamlTagPrefix.Length..] : tag.Value;

    /// <summary>A sequence or mapping being read.</summary>
    private sealed class Frame(bool isMapping, AnchorName anchor, (int Line, int Column) start)
    {
        private readonly List<YamlValue> _items = [];
        private readonly List<(YamlScalar Key, YamlValue Value, bool Merge)> _entries = [];
        private YamlScalar? _pendingKey;
        private bool _pendingMerge;
        private bool _pendingSkip;

        public AnchorName Anchor { get; } = anchor;
        public int Line { get; } = start.Line;
        public int Column { get; } = start.Column;
        public long Size { get; private set; } = 1;

        public void Add(YamlValue node, ErrorSink errors)
        {
            Size += node.ExpandedSize;
            if (!isMapping)
            {
                _items.Add(node);
                return;
            }
            if (_pendingKey is null && !_pendingSkip)
            {
                if (node is YamlScalar key)
                {
                    _pendingKey = key;
                    _pendingMerge = key is { Text: "<<", Kind: YamlScalarKind.String };
                }
                else
                {
                    errors.Add(node, "", $"a mapping key must be a scalar, not {node.Describe()}");
                    _pendingSkip = true;
                }
                return;
            }
            if (_pendingKey is not null) _entries.Add((_pendingKey, node, _pendingMerge));
            _pendingKey = null;
            _pendingSkip = false;
        }

        public YamlValue Build(ErrorSink errors)
        {
            if (!isMapping) return new YamlSequence(_items, Line, Column) { ExpandedSize = Size };

            var explicitEntries = new List<YamlEntry>();
            var seen = new Dictionary<string, YamlEntry>(StringComparer.Ordinal);
            var sources = new List<YamlMapping>();
            foreach (var (key, value, merge) in _entries)
            {
                if (merge)
                {
                    AddMergeSources(value, sources, errors);
                    continue;
                }
                if (seen.TryGetValue(key.Text, out var first))
                {
                    // PyYAML lets the last value win silently; we refuse, except a repeated member of a set
                    // ({A100:1, A100:1}: both values null), which loses nothing.
                    if (!(value is YamlScalar { IsNull: true } && first.Value is YamlScalar { IsNull: true }))
                        errors.Add(key, "", $"duplicate key '{Shorten(key.Text)}' (first at line {first.Key.Line}, column {first.Key.Column})");
                    continue;
                }
                var entry = new YamlEntry(key, value);
                seen.Add(key.Text, entry);
                explicitEntries.Add(entry);
            }

            // As PyYAML: merged keys come first, an explicit key wins over a merged one, an earlier source over a later.
            var entries = new List<YamlEntry>();
            foreach (var entry in sources.SelectMany(s => s.Entries))
            {
                if (!seen.TryAdd(entry.Key.Text, entry)) continue;
                entries.Add(entry);
            }
            entries.AddRange(explicitEntries);
            return new YamlMapping(entries, Line, Column) { ExpandedSize = Size };
        }

        private static void AddMergeSources(YamlValue value, List<YamlMapping> sources, ErrorSink errors)
        {
            switch (value)
            {
                case YamlMapping mapping:
                    sources.Add(mapping);
                    break;
                case YamlSequence sequence when sequence.Items.All(i => i is YamlMapping):
                    sources.AddRange(sequence.Items.Cast<YamlMapping>());
                    break;
                default:
                    errors.Add(value, "", $"a merge key '<<' needs a mapping or a list of mappings, not {value.Describe()}");
                    break;
            }
        }
    }

    private sealed class LimitExceeded(int line, int column, string message) : Exception(message)
    {
        public int Line { get; } = line;
        public int Column { get; } = column;
    }
}
