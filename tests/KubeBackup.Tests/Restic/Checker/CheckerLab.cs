using System.Buffers;
using KubeBackup.Restic;
using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Checker;
using KubeBackup.Restic.Json;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;
using KubeBackup.Storage;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Checker;

/// <summary>
/// A repository to damage: a few small backups written by our engine (each backup writes its own data pack, tree
/// pack and index file), with the tools to break it the ways restic's fixtures are broken and to run both checkers.
/// </summary>
internal sealed class CheckerLab : IDisposable
{
    private readonly TempDirectory _dir;

    private CheckerLab(TempDirectory dir, string repoPath)
    {
        _dir = dir;
        RepoPath = repoPath;
    }

    public string RepoPath { get; }

    /// <summary>Per backup: the snapshot, its source folder and the index file it wrote.</summary>
    public List<(Snapshot Snapshot, string Source, ResticId IndexFile)> Backups { get; } = [];

    public ResticCli Restic => new(RepoPath, TestRepository.Password);

    public string Combine(params string[] parts) => _dir.Combine(parts);

    /// <summary>Our engine writes <paramref name="backups"/> snapshots of distinct small trees.</summary>
    public static async Task<CheckerLab> CreateAsync(int backups = 3, int version = 2, int bigFileBytes = 1_500_000)
    {
        var dir = new TempDirectory("check");
        var lab = new CheckerLab(dir, dir.Combine("repo"));
        await using (await TestRepository.InitAsync(lab.RepoPath, version))
        {
        }

        for (int i = 0; i < backups; i++)
        {
            await lab.AddBackupAsync(i, bigFileBytes);
        }

        return lab;
    }

    /// <summary>restic writes the repository (format 1 or 2) and two snapshots.</summary>
    public static async Task<CheckerLab> CreateWithResticAsync(int version)
    {
        var dir = new TempDirectory("check");
        var lab = new CheckerLab(dir, dir.Combine("repo"));
        var restic = lab.Restic;
        await restic.RunCheckedAsync("init", "--repository-version", version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        for (int i = 0; i < 2; i++)
        {
            var source = dir.Combine($"src{i}");
            SimpleTree.Create(source, seed: 100 + i, bigFileBytes: 1_500_000, smallFiles: 6);
            await restic.RunCheckedAsync("backup", source);
        }

        return lab;
    }

    public async Task<Snapshot> AddBackupAsync(int seed, int bigFileBytes = 1_500_000)
    {
        var source = Combine($"src{seed}");
        SimpleTree.Create(source, seed: seed + 1, bigFileBytes: bigFileBytes, smallFiles: 6);
        var before = IndexFileIds();
        await using var repo = await OpenAsync();
        var options = new BackupOptions();
        options.Paths.Add(source);
        var result = await repo.BackupAsync(options);
        var written = IndexFileIds().Except(before).Single();
        Backups.Add((result.Snapshot, source, written));
        return result.Snapshot;
    }

    public Task<ResticRepository> OpenAsync() => TestRepository.OpenAsync(RepoPath);

    public HashSet<ResticId> IndexFileIds() =>
        [.. Directory.EnumerateFiles(Path.Combine(RepoPath, "index")).Select(f => ResticId.Parse(Path.GetFileName(f)))];

    public List<ResticId> PackIds() =>
        [.. Directory.EnumerateFiles(Path.Combine(RepoPath, "data"), "*", SearchOption.AllDirectories).Select(f => ResticId.Parse(Path.GetFileName(f)))];

    public string PackPath(ResticId pack) => Path.Combine(RepoPath, new FileHandle(FileType.Pack, pack.ToString()).RelativePath);

    public string IndexPath(ResticId index) => Path.Combine(RepoPath, "index", index.ToString());

    public static string PackFileName(ResticId pack) => new FileHandle(FileType.Pack, pack.ToString()).RelativePath;

    /// <summary>Runs our check (on a fresh open, as a separate process would).</summary>
    public async Task<CheckResult> CheckAsync(CheckOptions? options = null)
    {
        await using var repo = await OpenAsync();
        return await repo.CheckAsync(options ?? new CheckOptions { ReadData = true });
    }

    /// <summary>Runs <c>restic check</c> (by default with <c>--read-data</c>); stdout and stderr together.</summary>
    public async Task<ProcessResult> ResticCheckAsync(params string[] flags)
    {
        var result = await Restic.RunAsync(["check", .. flags.Length == 0 ? ["--read-data"] : flags]);
        return result;
    }

    /// <summary>Where a blob is, according to the repository's own index.</summary>
    public async Task<(ResticId Pack, uint Offset, uint Length)> LocateAsync(ResticId blob, BlobType type)
    {
        await using var repo = await OpenAsync();
        await repo.LoadIndexAsync();
        Assert.True(repo.Index.TryGet(blob, type, out var location), $"{blob} is not indexed");
        return (location.PackId, location.Offset, location.Length);
    }

    /// <summary>The content blobs of a file in a snapshot.</summary>
    public async Task<List<ResticId>> ContentAsync(Snapshot snapshot, string path)
    {
        await using var repo = await OpenAsync();
        var node = await repo.FindNodeAsync(snapshot, path);
        return node.Content!;
    }

    /// <summary>The path of the file in a snapshot whose content includes <paramref name="blob"/>.</summary>
    public async Task<string> FileUsingAsync(Snapshot snapshot, ResticId blob)
    {
        await using var repo = await OpenAsync();
        await foreach (var entry in repo.ListFilesAsync(snapshot))
        {
            if (entry.Node.Content?.Contains(blob) == true)
            {
                return entry.Path;
            }
        }

        throw new InvalidOperationException($"no file of {snapshot.Id} uses {blob}");
    }

    public async Task<ResticId> TreeOfAsync(Snapshot snapshot, string path)
    {
        await using var repo = await OpenAsync();
        var node = await repo.FindNodeAsync(snapshot, path);
        return node.Subtree!.Value;
    }

    public static void FlipByte(string file, long at)
    {
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = at;
        int b = stream.ReadByte();
        stream.Position = at;
        stream.WriteByte((byte)(b ^ 0x40));
    }

    public static void Truncate(string file, long length)
    {
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        stream.SetLength(length);
    }

    /// <summary>Reads and decodes an index file with our own code.</summary>
    public async Task<IndexDocument> ReadIndexAsync(ResticId index)
    {
        await using var repo = await OpenAsync();
        return ResticJson.ReadIndex(await repo.LoadJsonFileAsync(new FileHandle(FileType.Index, index.ToString()), CancellationToken.None));
    }

    /// <summary>Seals and stores an index document with our own JSON writer and key; returns its ID.</summary>
    public async Task<ResticId> WriteIndexAsync(IndexDocument document)
    {
        await using var repo = await OpenAsync();
        var json = new ArrayBufferWriter<byte>();
        ResticJson.WriteIndex(document, json);
        return await repo.SaveJsonFileAsync(FileType.Index, json.WrittenMemory, CancellationToken.None);
    }

    /// <summary>Replaces an index file with a modified copy of itself.</summary>
    public async Task<ResticId> RewriteIndexAsync(ResticId index, Action<IndexDocument> change)
    {
        var document = await ReadIndexAsync(index);
        change(document);
        File.Delete(IndexPath(index));
        return await WriteIndexAsync(document);
    }

    /// <summary>Stores blobs again in a new pack with a new index file (the engine's dedup is bypassed by not loading
    /// the index first), as two concurrent backups or an interrupted prune leave them. Returns the new pack and index.</summary>
    public async Task<(ResticId Pack, ResticId Index)> StoreAgainAsync(BlobType type, params byte[][] plaintexts)
    {
        var packsBefore = PackIds().ToHashSet();
        var indexesBefore = IndexFileIds();
        await using (var repo = await OpenAsync())
        {
            await using var writer = new BlobWriter(repo, CancellationToken.None);
            foreach (var plaintext in plaintexts)
            {
                var id = ResticId.Hash(plaintext);
                Assert.True(writer.TryReserve(id, type));
                var sealedBuffer = new byte[ResticRepository.MaxSealedLength(plaintext.Length)];
                int n = repo.SealBlob(type, plaintext, sealedBuffer, out uint ulen);
                await writer.AddAsync(type, id, sealedBuffer.AsMemory(0, n), ulen, plaintext.Length);
            }

            await writer.FlushAsync(CancellationToken.None);
        }

        return (PackIds().Except(packsBefore).Single(), IndexFileIds().Except(indexesBefore).Single());
    }

    public async Task<byte[]> LoadBlobAsync(ResticId id, BlobType type)
    {
        await using var repo = await OpenAsync();
        await repo.LoadIndexAsync();
        return await repo.LoadBlobAsync(type, id);
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary>Assertions on check results, shared by the checker tests.</summary>
internal static class CheckAssert
{
    public static CheckError Single(CheckResult result, CheckErrorKind kind) =>
        Assert.Single(result.Errors, e => e.Kind == kind);

    public static void Kinds(CheckResult result, params CheckErrorKind[] kinds) =>
        Assert.Equal(kinds.Order().ToList(), result.Errors.Select(e => e.Kind).Distinct().Order().ToList());

    /// <summary>restic and we agree on error versus clean.</summary>
    public static void Agree(CheckResult ours, ProcessResult restic)
    {
        string resticOutput = restic.StandardOutput + restic.StandardError;
        Assert.True(ours.IsClean == (restic.ExitCode == 0),
            $"restic exit {restic.ExitCode}, ours clean={ours.IsClean}\nrestic:\n{resticOutput}\nours:\n{string.Join('\n', ours.Errors)}");
        if (ours.IsClean)
        {
            Assert.Contains("no errors were found", resticOutput, StringComparison.Ordinal);
        }
        else
        {
            // "Fatal: repository contains errors", or "Fatal: LoadIndex returned errors" when restic stops early.
            Assert.Contains("Fatal: ", resticOutput, StringComparison.Ordinal);
        }
    }

    public static void Mentions(ProcessResult restic, ResticId id) =>
        Assert.Contains(id.ToShortString(), restic.StandardOutput + restic.StandardError, StringComparison.Ordinal);
}
