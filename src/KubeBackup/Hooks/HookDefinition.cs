using KubeBackup.Tasks;

namespace KubeBackup.Hooks;

/// <summary>The hooks of a configuration, by phase; several per phase run in the order given.</summary>
public sealed class HookSet
{
    /// <summary>Before the data steps of a backup (for example: flush a database, or hold a backup mode open).</summary>
    public List<HookDefinition> PreBackup { get; set; } = [];

    /// <summary>After the data steps of a backup.</summary>
    public List<HookDefinition> PostBackup { get; set; } = [];

    /// <summary>Before the data steps of a restore.</summary>
    public List<HookDefinition> PreRestore { get; set; } = [];

    /// <summary>After the data steps of a restore.</summary>
    public List<HookDefinition> PostRestore { get; set; } = [];

    /// <summary>The hooks of one phase.</summary>
    public List<HookDefinition> Of(HookPhase phase) => phase switch
    {
        HookPhase.PreBackup => PreBackup,
        HookPhase.PostBackup => PostBackup,
        HookPhase.PreRestore => PreRestore,
        HookPhase.PostRestore => PostRestore,
        _ => throw new ArgumentOutOfRangeException(nameof(phase)),
    };
}

/// <summary>
/// One hook: a command (argv; no shell unless the command is one), an HTTP request, or a hold-open command (a command
/// that signals ready, is kept running while the data steps run, and is released afterwards). Exactly one of
/// <see cref="Command"/> and <see cref="Http"/> is set; <see cref="HoldOpen"/> turns the command into a hold-open hook.
/// </summary>
public sealed class HookDefinition
{
    /// <summary>The hook's name in results and metrics.</summary>
    public string Name { get; set; } = "";

    /// <summary>The command and its arguments. <c>${VARIABLES}</c> are resolved in each argument.</summary>
    public List<string>? Command { get; set; }

    /// <summary>An HTTP request instead of a command.</summary>
    public HttpHookAction? Http { get; set; }

    /// <summary>Makes <see cref="Command"/> a hold-open hook (pre phases only).</summary>
    public HoldOpenOptions? HoldOpen { get; set; }

    /// <summary>What a failure of this hook does to the session.</summary>
    public HookErrorMode OnError { get; set; } = HookErrorMode.Fail;

    /// <summary>The longest the hook may run; then it is stopped and counts as failed. For a hold-open hook this is the
    /// wait for its ready signal.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>For post hooks: run after success, after failure, or always.</summary>
    public ExecutionPolicy When { get; set; } = ExecutionPolicy.Always;

    /// <summary>Where the command runs. Core runs commands on this machine and ignores nothing silently: a container
    /// needs an executor that knows containers (the Kubernetes package).</summary>
    public string? Container { get; set; }

    /// <summary>Extra environment variables for the command (values may refer to <c>${VARIABLES}</c>).</summary>
    public Dictionary<string, string> Environment { get; set; } = [];

    /// <summary>The command's working folder; default: the host's.</summary>
    public string? WorkingDirectory { get; set; }

    /// <summary>What kind of hook this is.</summary>
    public HookKind Kind => Http is not null ? HookKind.Http : HoldOpen is not null ? HookKind.HoldOpen : HookKind.Command;

    /// <inheritdoc />
    public override string ToString() => $"hook {Name} ({Kind})";
}

/// <summary>A hook's kind.</summary>
public enum HookKind
{
    /// <summary>A command that runs to its end.</summary>
    Command,

    /// <summary>An HTTP request.</summary>
    Http,

    /// <summary>A command kept running across the data steps.</summary>
    HoldOpen,
}

/// <summary>When a hook runs.</summary>
public enum HookPhase
{
    /// <summary>Before a backup's data steps.</summary>
    PreBackup,

    /// <summary>After a backup's data steps.</summary>
    PostBackup,

    /// <summary>Before a restore's data steps.</summary>
    PreRestore,

    /// <summary>After a restore's data steps.</summary>
    PostRestore,
}

/// <summary>What a failed hook does.</summary>
public enum HookErrorMode
{
    /// <summary>The target fails. A failing pre hook stops it before any data is written.</summary>
    Fail,

    /// <summary>The target goes on; the failure is recorded and makes the outcome PartiallyFailed at best.</summary>
    Continue,
}

/// <summary>An HTTP hook.</summary>
public sealed class HttpHookAction
{
    /// <summary>The absolute http or https URL (<c>${VARIABLES}</c> resolved).</summary>
    public string Url { get; set; } = "";

    /// <summary><c>GET</c> or <c>POST</c>.</summary>
    public string Method { get; set; } = "GET";

    /// <summary>The body of a POST.</summary>
    public string? Body { get; set; }

    /// <summary>The body's content type.</summary>
    public string ContentType { get; set; } = "application/json";

    /// <summary>Request headers (for example an authorization header; they are never recorded in results).</summary>
    public Dictionary<string, string> Headers { get; set; } = [];
}

/// <summary>How a hold-open hook signals ready and is released.</summary>
public sealed class HoldOpenOptions
{
    /// <summary>A regular expression; the hook is ready when a line of its standard output matches it.</summary>
    public string ReadyPattern { get; set; } = "";

    /// <summary>Text written to the command's standard input when it starts (for example the SQL that enters a backup
    /// mode, followed by <c>\echo ready</c>); the input stays open until the release.</summary>
    public string? Input { get; set; }

    /// <summary>Text written to standard input at the release, before it is closed (for example the SQL that leaves
    /// the backup mode).</summary>
    public string? ReleaseInput { get; set; }

    /// <summary>How the hook is told the data steps are done.</summary>
    public HoldReleaseMode Release { get; set; } = HoldReleaseMode.CloseInput;

    /// <summary>How long the hook may take to exit once released; then it is killed and counts as failed.</summary>
    public TimeSpan ReleaseTimeout { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>How a hold-open hook is released.</summary>
public enum HoldReleaseMode
{
    /// <summary>Its standard input is closed (a <c>psql</c> session then ends its transaction and exits).</summary>
    CloseInput,

    /// <summary>It gets SIGTERM.</summary>
    Terminate,

    /// <summary>It gets SIGINT.</summary>
    Interrupt,
}
