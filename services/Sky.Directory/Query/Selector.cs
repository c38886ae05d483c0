namespace Sky.Directory.Query;

/// <summary>
/// A parsed offer selector, the filter language of QueryOffers and Watch.
/// <para><b>Syntax.</b> Comma-separated clauses that must all hold; whitespace around tokens is ignored;
/// "" (or only whitespace) matches every offer.</para>
/// <list type="table">
/// <item><term><c>field=value</c>, <c>field==value</c>, <c>field!=value</c></term><description>equality / inequality</description></item>
/// <item><term><c>field in (a,b)</c>, <c>field notin (a,b)</c></term><description>set membership; <c>in</c>/<c>notin</c> need a space before them</description></item>
/// <item><term><c>field&lt;v</c>, <c>&lt;=</c>, <c>&gt;</c>, <c>&gt;=</c></term><description>ranges, for numbers, versions and attributes</description></item>
/// <item><term><c>field~glob</c></term><description>glob on text: <c>*</c> any run of characters, <c>?</c> one character, e.g. <c>region~eu-*</c></description></item>
/// <item><term><c>field</c>, <c>!field</c></term><description>presence / absence of a value</description></item>
/// </list>
/// <para>One clause may chain comparisons, which AND together: <c>version&gt;=15 &lt;17</c>, <c>price&gt;1 &lt;=3.5</c>.</para>
/// <para><b>Values.</b> Bare values run up to whitespace or one of <c>, ( ) " = ! &lt; &gt; ~</c>; otherwise quote
/// them: <c>gpu="Gaudi HL-205"</c>, with <c>\"</c> and <c>\\</c> as escapes inside quotes. Text compares
/// case-insensitively. Field names are case-insensitive: letters, digits, <c>_ . -</c>.</para>
/// <para><b>Fields.</b>
/// <c>kind</c> (service_instance | compute), <c>service</c>, <c>name</c>, <c>provider</c>, <c>region</c>, <c>zone</c>,
/// <c>instance_type</c>, <c>arch</c>, <c>origin</c> (text: =, !=, in, notin, ~);
/// <c>availability</c> (available | limited | unavailable; unset reads as available);
/// <c>version</c>, <c>api_version</c> (semantic versions: missing parts are 0 so <c>16</c> equals <c>16.0.0</c>,
/// a leading <c>v</c> and <c>+build</c> are ignored, a pre-release sorts before its release; when either side is
/// not numeric, e.g. <c>v1beta1</c>, the two compare as lower-case text);
/// <c>vcpus</c>, <c>memory</c> (GiB; alias <c>memory_gib</c>), <c>gpu_count</c> (accelerators per node, 0 for none),
/// <c>load</c> (0..1) (numbers);
/// <c>price</c>, <c>spot_price</c> (per hour, compared exactly as decimals with the offer's price);
/// <c>gpu</c> (<c>gpu=A100</c> any count of A100, <c>gpu=A100:8</c> exactly eight, <c>gpu in (A100,H100)</c>,
/// <c>gpu~A100*</c>; no ranges: use gpu_count);
/// <c>attributes.KEY</c>, or any other identifier, names an attribute (ranges compare numbers numerically,
/// otherwise as versions).</para>
/// <para><b>Missing values</b> (empty text, an absent attribute, vcpus or memory 0, unset load or price, no
/// version) satisfy only <c>!=</c>, <c>notin</c>, <c>!field</c> and (text fields) <c>field=""</c>.</para>
/// <para><b>Errors.</b> <see cref="Parse"/> throws <see cref="SelectorException"/> with the 0-based offset of the
/// offending character: an unexpected character, an unknown operator, a missing <c>)</c> (offset = length), an
/// empty value, an empty clause, a trailing comma (the comma's offset), an unterminated quote (the quote's
/// offset), a range on a text field (the operator's offset), a value that is not a number for a numeric
/// field, or a kind / availability outside its set (the value's offset).</para>
/// </summary>
public sealed class Selector
{
    private readonly Condition[] conditions;

    private Selector(string text, Condition[] conditions, IndexHint[] hints)
    {
        Text = text;
        this.conditions = conditions;
        Hints = hints;
    }

    /// <summary>Matches every offer.</summary>
    public static readonly Selector All = new("", [], []);

    /// <summary>The text the selector was parsed from.</summary>
    public string Text { get; }

    /// <summary>True when the selector has no clauses.</summary>
    public bool MatchesAll => conditions.Length == 0;

    /// <summary>Posting lists that can narrow the candidates (equality, in and glob on indexed fields).</summary>
    internal IndexHint[] Hints { get; }

    /// <summary>Parses selector text; throws <see cref="SelectorException"/> when it is malformed.</summary>
    public static Selector Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var (conditions, hints) = new SelectorParser(text).Parse();
        return conditions.Length == 0 && text.Length == 0 ? All : new Selector(text, conditions, hints);
    }

    public bool Matches(OfferView offer)
    {
        var c = conditions;
        for (var i = 0; i < c.Length; i++)
            if (!c[i].Matches(offer)) return false;
        return true;
    }

    /// <summary>The conditions to test on offers drawn from the given hints' posting lists (without those the lists imply).</summary>
    internal Condition[] ConditionsBeside(IEnumerable<IndexHint> hints)
    {
        var skip = new HashSet<int>();
        foreach (var hint in hints)
            if (hint.Implied) skip.Add(hint.Condition);
        if (skip.Count == 0) return conditions;
        var rest = new List<Condition>(conditions.Length);
        for (var i = 0; i < conditions.Length; i++)
            if (!skip.Contains(i)) rest.Add(conditions[i]);
        return [.. rest];
    }

    public override string ToString() => Text;
}
