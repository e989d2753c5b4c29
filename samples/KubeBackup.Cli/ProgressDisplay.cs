using Spectre.Console;

namespace KubeBackup.Cli;

/// <summary>Draws a progress bar on stderr while an operation runs, when a person is watching (see <see cref="CliContext.ShowProgress"/>).</summary>
internal static class ProgressDisplay
{
    public static async Task<T> RunAsync<T, TProgress>(CliContext context, string title, Func<IProgress<TProgress>?, Task<T>> run,
        Action<ProgressTask, TProgress> update)
    {
        if (!context.ShowProgress)
        {
            return await run(null);
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return await console.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(title, maxValue: 1);
                var result = await run(new InlineProgress<TProgress>(p => update(task, p)));
                task.StopTask();
                return result;
            });
    }

    /// <summary>Reports on the caller's thread; <see cref="Progress{T}"/> would post to the thread pool and reorder.</summary>
    private sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        private readonly Lock _lock = new();

        public void Report(T value)
        {
            lock (_lock)
            {
                report(value);
            }
        }
    }
}
