using System.Net;
using KubeBackup.Functions;
using KubeBackup.Hooks;
using KubeBackup.Sessions;
using KubeBackup.Tests.Sessions;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Hooks;

public sealed class HookTests
{
    private static string Config(string onError) => $$"""
        name: hooks
        repository: { location: "{REPO}", password: { file: "{PWFILE}" } }
        hooks:
          preBackup:
            - name: greet
              command: [sh, -c, "echo hello from ${TARGET_NAME}"]
            - name: quiesce
              command: [sh, -c, "echo about to fail; echo 'database is busy' >&2; exit 7"]
              onError: {{onError}}
            - name: after
              command: [touch, "{DIR}/after-ran"]
          postBackup:
            - name: always
              command: [touch, "{DIR}/post-ran"]
              when: Always
        targets:
          - name: files
            paths: ["{DIR}/src"]
        """;

    [Fact]
    public async Task Failing_pre_hook_with_onError_Fail_stops_before_any_data_is_written()
    {
        using var kit = await SessionKit.CreateAsync();
        SimpleTree.Create(kit.Dir.Combine("src"), bigFileBytes: 100_000, smallFiles: 3);
        int packsBefore = kit.FileCount("data"), indexBefore = kit.FileCount("index");

        var session = await kit.Runner.RunBackupAsync(kit.Load(Config("Fail")));

        Assert.Equal(SessionPhase.Failed, session.Phase);
        var target = Assert.Single(session.Targets);
        var failed = target.Hooks.Single(h => h.Name == "quiesce");
        Assert.False(failed.Succeeded);
        Assert.Equal(7, failed.ExitCode);
        Assert.Contains("about to fail", failed.OutputTail, StringComparison.Ordinal);
        Assert.Contains("database is busy", failed.OutputTail, StringComparison.Ordinal);
        Assert.Contains("hello from files", target.Hooks.Single(h => h.Name == "greet").OutputTail, StringComparison.Ordinal);
        var reason = Assert.Single(target.Failures);
        Assert.Contains("'quiesce' failed (exit code 7)", reason, StringComparison.Ordinal);
        Assert.Contains("no data was written", reason, StringComparison.Ordinal);
        // The hooks after it in the phase did not run; no data step ran; nothing reached the repository.
        Assert.False(File.Exists(kit.Dir.Combine("after-ran")));
        Assert.DoesNotContain(target.Hooks, h => h.Name == "after");
        Assert.DoesNotContain(target.Steps, s => s.Phase != SessionPhase.Skipped && s.Function == FunctionRegistry.FileBackup);
        Assert.Equal(0, kit.FileCount("snapshots"));
        Assert.Equal(packsBefore, kit.FileCount("data"));
        Assert.Equal(indexBefore, kit.FileCount("index"));
        Assert.Equal(0, kit.FileCount("locks"));
        // A post hook with when: Always still runs (it may be the one that unfreezes something).
        Assert.True(File.Exists(kit.Dir.Combine("post-ran")));
    }

    [Fact]
    public async Task Failing_pre_hook_with_onError_Continue_is_recorded_and_the_session_goes_on()
    {
        using var kit = await SessionKit.CreateAsync();
        SimpleTree.Create(kit.Dir.Combine("src"), bigFileBytes: 100_000, smallFiles: 3);

        var session = await kit.Runner.RunBackupAsync(kit.Load(Config("Continue")));

        Assert.Equal(SessionPhase.PartiallyFailed, session.Phase);
        var target = Assert.Single(session.Targets);
        var failed = target.Hooks.Single(h => h.Name == "quiesce");
        Assert.Equal((false, 7, HookErrorMode.Continue), (failed.Succeeded, failed.ExitCode, failed.OnError));
        Assert.Contains("database is busy", failed.OutputTail, StringComparison.Ordinal);
        Assert.Contains("onError: Continue", Assert.Single(target.Problems), StringComparison.Ordinal);
        Assert.Empty(target.Failures);
        Assert.True(File.Exists(kit.Dir.Combine("after-ran")));
        Assert.Single(target.Snapshots);
        Assert.Single(await kit.SnapshotsAsync());
    }

    [Fact]
    public async Task Hold_open_hook_is_ready_before_the_data_steps_held_during_them_and_released_after()
    {
        using var kit = await SessionKit.CreateAsync();
        SimpleTree.Create(kit.Dir.Combine("src"), bigFileBytes: 10_000, smallFiles: 2);
        string released = kit.Dir.Combine("released");
        var observed = new List<bool>();
        kit.Functions.Register("observe", new ObserveFunction(() => observed.Add(File.Exists(released))));
        var configuration = kit.Load("""
            name: hold
            repository: { location: "{REPO}", password: { file: "{PWFILE}" } }
            hooks:
              preBackup:
                - name: backup-mode
                  command: [sh, -c, "read line; echo \"$line\"; echo ready; cat > /dev/null; echo released > {DIR}/released"]
                  holdOpen:
                    input: "entering backup mode\n"
                    readyPattern: "^ready$"
                    release: CloseInput
            targets:
              - name: files
                paths: ["{DIR}/src"]
                task: held
            tasks:
              held:
                steps:
                  - function: observe
                  - function: file-backup
                  - function: observe
            """);

        var session = await kit.Runner.RunBackupAsync(configuration);

        Assert.True(session.Phase == SessionPhase.Succeeded, PostgresEndToEndTests.Explain(session));
        Assert.Equal([false, false], observed);
        Assert.True(File.Exists(released));
        var hooks = Assert.Single(session.Targets).Hooks;
        Assert.Equal([HookStep.Ready, HookStep.Release], hooks.Select(h => h.Step));
        Assert.All(hooks, h => Assert.True(h.Succeeded));
        Assert.Equal(0, hooks[1].ExitCode);
        Assert.Contains("entering backup mode", hooks[0].OutputTail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hold_open_hook_that_ends_before_its_release_fails_the_target_and_tags_its_snapshots_partial()
    {
        using var kit = await SessionKit.CreateAsync();
        SimpleTree.Create(kit.Dir.Combine("src"), bigFileBytes: 10_000, smallFiles: 2);
        string stop = kit.Dir.Combine("stop"), gone = kit.Dir.Combine("gone");
        kit.Functions.Register("end-the-hold", new ObserveFunction(() =>
        {
            File.WriteAllText(stop, "");
            // The hook writes its PID just before it exits; wait until it has really exited (gone, or a zombie waiting
            // to be reaped), so the release finds it ended rather than racing its last instruction.
            for (int i = 0; i < 400 && !HasExited(gone); i++)
            {
                Thread.Sleep(25);
            }
        }));
        var configuration = kit.Load("""
            name: hold
            repository: { location: "{REPO}", password: { file: "{PWFILE}" } }
            hooks:
              preBackup:
                - name: lock
                  command: [sh, -c, "echo ready; while [ ! -e {DIR}/stop ]; do sleep 0.02; done; echo $$$$ > {DIR}/gone.tmp; mv {DIR}/gone.tmp {DIR}/gone; exit 3"]
                  holdOpen: { readyPattern: ready }
            targets:
              - name: files
                paths: ["{DIR}/src"]
                task: held
            tasks:
              held:
                steps:
                  - function: file-backup
                  - function: end-the-hold
            """);

        var session = await kit.Runner.RunBackupAsync(configuration);

        Assert.Equal(SessionPhase.Failed, session.Phase);
        var target = Assert.Single(session.Targets);
        var release = target.Hooks.Single(h => h.Step == HookStep.Release);
        Assert.False(release.Succeeded);
        Assert.Equal(3, release.ExitCode);
        Assert.Contains("before it was released", Assert.Single(target.Failures), StringComparison.Ordinal);
        var snapshot = Assert.Single(await kit.SnapshotsAsync());
        Assert.Equal(["partial"], snapshot.Tags);
        Assert.True(Assert.Single(target.Snapshots).Partial);
    }

    [Fact]
    public async Task Http_hooks_get_and_post_and_a_failing_status_is_recorded()
    {
        int port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var bodies = new List<string>();
        var serve = Task.Run(async () =>
        {
            for (int i = 0; i < 2; i++)
            {
                var ctx = await listener.GetContextAsync();
                using (var reader = new StreamReader(ctx.Request.InputStream))
                {
                    bodies.Add($"{ctx.Request.HttpMethod} {ctx.Request.Url!.AbsolutePath} {await reader.ReadToEndAsync()}");
                }

                ctx.Response.StatusCode = ctx.Request.HttpMethod == "GET" ? 200 : 503;
                await ctx.Response.OutputStream.WriteAsync("maintenance"u8.ToArray());
                ctx.Response.Close();
            }
        });
        var executor = new LocalHookExecutor();
        var get = await executor.RunAsync(new HookInvocation(new HookDefinition { Name = "ping", Http = new HttpHookAction { Url = $"http://127.0.0.1:{port}/ping" } },
            HookPhase.PreBackup, "c", "t"), CancellationToken.None);
        var post = await executor.RunAsync(new HookInvocation(new HookDefinition
        {
            Name = "notify", OnError = HookErrorMode.Continue,
            Http = new HttpHookAction { Url = $"http://127.0.0.1:{port}/done", Method = "POST", Body = """{"target":"t"}""" },
        }, HookPhase.PostBackup, "c", "t"), CancellationToken.None);
        await serve;

        Assert.Equal((true, 200), (get.Succeeded, get.StatusCode));
        Assert.Equal((false, 503, "maintenance"), (post.Succeeded, post.StatusCode, post.OutputTail));
        Assert.Equal(["GET /ping ", """POST /done {"target":"t"}"""], bodies);
    }

    [Fact]
    public async Task Command_hook_that_runs_too_long_is_stopped_and_counts_as_failed()
    {
        var outcome = await new LocalHookExecutor().RunAsync(new HookInvocation(new HookDefinition
        {
            Name = "slow", Command = ["sleep", "30"], Timeout = TimeSpan.FromMilliseconds(200),
        }, HookPhase.PreBackup, "c", "t"), CancellationToken.None);
        Assert.True(outcome.TimedOut);
        Assert.False(outcome.Succeeded);
        Assert.Null(outcome.ExitCode);
    }

    private static bool HasExited(string pidFile)
    {
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), out int pid))
        {
            return false;
        }

        string stat = $"/proc/{pid}/stat";
        try
        {
            // The state follows the parenthesised command name: Z is a process that has exited but not been reaped.
            var text = File.ReadAllText(stat);
            return text[(text.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}

/// <summary>A data step that only calls back, to look at the world between other steps.</summary>
internal sealed class ObserveFunction(Action observe) : BackupFunction<object>
{
    protected override object BindParameters(FunctionParameters parameters) => new();

    protected override Task RunAsync(FunctionContext context, object parameters, CancellationToken cancellationToken)
    {
        observe();
        return Task.CompletedTask;
    }
}
