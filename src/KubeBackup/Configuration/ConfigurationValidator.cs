using System.Text.RegularExpressions;
using KubeBackup.Hooks;
using KubeBackup.Scheduling;
using KubeBackup.Tasks;

namespace KubeBackup.Configuration;

/// <summary>The checks that need no repository and no function registry; the session runner adds the rest (functions
/// and their parameters) when it plans each target.</summary>
internal static class ConfigurationValidator
{
    public static void Validate(BackupConfiguration c, IReadOnlyCollection<string>? functionNames)
    {
        var p = new List<string>();
        if (string.IsNullOrWhiteSpace(c.Name))
        {
            p.Add("name is required");
        }

        if (string.IsNullOrWhiteSpace(c.Repository?.Location))
        {
            p.Add("repository.location is required");
        }

        if (c.Repository?.Password is not { IsSet: true })
        {
            p.Add("repository.password must name a source (env, file or command)");
        }

        if (c.Targets.Count == 0)
        {
            p.Add("targets: at least one target is required");
        }

        foreach (var dup in c.Targets.GroupBy(t => t.Name).Where(g => g.Count() > 1))
        {
            p.Add($"targets: the name '{dup.Key}' is used {dup.Count()} times");
        }

        var baseVariables = new HashSet<string>(TaskVariables.BuiltIn.Concat(c.Variables.Keys), StringComparer.Ordinal);
        foreach (var t in c.Targets)
        {
            if (string.IsNullOrWhiteSpace(t.Name))
            {
                p.Add("targets: every target needs a name");
                continue;
            }

            string? task = t.Task ?? c.Task;
            if (task is not null && !c.Tasks.ContainsKey(task))
            {
                p.Add($"target '{t.Name}': task '{task}' is not defined under tasks");
            }

            string? restoreTask = t.RestoreTask ?? c.RestoreTask;
            if (restoreTask is not null && !c.Tasks.ContainsKey(restoreTask))
            {
                p.Add($"target '{t.Name}': restore task '{restoreTask}' is not defined under tasks");
            }

            if (task is null && c.Driver == BackupDriver.Restic && t.Paths.Count == 0)
            {
                p.Add($"target '{t.Name}': the default task backs up paths, and the target has none (give paths or a task)");
            }

            var known = new HashSet<string>(baseVariables.Concat(t.Variables.Keys), StringComparer.Ordinal);
            var used = new List<TaskDefinition>();
            if (task is not null && c.Tasks.TryGetValue(task, out var td))
            {
                used.Add(td);
            }

            if (restoreTask is not null && c.Tasks.TryGetValue(restoreTask, out var rd))
            {
                used.Add(rd);
            }

            foreach (var td2 in used)
            {
                foreach (var step in td2.Steps)
                {
                    foreach (var (key, value) in step.Params)
                    {
                        CheckReferences(VariableResolver.References(value, key), known, $"target '{t.Name}', step '{step.DisplayName}', parameter '{key}'", p);
                    }
                }
            }

            foreach (var phase in Enum.GetValues<HookPhase>())
            {
                foreach (var hook in c.Hooks.Of(phase))
                {
                    var texts = (hook.Command ?? []).Concat(hook.Environment.Values)
                        .Concat(hook.Http is null ? [] : [hook.Http.Url, hook.Http.Body ?? "", .. hook.Http.Headers.Values])
                        .Concat(hook.HoldOpen is null ? [] : [hook.HoldOpen.Input ?? "", hook.HoldOpen.ReleaseInput ?? ""]);
                    CheckReferences(texts.SelectMany(s => VariableResolver.References(s, hook.Name)), known, $"target '{t.Name}', hook '{hook.Name}'", p);
                }
            }
        }

        foreach (var (name, task) in c.Tasks)
        {
            if (task.Steps.Count == 0)
            {
                p.Add($"task '{name}' has no steps");
            }

            foreach (var step in task.Steps)
            {
                if (string.IsNullOrWhiteSpace(step.Function))
                {
                    p.Add($"task '{name}': every step needs a function");
                }
                else if (functionNames is not null && !functionNames.Contains(step.Function))
                {
                    p.Add($"task '{name}': unknown function '{step.Function}'");
                }
            }
        }

        foreach (var phase in Enum.GetValues<HookPhase>())
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var hook in c.Hooks.Of(phase))
            {
                ValidateHook(hook, phase, names, p);
            }
        }

        p.AddRange(c.Completeness.Problems());
        if (c.Retry.MaxAttempts < 1)
        {
            p.Add("retry.maxAttempts must be at least 1");
        }

        if (c.Retry.Delay < TimeSpan.Zero)
        {
            p.Add("retry.delay must not be negative");
        }

        if (c.HistoryLimit < 0)
        {
            p.Add("historyLimit must not be negative");
        }

        if (c.Timeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            p.Add("timeout must be positive");
        }

        if (c.Retention is { IsEmpty: true })
        {
            p.Add("retention has no keep rule (keepLast, keepDaily, …): it would remove every snapshot");
        }
        else if (c.Retention is { } retention)
        {
            try
            {
                Functions.ResticRetentionRunner.ToPolicy(retention).Validate();
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException)
            {
                p.Add($"retention: {ex.Message}");
            }
        }

        if (c.Schedule is not null)
        {
            try
            {
                CronSchedule.Parse(c.Schedule, c.Name, c.TimeZone);
            }
            catch (FormatException ex)
            {
                p.Add($"schedule: {ex.Message}");
            }
        }

        if (p.Count > 0)
        {
            throw new ConfigurationException([.. p.Select(x => $"{(string.IsNullOrEmpty(c.Name) ? "configuration" : c.Name)}: {x}")]);
        }
    }

    private static void CheckReferences(IEnumerable<string> references, HashSet<string> known, string where, List<string> problems)
    {
        foreach (var name in references.Distinct())
        {
            if (!known.Contains(name))
            {
                problems.Add($"{where}: unknown variable ${{{name}}}");
            }
        }
    }

    private static void ValidateHook(HookDefinition hook, HookPhase phase, HashSet<string> names, List<string> p)
    {
        string where = $"hooks.{char.ToLowerInvariant(phase.ToString()[0])}{phase.ToString()[1..]} '{hook.Name}'";
        if (string.IsNullOrWhiteSpace(hook.Name))
        {
            p.Add($"hooks.{phase}: every hook needs a name");
        }
        else if (!names.Add(hook.Name))
        {
            p.Add($"{where}: the name is used twice in this phase");
        }

        bool hasCommand = hook.Command is { Count: > 0 };
        if (hasCommand == (hook.Http is not null))
        {
            p.Add($"{where}: give exactly one of command and http");
        }

        if (hook.Timeout <= TimeSpan.Zero)
        {
            p.Add($"{where}: timeout must be positive");
        }

        if (hook.Http is { } http)
        {
            if (!Uri.TryCreate(http.Url, UriKind.Absolute, out var uri) && !http.Url.Contains("${", StringComparison.Ordinal))
            {
                p.Add($"{where}: http.url must be an absolute URL");
            }
            else if (uri is not null && uri.Scheme is not ("http" or "https"))
            {
                p.Add($"{where}: http.url must be http or https");
            }

            if (!http.Method.Equals("GET", StringComparison.OrdinalIgnoreCase) && !http.Method.Equals("POST", StringComparison.OrdinalIgnoreCase))
            {
                p.Add($"{where}: http.method must be GET or POST");
            }
        }

        if (hook.HoldOpen is { } hold)
        {
            if (phase is not (HookPhase.PreBackup or HookPhase.PreRestore))
            {
                p.Add($"{where}: a hold-open hook belongs in a pre phase (it is released after the data steps)");
            }

            if (!hasCommand)
            {
                p.Add($"{where}: a hold-open hook needs a command");
            }

            try
            {
                _ = new Regex(hold.ReadyPattern, RegexOptions.None, TimeSpan.FromSeconds(1));
                if (hold.ReadyPattern.Length == 0)
                {
                    p.Add($"{where}: holdOpen.readyPattern is required");
                }
            }
            catch (ArgumentException ex)
            {
                p.Add($"{where}: holdOpen.readyPattern is not a regular expression: {ex.Message}");
            }
        }
    }
}
