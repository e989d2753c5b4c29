using KubeBackup.Configuration;
using KubeBackup.Functions;

namespace KubeBackup.Tasks;

/// <summary>The task a target runs when neither it nor its configuration names one.</summary>
public static class DefaultTasks
{
    /// <summary>For the restic driver: <c>file-backup</c>, then <c>retention-apply</c> when a retention is configured,
    /// then <c>update-status</c>.</summary>
    public static TaskDefinition For(BackupConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration.Driver != BackupDriver.Restic)
        {
            throw new ConfigurationException($"The {configuration.Driver} driver has no task in this package; it needs the Kubernetes package.");
        }

        var task = new TaskDefinition();
        task.Steps.Add(new TaskStep { Function = FunctionRegistry.FileBackup });
        if (configuration.Retention is { IsEmpty: false })
        {
            task.Steps.Add(new TaskStep { Function = FunctionRegistry.RetentionApply });
        }

        task.Steps.Add(new TaskStep { Function = FunctionRegistry.UpdateStatus });
        return task;
    }

    /// <summary>The backup task of a target: its own, the configuration's, or the default.</summary>
    public static TaskDefinition BackupTaskOf(BackupConfiguration configuration, BackupTarget target)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(target);
        string? name = target.Task ?? configuration.Task;
        return name is null ? For(configuration) : Lookup(configuration, name, target);
    }

    /// <summary>The restore task of a target: its own or the configuration's; there is no default.</summary>
    public static TaskDefinition RestoreTaskOf(BackupConfiguration configuration, BackupTarget target)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(target);
        string? name = target.RestoreTask ?? configuration.RestoreTask;
        return name is null
            ? throw new ConfigurationException($"Target '{target.Name}' has no restore task (set restoreTask on it or on the configuration).")
            : Lookup(configuration, name, target);
    }

    private static TaskDefinition Lookup(BackupConfiguration configuration, string name, BackupTarget target) =>
        configuration.Tasks.TryGetValue(name, out var task) ? task
            : throw new ConfigurationException($"Target '{target.Name}' refers to task '{name}', which the configuration does not define.");
}
