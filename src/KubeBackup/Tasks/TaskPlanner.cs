using KubeBackup.Configuration;
using KubeBackup.Functions;
using KubeBackup.Hooks;

namespace KubeBackup.Tasks;

/// <summary>A step ready to run: its function bound to resolved parameters.</summary>
internal sealed record PlannedStep(string Name, string Function, FunctionStage Stage, ExecutionPolicy When, IFunctionStep Bound);

/// <summary>
/// Turns a task into runnable steps for one target before anything runs: every variable is resolved (unknown ones are
/// errors), every function looked up and every parameter bound, and the stages checked for order. A mistake anywhere
/// fails the target with nothing written.
/// </summary>
internal static class TaskPlanner
{
    public static List<PlannedStep> Plan(TaskDefinition task, string taskName, FunctionRegistry functions, IReadOnlyDictionary<string, string> variables)
    {
        var problems = new List<string>();
        var steps = new List<PlannedStep>();
        if (task.Steps.Count == 0)
        {
            throw new ConfigurationException($"Task '{taskName}' has no steps.");
        }

        for (int i = 0; i < task.Steps.Count; i++)
        {
            var step = task.Steps[i];
            string where = $"task '{taskName}', step {i + 1} ({step.DisplayName})";
            if (!functions.TryGet(step.Function, out var function))
            {
                problems.Add($"{where}: unknown function '{step.Function}' (registered: {string.Join(", ", functions.Names.Order(StringComparer.Ordinal))})");
                continue;
            }

            try
            {
                var resolved = step.Params.ToDictionary(p => p.Key, p => VariableResolver.Resolve(p.Value, variables, $"{where}, parameter '{p.Key}'"), StringComparer.Ordinal);
                var bound = function.Bind(new FunctionParameters(where, resolved));
                steps.Add(new PlannedStep(step.DisplayName, step.Function, function.Stage, step.When ?? function.DefaultWhen, bound));
            }
            catch (ConfigurationException ex)
            {
                problems.AddRange(ex.Problems);
            }
        }

        for (int i = 1; i < steps.Count; i++)
        {
            if (steps[i].Stage < steps[i - 1].Stage)
            {
                problems.Add($"task '{taskName}': step '{steps[i].Name}' ({steps[i].Stage}) comes after '{steps[i - 1].Name}' ({steps[i - 1].Stage}); " +
                    "data steps come first, then maintenance, then status");
            }
        }

        return problems.Count > 0 ? throw new ConfigurationException(problems) : steps;
    }

    /// <summary>A copy of a hook with its variables resolved.</summary>
    public static HookDefinition Resolve(HookDefinition hook, IReadOnlyDictionary<string, string> variables, string phase)
    {
        string where = $"{phase} hook '{hook.Name}'";
        string R(string s) => VariableResolver.Resolve(s, variables, where);
        return new HookDefinition
        {
            Name = hook.Name,
            Command = hook.Command?.Select(R).ToList(),
            Http = hook.Http is null ? null : new HttpHookAction
            {
                Url = R(hook.Http.Url), Method = hook.Http.Method, Body = hook.Http.Body is null ? null : R(hook.Http.Body), ContentType = hook.Http.ContentType,
                Headers = hook.Http.Headers.ToDictionary(h => h.Key, h => R(h.Value)),
            },
            HoldOpen = hook.HoldOpen is null ? null : new HoldOpenOptions
            {
                ReadyPattern = hook.HoldOpen.ReadyPattern, Release = hook.HoldOpen.Release, ReleaseTimeout = hook.HoldOpen.ReleaseTimeout,
                Input = hook.HoldOpen.Input is null ? null : R(hook.HoldOpen.Input),
                ReleaseInput = hook.HoldOpen.ReleaseInput is null ? null : R(hook.HoldOpen.ReleaseInput),
            },
            OnError = hook.OnError,
            Timeout = hook.Timeout,
            When = hook.When,
            Container = hook.Container is null ? null : R(hook.Container),
            Environment = hook.Environment.ToDictionary(e => e.Key, e => R(e.Value)),
            WorkingDirectory = hook.WorkingDirectory is null ? null : R(hook.WorkingDirectory),
        };
    }
}
