namespace Sky.Placement.Tasks;

/// <summary>
/// One problem in a task YAML: where it is (file, 1-based line and column), which field (dotted path, e.g.
/// "resources.any_of[2].infra"; empty for the document itself) and what is wrong.
/// </summary>
public sealed record TaskYamlError(string File, int Line, int Column, string FieldPath, string Message)
{
    /// <summary>"task.yaml:12:5" — the position as the placement contract's field violations name it.</summary>
    public string Position => $"{File}:{Line}:{Column}";

    /// <summary>"task.yaml:12:5: resources.cpus: '8++' is not a number, 'N' or 'N+'".</summary>
    public override string ToString() =>
        FieldPath.Length == 0 ? $"{Position}: {Message}" : $"{Position}: {FieldPath}: {Message}";
}

/// <summary>
/// A task YAML that cannot be used: every error found in the file (syntax errors stop the reading, so a syntax
/// error comes alone), in order of position.
/// </summary>
public sealed class TaskYamlException : Exception
{
    public TaskYamlException(IReadOnlyList<TaskYamlError> errors)
        : base(string.Join('\n', errors))
    {
        if (errors.Count == 0) throw new ArgumentException("A task YAML exception needs at least one error.", nameof(errors));
        Errors = errors;
    }

    public IReadOnlyList<TaskYamlError> Errors { get; }
}

/// <summary>Collects errors while a file is read, so that one pass reports them all (once each).</summary>
internal sealed class ErrorSink(string file)
{
    // A pathological file could yield an error per node; past this many the rest add nothing a user can act on.
    public const int MaxErrors = 200;

    private readonly List<TaskYamlError> _errors = [];
    private readonly HashSet<TaskYamlError> _seen = [];
    private bool _truncated;

    public string File { get; } = file;
    public bool HasErrors => _errors.Count > 0;
    /// <summary>Errors listed so far (to tell whether reading one value added any).</summary>
    public int Count => _errors.Count;

    /// <summary>No further error will be listed, so a costly message need not be composed (the drop is still noted).</summary>
    public bool IsFull
    {
        get
        {
            if (_errors.Count < MaxErrors) return false;
            _truncated = true;
            return true;
        }
    }

    public void Add(YamlValue at, string fieldPath, string message) => Add(at.Line, at.Column, fieldPath, message);

    public void Add(int line, int column, string fieldPath, string message)
    {
        var error = new TaskYamlError(File, line, column, fieldPath, message);
        if (_errors.Count >= MaxErrors)
        {
            _truncated = true;
            return;
        }
        // Base resource fields are read once per candidate; an error in them is still one error.
        if (_seen.Add(error)) _errors.Add(error);
    }

    public TaskYamlException ToException()
    {
        var ordered = _errors.OrderBy(e => e.Line).ThenBy(e => e.Column).ToList();
        if (_truncated)
        {
            var last = ordered[^1];
            ordered.Add(last with { FieldPath = "", Message = $"more than {MaxErrors} errors; the rest are not listed" });
        }
        return new TaskYamlException(ordered);
    }

    public void ThrowIfAny()
    {
        if (HasErrors) throw ToException();
    }
}
