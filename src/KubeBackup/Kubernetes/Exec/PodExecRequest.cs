namespace KubeBackup.Kubernetes.Exec;

/// <summary>What to do with a command's standard output.</summary>
public enum ExecOutputMode
{
    /// <summary>Keep the first <see cref="PodExecRequest.MaxCapturedBytes"/> bytes (the rest is counted and dropped).</summary>
    Capture,

    /// <summary>Hand it out as a stream (<see cref="PodExecSession.StandardOutput"/>), with back-pressure: nothing is
    /// dropped, and the command is slowed down to the reader's pace.</summary>
    Stream,

    /// <summary>Count it and drop it.</summary>
    Discard,
}

/// <summary>A command to run in a pod's container (argv, no shell).</summary>
public sealed class PodExecRequest
{
    /// <summary>The pod's namespace.</summary>
    public required string Namespace { get; init; }

    /// <summary>The pod.</summary>
    public required string Pod { get; init; }

    /// <summary>The container; null picks the pod's first container, as kubectl does.</summary>
    public string? Container { get; init; }

    /// <summary>The argv. It is sent in the request URL and shows in the API server's audit log: never put a secret here.</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>Whether the command gets a standard input to write to (see <see cref="PodExecSession.WriteStdinAsync"/>).
    /// A command that reads its input to the end needs the v5 protocol, which can close it.</summary>
    public bool Stdin { get; init; }

    /// <summary>What to do with standard output. Default: capture.</summary>
    public ExecOutputMode Stdout { get; init; } = ExecOutputMode.Capture;

    /// <summary>How much of captured stdout and stderr is kept. Default 1 MiB.</summary>
    public int MaxCapturedBytes { get; init; } = 1024 * 1024;

    /// <summary>The whole command's time limit; null for none.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>For messages and logs: the pod, the container and the program, never the arguments (they may carry data
    /// a user typed).</summary>
    public override string ToString() => $"'{Command.FirstOrDefault()}' in {Namespace}/{Pod}{(Container is null ? "" : "/" + Container)}";
}

/// <summary>How a command in a pod ended.</summary>
public sealed class PodExecResult
{
    /// <summary>The exit code; null if it is unknown (the connection ended without a status, or the command could not start).</summary>
    public int? ExitCode { get; init; }

    /// <summary>Whether the command ran and exited with 0.</summary>
    public bool Succeeded => ExitCode == 0;

    /// <summary>Why it did not succeed, in words; null on success.</summary>
    public string? FailureReason { get; init; }

    /// <summary>Captured stdout (<see cref="ExecOutputMode.Capture"/> only).</summary>
    public byte[] Stdout { get; init; } = [];

    /// <summary>Captured stdout as UTF-8 text.</summary>
    public string StdoutText => System.Text.Encoding.UTF8.GetString(Stdout);

    /// <summary>Captured stderr (always captured, up to the limit).</summary>
    public byte[] Stderr { get; init; } = [];

    /// <summary>Captured stderr as UTF-8 text.</summary>
    public string StderrText => System.Text.Encoding.UTF8.GetString(Stderr);

    /// <summary>Bytes the command wrote to stdout, all of them, kept or not.</summary>
    public long StdoutBytes { get; init; }

    /// <summary>Bytes written to the command's stdin.</summary>
    public long StdinBytes { get; init; }

    /// <summary>The exec sub-protocol used (<c>v5.channel.k8s.io</c> or <c>v4.channel.k8s.io</c>).</summary>
    public string Protocol { get; init; } = "";

    /// <summary>How long the command ran.</summary>
    public TimeSpan Duration { get; init; }
}

/// <summary>Running a command in a pod failed before it could report an exit code, or it did not succeed where success was required.</summary>
public sealed class PodExecException : KubeBackupException
{
    /// <summary>Creates the exception.</summary>
    public PodExecException(string message, PodExecResult? result = null, Exception? innerException = null) : base(message, innerException)
    {
        Result = result;
    }

    /// <summary>How the command ended, if it ran.</summary>
    public PodExecResult? Result { get; }
}
