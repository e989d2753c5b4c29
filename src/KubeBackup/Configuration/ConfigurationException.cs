namespace KubeBackup.Configuration;

/// <summary>A configuration, task or parameter is invalid: unknown function, unknown variable, a missing or
/// mistyped parameter, an unreadable file. Nothing was run.</summary>
public class ConfigurationException : KubeBackupException
{
    /// <summary>Creates the exception with one problem.</summary>
    public ConfigurationException(string message) : this(message, (Exception?)null)
    {
    }

    /// <summary>Creates the exception with one problem and its cause.</summary>
    public ConfigurationException(string message, Exception? innerException) : base(message, innerException)
    {
        Problems = [message];
    }

    /// <summary>Creates the exception listing every problem found.</summary>
    public ConfigurationException(IReadOnlyList<string> problems)
        : base(problems is null || problems.Count == 0 ? "The configuration is invalid." : problems.Count == 1 ? problems[0]
            : "The configuration is invalid:" + string.Concat(problems.Select(p => "\n  - " + p)))
    {
        Problems = problems ?? [];
    }

    /// <summary>Each problem, one sentence each.</summary>
    public IReadOnlyList<string> Problems { get; }
}
