using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using KubeBackup.Configuration;
using KubeBackup.Scheduling;
using KubeBackup.Sessions;

namespace KubeBackup.Cli.Commands;

/// <summary><c>kubebackup run config.yaml</c> runs a configuration once; <c>kubebackup schedule config.yaml</c> keeps
/// running and follows its schedule until SIGINT or SIGTERM.</summary>
internal static class ConfigurationCommands
{
    public static Command CreateRun(GlobalOptions global)
    {
        var file = new Argument<string>("config") { Description = "the configuration file (YAML, or JSON by its .json extension)" };
        var targets = new Option<string[]>("--target") { Description = "run only these targets (repeatable)", AllowMultipleArgumentsPerToken = true };
        var restore = new Option<bool>("--restore") { Description = "run the targets' restore tasks instead of their backup tasks" };
        var snapshot = new Option<string>("--snapshot") { Description = "with --restore: the snapshot to restore (default: latest complete)", DefaultValueFactory = _ => "latest" };
        var command = new Command("run", "Run a configuration's backup (or restore) once") { file, targets, restore, snapshot };
        command.SetAction(async (parse, ct) =>
        {
            var context = new CliContext(parse, global);
            var configuration = ConfigurationLoader.LoadFile(parse.GetValue(file)!);
            var runner = new SessionRunner(new SessionRunnerOptions { RepositoryOptions = context.RepositoryOptions() });
            SessionResult session;
            if (parse.GetValue(restore))
            {
                var request = new RestoreRequest { Snapshot = parse.GetValue(snapshot)! };
                foreach (var t in parse.GetValue(targets) ?? [])
                {
                    request.Targets.Add(t);
                }

                session = await runner.RunRestoreAsync(configuration, request, ct);
            }
            else
            {
                var request = new BackupRequest();
                foreach (var t in parse.GetValue(targets) ?? [])
                {
                    request.Targets.Add(t);
                }

                session = await runner.RunBackupAsync(configuration, request, ct);
            }

            Print(session, context.Json);
            return ct.IsCancellationRequested ? ExitCodes.Interrupted : ExitCodeOf(session);
        });
        return command;
    }

    public static Command CreateSchedule(GlobalOptions global)
    {
        var files = new Argument<string[]>("config") { Description = "configuration files to follow", Arity = ArgumentArity.OneOrMore };
        var command = new Command("schedule", "Stay running and back up each configuration on its schedule (stops on SIGINT or SIGTERM)") { files };
        command.SetAction(async (parse, ct) =>
        {
            var context = new CliContext(parse, global);
            var configurations = parse.GetValue(files)!.Select(ConfigurationLoader.LoadFile).ToList();
            var runner = new SessionRunner(new SessionRunnerOptions { RepositoryOptions = context.RepositoryOptions() });
            var history = new SessionHistory();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            // Both signals end the wait below; the scheduler then cancels running sessions, which leave no snapshot
            // half-written, and the process exits 0.
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, s => { s.Cancel = true; stop.Cancel(); });
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, s => { s.Cancel = true; stop.Cancel(); });
            await using var scheduler = new BackupScheduler();
            var gate = new Lock();
            foreach (var configuration in configurations)
            {
                scheduler.AddConfiguration(configuration, runner, history, session =>
                {
                    lock (gate)
                    {
                        Print(session, context.Json);
                    }
                });
            }

            scheduler.Start();
            foreach (var job in scheduler.Jobs)
            {
                context.Info($"scheduled {job.Name}: {job.Schedule}, next run at {job.NextDue?.ToString("u", CultureInfo.InvariantCulture) ?? "never"}{(job.Paused ? " (paused)" : "")}");
            }

            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }

            context.Info("stopping");
            await scheduler.StopAsync();
            return ExitCodes.Ok;
        });
        return command;
    }

    private static int ExitCodeOf(SessionResult session) => session.Phase switch
    {
        SessionPhase.Succeeded or SessionPhase.Skipped => ExitCodes.Ok,
        SessionPhase.PartiallyFailed => ExitCodes.Incomplete,
        _ => ExitCodes.Fatal,
    };

    private static void Print(SessionResult session, bool json)
    {
        if (json)
        {
            using var stdout = Console.OpenStandardOutput();
            using (var w = new Utf8JsonWriter(stdout))
            {
                w.WriteStartObject();
                w.WriteString("session", session.Id);
                w.WriteString("configuration", session.ConfigurationName);
                w.WriteString("kind", session.Kind.ToString());
                w.WriteString("phase", session.Phase.ToString());
                if (session.Reason is { } reason)
                {
                    w.WriteString("reason", reason);
                }

                w.WriteNumber("durationSeconds", session.Duration.TotalSeconds);
                w.WriteStartArray("targets");
                foreach (var t in session.Targets)
                {
                    w.WriteStartObject();
                    w.WriteString("name", t.Name);
                    w.WriteString("phase", t.Phase.ToString());
                    w.WriteStartArray("snapshots");
                    foreach (var s in t.Snapshots)
                    {
                        w.WriteStringValue(s.Id.ToString());
                    }

                    w.WriteEndArray();
                    w.WriteNumber("filesProcessed", t.Statistics.FilesProcessed);
                    w.WriteNumber("bytesProcessed", t.Statistics.BytesProcessed);
                    w.WriteStartArray("failures");
                    foreach (var f in t.Failures)
                    {
                        w.WriteStringValue(f);
                    }

                    w.WriteEndArray();
                    w.WriteStartArray("problems");
                    foreach (var f in t.Problems)
                    {
                        w.WriteStringValue(f);
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            stdout.Write("\n"u8);
            return;
        }

        Console.Out.WriteLine($"{session.Kind.ToString().ToLowerInvariant()} session {session.Id} of {session.ConfigurationName}: {session.Phase}" +
            (session.Reason is { } r ? $" ({r})" : ""));
        foreach (var t in session.Targets)
        {
            Console.Out.WriteLine($"  {t.Name}: {t.Phase}, {t.Statistics.FilesProcessed} files, {t.Statistics.BytesProcessed} bytes" +
                (t.Snapshots.Count > 0 ? $", snapshot {string.Join(", ", t.Snapshots.Select(s => s.Id.ToShortString() + (s.Partial ? " (partial)" : "")))}" : ""));
            foreach (var h in t.Hooks.Where(h => !h.Succeeded))
            {
                Console.Out.WriteLine($"    hook {h.Name} failed{(h.ExitCode is { } c ? $" with exit code {c}" : "")}: {h.Error}");
                foreach (var line in h.OutputTail.Split('\n').TakeLast(5))
                {
                    Console.Out.WriteLine($"      | {line}");
                }
            }

            foreach (var f in t.Failures)
            {
                Console.Out.WriteLine($"    failed: {f}");
            }

            foreach (var p in t.Problems)
            {
                Console.Out.WriteLine($"    incomplete: {p}");
            }

            foreach (var w in t.Warnings)
            {
                Console.Out.WriteLine($"    warning: {w}");
            }
        }
    }
}
