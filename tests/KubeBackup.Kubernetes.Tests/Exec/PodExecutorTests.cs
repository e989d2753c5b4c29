using System.Security.Cryptography;
using System.Text;
using KubeBackup.FakeKube;
using KubeBackup.Kubernetes.Exec;
using KubeBackup.Kubernetes.Tests.Support;

namespace KubeBackup.Kubernetes.Tests.Exec;

public sealed class PodExecutorTests
{
    private static PodExecRequest Cmd(params string[] argv) => new() { Namespace = "default", Pod = "p", Container = "main", Command = argv };

    [Fact]
    public async Task Runs_argv_in_the_container_and_reports_output_and_exit_code()
    {
        await using var c = await TestCluster.StartAsync();
        await c.CreatePodAsync("p", configure: p => p.Spec.Containers.Add(new k8s.Models.V1Container { Name = "other", Image = "x" }));
        var exec = new PodExecutor(c.Client);
        var ok = await exec.RunAsync(Cmd("sh", "-c", "echo out; echo err >&2"));
        Assert.True(ok.Succeeded);
        Assert.Equal("out\n", ok.StdoutText);
        Assert.Equal("err\n", ok.StderrText);
        Assert.Equal(PodExecSession.V5Protocol, ok.Protocol);

        var fail = await exec.RunAsync(Cmd("sh", "-c", "echo broken >&2; exit 7"));
        Assert.Equal(7, fail.ExitCode);
        Assert.Contains("exited with code 7: broken", fail.FailureReason, StringComparison.Ordinal);

        var other = await exec.RunAsync(new PodExecRequest { Namespace = "default", Pod = "p", Container = "other", Command = ["pwd"] });
        Assert.EndsWith("/p/other\n", other.StdoutText, StringComparison.Ordinal);

        var missing = await Assert.ThrowsAsync<PodExecException>(() => exec.RunAsync(new PodExecRequest { Namespace = "default", Pod = "p", Container = "nope", Command = ["true"] }));
        Assert.True(missing.Message.Contains("container nope is not valid", StringComparison.Ordinal), missing.Message);
        var noPod = await Assert.ThrowsAsync<PodExecException>(() => exec.RunAsync(new PodExecRequest { Namespace = "default", Pod = "gone", Command = ["true"] }));
        Assert.Contains("HTTP 404", noPod.Message, StringComparison.Ordinal);
        var noProgram = await exec.RunAsync(Cmd("no-such-program-here"));
        Assert.Null(noProgram.ExitCode);
        Assert.Contains("executable file not found", noProgram.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Timeout_and_cancellation_abandon_the_command()
    {
        await using var c = await TestCluster.StartAsync();
        await c.CreatePodAsync("p");
        var exec = new PodExecutor(c.Client);
        var timedOut = await exec.RunAsync(new PodExecRequest { Namespace = "default", Pod = "p", Command = ["sleep", "60"], Timeout = TimeSpan.FromMilliseconds(300) });
        Assert.Null(timedOut.ExitCode);
        Assert.Contains("did not finish within", timedOut.FailureReason, StringComparison.Ordinal);

        using var cts = new CancellationTokenSource();
        var session = await exec.StartAsync(new PodExecRequest { Namespace = "default", Pod = "p", Command = ["sleep", "60"] }, cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => session.Completion);
        await session.DisposeAsync();
    }

    [Fact]
    public async Task A_slow_reader_of_a_large_stdout_gets_every_byte()
    {
        // The client's own demultiplexer buffers ~64 MiB per channel and silently truncates beyond; reading the socket
        // ourselves applies back-pressure instead.
        const long size = 80L * 1024 * 1024;
        await using var c = await TestCluster.StartAsync();
        await c.CreatePodAsync("p");
        var exec = new PodExecutor(c.Client);
        await using var session = await exec.StartAsync(new PodExecRequest { Namespace = "default", Pod = "p", Command = ["head", "-c", size.ToString(System.Globalization.CultureInfo.InvariantCulture), "/dev/zero"], Stdout = ExecOutputMode.Stream });
        // The reader starts late, when the command could have written everything.
        await Task.Delay(500);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        long total = 0;
        int n;
        while ((n = await session.StandardOutput!.ReadAsync(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, n);
            total += n;
        }

        var result = await session.WaitAsync();
        Assert.True(result.Succeeded, result.FailureReason);
        Assert.Equal(size, total);
        Assert.Equal(size, result.StdoutBytes);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(new byte[size])), Convert.ToHexString(sha.GetHashAndReset()));
    }

    [Fact]
    public async Task Stdin_is_closed_over_v5_and_v4_says_clearly_that_it_cannot()
    {
        await using (var c = await TestCluster.StartAsync())
        {
            await c.CreatePodAsync("p");
            var exec = new PodExecutor(c.Client);
            await using var session = await exec.StartAsync(Cmd("sh", "-c", "wc -c"));
            Assert.Equal(PodExecSession.V5Protocol, session.Protocol);
        }

        var options = new FakeKubeOptions();
        options.ExecProtocols.Remove("v5.channel.k8s.io");
        await using (var old = await TestCluster.StartAsync(options))
        {
            await old.CreatePodAsync("p");
            var exec = new PodExecutor(old.Client);
            var plain = await exec.RunAsync(Cmd("echo", "hi"));
            Assert.Equal("hi\n", plain.StdoutText);
            Assert.Equal(PodExecSession.V4Protocol, plain.Protocol);
            await using var session = await exec.StartAsync(new PodExecRequest { Namespace = "default", Pod = "p", Command = ["cat"], Stdin = true });
            Assert.False(session.CanCloseStdin);
            var ex = await Assert.ThrowsAsync<PodExecException>(() => session.CopyToStdinAsync(new MemoryStream(Encoding.UTF8.GetBytes("x"))));
            Assert.Contains("cannot signal the end of stdin", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Stdin_streams_into_a_command_over_v5()
    {
        await using var c = await TestCluster.StartAsync();
        await c.CreatePodAsync("p");
        var exec = new PodExecutor(c.Client);
        var data = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        await using var session = await exec.StartAsync(new PodExecRequest { Namespace = "default", Pod = "p", Command = ["sha256sum"], Stdin = true });
        await session.CopyToStdinAsync(new MemoryStream(data));
        var result = await session.WaitAsync();
        Assert.True(result.Succeeded, result.FailureReason);
        Assert.StartsWith(Convert.ToHexStringLower(SHA256.HashData(data)), result.StdoutText, StringComparison.Ordinal);
        Assert.Equal(data.Length, result.StdinBytes);
    }

    [Fact]
    public async Task A_failed_handshake_is_retried()
    {
        await using var c = await TestCluster.StartAsync();
        await c.CreatePodAsync("p");
        c.Server.Faults.FailNext(2, 500, "GET", "/exec");
        var result = await new PodExecutor(c.Client).RunAsync(Cmd("echo", "ok"));
        Assert.Equal("ok\n", result.StdoutText);
        Assert.Equal(2, c.Server.Faults.Requests.Count(r => r.Injected));
    }
}
