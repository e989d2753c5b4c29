using System.Diagnostics;
using System.Text;
using KubeBackup.Platform;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Platform;

/// <summary>A fresh folder with an open handle on it, removed with <see cref="TestTree.Delete"/> (which copes with
/// invalid UTF-8 names and 0000 folders, unlike Directory.Delete).</summary>
internal sealed class ScratchFolder : IDisposable
{
    public ScratchFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"kb-platform-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
        Handle = DirectoryHandle.Open(Path);
    }

    public string Path { get; }

    public DirectoryHandle Handle { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>A second folder beside this one, standing for "outside the restore target".</summary>
    public string MakeOutside()
    {
        var outside = Path + "-outside";
        Directory.CreateDirectory(outside);
        return outside;
    }

    public void Dispose()
    {
        Handle.Dispose();
        TestTree.Delete(Path);
        TestTree.Delete(Path + "-outside");
    }
}

/// <summary>Runs coreutils for cross-checks that do not go through our own P/Invoke layer.</summary>
internal static class Tool
{
    public static string Run(string file, params string[] args) => Encoding.UTF8.GetString(RunForBytes(file, args)).TrimEnd('\n');

    public static byte[] RunForBytes(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        using var output = new MemoryStream();
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.BaseStream.CopyTo(output);
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} failed: {error.Result}");
        return output.ToArray();
    }
}
