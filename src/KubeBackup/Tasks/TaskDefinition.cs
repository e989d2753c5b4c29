using System.Text.Json.Nodes;

namespace KubeBackup.Tasks;

/// <summary>An ordered list of function steps, run once per target. Data steps (backups, restores) come first; hooks
/// wrap them; maintenance (retention, check, drills) and status steps follow.</summary>
public sealed class TaskDefinition
{
    /// <summary>The steps in order.</summary>
    public List<TaskStep> Steps { get; set; } = [];
}

/// <summary>One step: a function by name, with parameters whose strings may refer to <c>${VARIABLES}</c>.</summary>
public sealed class TaskStep
{
    /// <summary>The registered name of the function, for example <c>stream-backup</c>.</summary>
    public string Function { get; set; } = "";

    /// <summary>A name for results and logs; default: the function name.</summary>
    public string? Name { get; set; }

    /// <summary>The parameters: strings, numbers, booleans, lists and maps. Each function says which it takes.</summary>
    public Dictionary<string, JsonNode?> Params { get; set; } = [];

    /// <summary>When the step runs, judged on the target's outcome so far; default: the function's own default
    /// (<c>update-status</c> runs always, everything else on success).</summary>
    public ExecutionPolicy? When { get; set; }

    /// <summary>The name used in results.</summary>
    public string DisplayName => string.IsNullOrEmpty(Name) ? Function : Name;

    /// <inheritdoc />
    public override string ToString() => $"step {DisplayName}";
}

/// <summary>When a step or a post hook runs, judged on what happened before it.</summary>
public enum ExecutionPolicy
{
    /// <summary>Only while nothing has failed.</summary>
    OnSuccess,

    /// <summary>In any case.</summary>
    Always,

    /// <summary>Only after a failure (for notifications and clean-up).</summary>
    OnFailure,
}
