using System.Globalization;
using System.Text;
using KubeBackup.Configuration;
using KubeBackup.Sessions;

namespace KubeBackup.Kubernetes.Crds;

/// <summary>Writes a session runner's result as a BackupSession's status, so an operator reports in the cluster exactly
/// what the runner decided (failures with their reasons, hooks with their outcomes).</summary>
public static class SessionStatusMapper
{
    /// <summary>The status of a finished (or running) backup session.</summary>
    /// <param name="session">The runner's result.</param>
    /// <param name="configuration">The configuration it ran (for the targets' kinds); null reports kinds as unknown.</param>
    public static BackupSessionStatus ToStatus(BackupSession session, BackupConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        var status = new BackupSessionStatus
        {
            Phase = session.Phase.ToString(),
            Reason = session.Reason,
            StartTime = session.StartedAt,
            CompletionTime = session.FinishedAt,
            Duration = session.FinishedAt is null ? null : GoDuration(session.Duration),
            Targets = [],
            Hooks = [],
        };
        foreach (var target in session.Targets)
        {
            var failures = target.Failures.Concat(target.Problems).ToList();
            status.Targets.Add(new TargetStatus
            {
                Kind = configuration?.Targets.FirstOrDefault(t => t.Name == target.Name)?.Kind ?? "Unknown",
                Name = target.Name,
                Phase = target.Phase.ToString(),
                Reason = failures.Count == 0 ? null : string.Join("; ", failures),
            });
            foreach (var hook in target.Hooks)
            {
                status.Hooks.Add(new HookStatus
                {
                    Name = hook.Name,
                    Pod = target.Name,
                    Phase = hook.Skipped ? "Skipped" : hook.Succeeded ? "Succeeded" : "Failed",
                    Error = hook.Error,
                });
            }
        }

        bool done = session.FinishedAt is not null;
        status.Conditions =
        [
            new ResourceCondition
            {
                Type = "Completed",
                Status = done ? "True" : "False",
                Reason = session.Phase.ToString(),
                Message = session.Reason,
                LastTransitionTime = session.FinishedAt ?? session.StartedAt,
            },
        ];
        return status;
    }

    /// <summary>A duration as Go prints it (<c>1h2m3.5s</c>, <c>850ms</c>).</summary>
    public static string GoDuration(TimeSpan value)
    {
        if (value < TimeSpan.FromSeconds(1))
        {
            return ((long)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
        }

        var text = new StringBuilder();
        if (value.TotalHours >= 1)
        {
            text.Append(((long)value.TotalHours).ToString(CultureInfo.InvariantCulture)).Append('h');
        }

        if (value.TotalMinutes >= 1)
        {
            text.Append(value.Minutes.ToString(CultureInfo.InvariantCulture)).Append('m');
        }

        double seconds = value.Seconds + value.Milliseconds / 1000.0;
        text.Append(seconds.ToString("0.###", CultureInfo.InvariantCulture)).Append('s');
        return text.ToString();
    }
}
