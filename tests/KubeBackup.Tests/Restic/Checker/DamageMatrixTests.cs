using KubeBackup.Restic;
using KubeBackup.Restic.Checker;
using KubeBackup.Restic.Model;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Checker;

/// <summary>
/// Each kind of damage restic's own fixtures cover, made in a repository, then checked by restic 0.14
/// (<c>check --read-data</c>) and by us: error versus clean agrees, and ours names the kind, the file, the blobs and
/// the snapshot paths that lose data.
/// </summary>
public class DamageMatrixTests
{
    [Fact]
    public async Task Missing_index_file_is_an_error_for_the_trees_it_held_and_leaves_its_packs_unreferenced()
    {
        using var lab = await CheckerLab.CreateAsync();
        var (snapshot, _, index) = lab.Backups[2];
        var doc = await lab.ReadIndexAsync(index);
        File.Delete(lab.IndexPath(index));

        var ours = await lab.CheckAsync();
        var restic = await lab.ResticCheckAsync();

        CheckAssert.Agree(ours, restic);
        CheckAssert.Kinds(ours, CheckErrorKind.TreeMissing);
        var error = CheckAssert.Single(ours, CheckErrorKind.TreeMissing);
        Assert.Equal(snapshot.Tree, error.TreeId);
        Assert.Equal([snapshot.Tree], error.BlobIds);
        Assert.Equal([new AffectedPath(snapshot.Id, "/")], error.AffectedPaths);
        Assert.Equal([snapshot.Id], ours.AffectedSnapshots);
        CheckAssert.Mentions(restic, snapshot.Tree);
        // The packs the index listed are still there: hints, as restic says, not errors.
        Assert.Equal(doc.Packs.Select(p => p.Id).Order(), ours.Hints.Where(h => h.Kind == CheckHintKind.PackNotIndexed).Select(h => h.PackId!.Value).Order());
        Assert.Equal(doc.Packs.Count, ours.UnreferencedPacks);
        foreach (var pack in doc.Packs)
        {
            Assert.Contains($"pack {pack.Id}: not referenced in any index", restic.StandardOutput, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Used_blob_missing_from_the_index_is_an_error_naming_the_file_and_the_pack()
    {
        // restic's repo-index-missing-blob: an existing, used blob is not in the index. The pack's last blob, so that
        // the index leaves no gap (restic would then retry reading past the size it expects for 45 seconds).
        using var lab = await CheckerLab.CreateAsync();
        var (snapshot, source, index) = lab.Backups[2];
        var (pack, _, _) = await lab.LocateAsync((await lab.ContentAsync(snapshot, source + "/big.bin"))[0], BlobType.Data);
        var blob = (await lab.ReadIndexAsync(index)).Packs.Single(p => p.Id == pack).Blobs.MaxBy(b => b.Offset).Id;
        var file = await lab.FileUsingAsync(snapshot, blob);
        var directory = await lab.TreeOfAsync(snapshot, file[..file.LastIndexOf('/')]);
        var newIndex = await lab.RewriteIndexAsync(index, d => d.Packs.Single(p => p.Id == pack).Blobs.RemoveAll(b => b.Id == blob));

        var ours = await lab.CheckAsync();
        var restic = await lab.ResticCheckAsync();

        CheckAssert.Agree(ours, restic);
        CheckAssert.Kinds(ours, CheckErrorKind.PackSizeMismatch, CheckErrorKind.DataBlobMissing, CheckErrorKind.PackHeaderMismatch);
        var size = CheckAssert.Single(ours, CheckErrorKind.PackSizeMismatch);
        Assert.Equal(pack, size.PackId);
        Assert.Equal(CheckerLab.PackFileName(pack), size.FileName);
        Assert.Equal([newIndex], size.IndexFiles);
        var missing = CheckAssert.Single(ours, CheckErrorKind.DataBlobMissing);
        Assert.Equal([blob], missing.BlobIds);
        Assert.Equal(directory, missing.TreeId);
        Assert.Equal(file[(file.LastIndexOf('/') + 1)..], missing.NodeName);
        Assert.Equal([new AffectedPath(snapshot.Id, file)], missing.AffectedPaths);
        var header = CheckAssert.Single(ours, CheckErrorKind.PackHeaderMismatch);
        Assert.Equal([blob], header.BlobIds);
        Assert.Equal([snapshot.Id], ours.AffectedSnapshots);
        CheckAssert.Mentions(restic, pack);
        CheckAssert.Mentions(restic, blob);
    }

    [Fact]
    public async Task Index_entry_naming_a_blob_the_pack_does_not_hold_is_an_error()
    {
        // The index points to a blob that is not there: the entry's ID is one no pack holds.
        using var lab = await CheckerLab.CreateAsync();
        var (snapshot, source, index) = lab.Backups[2];
        var blob = (await lab.ContentAsync(snapshot, source + "/big.bin"))[0];
        var (pack, _, _) = await lab.LocateAsync(blob, BlobType.Data);
        var phantom = ResticId.Hash("a blob that was never stored"u8);
        await lab.RewriteIndexAsync(index, d =>
        {
            var blobs = d.Packs.Single(p => p.Id == pack).Blobs;
            int i = blobs.FindIndex(b => b.Id == blob);
            blobs[i] = blobs[i] with { Id = phantom };
        });

        var ours = await lab.CheckAsync();
        var restic = await lab.ResticCheckAsync();

        CheckAssert.Agree(ours, restic);
        CheckAssert.Kinds(ours, CheckErrorKind.DataBlobMissing, CheckErrorKind.PackHeaderMismatch, CheckErrorKind.BlobDamaged);
        var damaged = CheckAssert.Single(ours, CheckErrorKind.BlobDamaged);
        Assert.Equal([phantom], damaged.BlobIds);
        Assert.Equal(pack, damaged.PackId);
        Assert.Contains("does not match its ID", damaged.Message, StringComparison.Ordinal);
        Assert.Empty(damaged.AffectedPaths); // no snapshot uses the phantom
        var missing = CheckAssert.Single(ours, CheckErrorKind.DataBlobMissing);
        Assert.Equal([new AffectedPath(snapshot.Id, source + "/big.bin")], missing.AffectedPaths);
        Assert.Equal(pack, CheckAssert.Single(ours, CheckErrorKind.PackHeaderMismatch).PackId);
        CheckAssert.Mentions(restic, blob);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Flipped_byte_in_a_data_pack_is_found_by_read_data_and_names_the_file(int version)
    {
        using var lab = await CheckerLab.CreateAsync(version: version);
        var (snapshot, source, index) = lab.Backups[1];
        var blob = (await lab.ContentAsync(snapshot, source + "/big.bin"))[0];
        var (pack, offset, _) = await lab.LocateAsync(blob, BlobType.Data);
        CheckerLab.FlipByte(lab.PackPath(pack), offset + 100);

        var structural = await lab.CheckAsync(new CheckOptions());
        var ours = await lab.CheckAsync();
        var restic = await lab.ResticCheckAsync();
        var resticStructural = await lab.ResticCheckAsync("--no-lock");

        // Without reading data neither checker can see it.
        Assert.True(structural.IsClean, string.Join('\n', structural.Errors));
        CheckAssert.Agree(structural, resticStructural);
        CheckAssert.Agree(ours, restic);
        CheckAssert.Kinds(ours, CheckErrorKind.PackIdMismatch, CheckErrorKind.BlobDamaged);
        var mismatch = CheckAssert.Single(ours, CheckErrorKind.PackIdMismatch);
        Assert.Equal(pack, mismatch.PackId);
        Assert.Equal(CheckerLab.PackFileName(pack), mismatch.FileName);
        Assert.Equal([index], mismatch.IndexFiles);
        var damaged = CheckAssert.Single(ours, CheckErrorKind.BlobDamaged);
        Assert.Equal([blob], damaged.BlobIds);
        Assert.Equal(pack, damaged.PackId);
        Assert.Equal([new AffectedPath(snapshot.Id, source + "/big.bin")], damaged.AffectedPaths);
        Assert.Equal([snapshot.Id], ours.AffectedSnapshots);
        Assert.Contains($"Pack ID does not match, want {pack}", restic.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flipped_byte_in_a_tree_is_found_without_read_data_and_names_the_folder()
    {
        using var lab = await CheckerLab.CreateAsync();
        var (snapshot, source, _) = lab.Backups[0];
        var tree = await lab.TreeOfAsync(snapshot, source + "/docs");
        var (pack, offset, _) = await lab.LocateAsync(tree, BlobType.Tree);
        CheckerLab.FlipByte(lab.PackPath(pack), offset + 40);

        var structural = await lab.CheckAsync(new CheckOptions());
        var resticStructural = await lab.ResticCheckAsync("--no-lock");
        var ours = await lab.CheckAsync();
        var restic = await lab.ResticCheckAsync();

        CheckAssert.Agree(structural, resticStructural);
        CheckAssert.Agree(ours, restic);
        var unreadable = CheckAssert.Single(structural, CheckErrorKind.TreeUnreadable);
        Assert.Equal(tree, unreadable.TreeId);
        Assert.Equal(pack, unreadable.PackId);
        Assert.Equal(CheckerLab.PackFileName(pack), unreadable.FileName);
        Assert.Equal([new AffectedPath(snapshot.Id, source + "/docs")], unreadable.AffectedPaths);
        CheckAssert.Kinds(ours, CheckErrorKind.TreeUnreadable, CheckErrorKind.PackIdMismatch, CheckErrorKind.BlobDamaged);
        Assert.Equal([tree], CheckAssert.Single(ours, CheckErrorKind.BlobDamaged).BlobIds);
        Assert.Equal([snapshot.Id], ours.AffectedSnapshots);
        CheckAssert.Mentions(resticStructural, tree);
    }

    [Fact]
    public async Task Missing_tree_is_an_error_naming_the_folder_that_needs_it()
    {
        using var lab = await CheckerLab.CreateAsync(backups: 1);
        var lost = ResticId.Hash("a tree that was never written"u8);
        Snapshot forged;
        await using (var repo = await lab.OpenAsync())
        {
            await using var forger = new RepositoryForger(repo);
            var root = await forger.TreeAsync(RepositoryForger.Dir("lost", lost), await forger.FileAsync("ok.txt", "still here"));
            forged = await forger.SnapshotAsync(root);
        }

        var ours = await lab.CheckAsync();
        var restic = await lab.ResticCheckAsync();

        CheckAssert.Agree(ours, restic);
        CheckAssert.Kinds(ours, CheckErrorKind.TreeMissing);
        var error = CheckAssert.Single(ours, CheckErrorKind.TreeMissing);
        Assert.Equal(lost, error.TreeId);
        Assert.Equal([new AffectedPath(forged.Id, "/lost")], error.AffectedPaths);
        Assert.Equal([forged.Id], ours.AffectedSnapshots);
        CheckAssert.Mentions(restic, lost);
    }

    [Fact]
    public async Task Unreferenced_pack_is_a_hint_for_both_checkers()
    {
        using var lab = await CheckerLab.CreateAsync(backups: 1);
        var (pack, index) = await lab.StoreAgainAsync(BlobType.Data, [.. Enumerable.Range(0, 5000).Select(i => (byte)i)]);
        File.Delete(lab.IndexPath(index));

        var ours = await lab.CheckAsync();
        var restic = await lab.ResticCheckAsync();

        CheckAssert.Agree(ours, restic);
        Assert.True(ours.IsClean);
        var hint = Assert.Single(ours.Hints, h => h.Kind == CheckHintKind.PackNotIndexed);
        Assert.Equal(pack, hint.PackId);
        Assert.Equal(1, ours.UnreferencedPacks);
        Assert.Contains($"pack {pack}: not referenced in any index", restic.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Same_pack_in_two_index_files_is_a_hint_for_both_checkers()
    {
        // restic's duplicate-packs-in-index fixture.
        using var lab = await CheckerLab.CreateAsync(backups: 2);
        var original = lab.Backups[0].IndexFile;
        var doc = await lab.ReadIndexAsync(original);
        var copy = await lab.WriteIndexAsync(doc);

        var ours = await lab.CheckAsync();
        var restic = await lab.ResticCheckAsync();

        CheckAssert.Agree(ours, restic);
        Assert.True(ours.IsClean);
        var hints = ours.Hints.Where(h => h.Kind == CheckHintKind.PackInSeveralIndexes).ToList();
        Assert.Equal(doc.Packs.Select(p => p.Id).Order(), hints.Select(h => h.PackId!.Value).Order());
        Assert.All(hints, h => Assert.Equal(new[] { original, copy }.Order(), h.IndexFiles.Order()));
        Assert.Contains("contained in several indexes", restic.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Blob_stored_in_two_packs_of_one_index_is_a_hint_and_a_damaged_copy_loses_nothing()
    {
        using var lab = await CheckerLab.CreateAsync(backups: 1);
        var (snapshot, source, index) = lab.Backups[0];
        var blob = (await lab.ContentAsync(snapshot, source + "/big.bin"))[0];
        var (firstPack, _, _) = await lab.LocateAsync(blob, BlobType.Data);
        var (secondPack, secondIndex) = await lab.StoreAgainAsync(BlobType.Data, await lab.LoadBlobAsync(blob, BlobType.Data));
        // One index file listing both packs, so the blob has two entries in one index.
        var merged = await lab.ReadIndexAsync(index);
        merged.Packs.AddRange((await lab.ReadIndexAsync(secondIndex)).Packs);
        File.Delete(lab.IndexPath(index));
        File.Delete(lab.IndexPath(secondIndex));
        await lab.WriteIndexAsync(merged);

        var ours = await lab.CheckAsync();
        var restic = await lab.ResticCheckAsync();

        CheckAssert.Agree(ours, restic);
        Assert.True(ours.IsClean, string.Join('\n', ours.Errors));
        var duplicates = Assert.Single(ours.Hints, h => h.Kind == CheckHintKind.DuplicateBlobs);
        Assert.Equal([blob], duplicates.BlobIds);

        // Damage one copy: read-data reports that pack, but the file is not lost, so no path is affected.
        CheckerLab.FlipByte(lab.PackPath(secondPack), 50);
        var damaged = await lab.CheckAsync();
        var resticDamaged = await lab.ResticCheckAsync();

        CheckAssert.Agree(damaged, resticDamaged);
        var error = CheckAssert.Single(damaged, CheckErrorKind.BlobDamaged);
        Assert.Equal(secondPack, error.PackId);
        Assert.Equal([blob], error.BlobIds);
        Assert.Empty(error.AffectedPaths);
        Assert.Empty(damaged.AffectedSnapshots);
        Assert.NotEqual(firstPack, secondPack);
        CheckAssert.Mentions(resticDamaged, secondPack);
    }

    [Fact]
    public async Task Damaged_index_file_is_an_error_naming_it()
    {
        using var lab = await CheckerLab.CreateAsync();
        var (snapshot, _, index) = lab.Backups[1];
        int packsOnlyThatIndexNamed = (await lab.ReadIndexAsync(index)).Packs.Count;
        CheckerLab.FlipByte(lab.IndexPath(index), 60);

        var ours = await lab.CheckAsync();
        var restic = await lab.ResticCheckAsync();

        CheckAssert.Agree(ours, restic);
        var error = CheckAssert.Single(ours, CheckErrorKind.IndexUnreadable);
        Assert.Equal($"index/{index}", error.FileName);
        // What only that index listed is unknown now: its snapshot's trees are missing, its packs unreferenced.
        Assert.Equal(snapshot.Tree, CheckAssert.Single(ours, CheckErrorKind.TreeMissing).TreeId);
        Assert.Equal([snapshot.Id], ours.AffectedSnapshots);
        Assert.True(packsOnlyThatIndexNamed >= 2, "the backup wrote a data and a tree pack at least");
        Assert.Equal(packsOnlyThatIndexNamed, ours.UnreferencedPacks);
        CheckAssert.Mentions(restic, index);
    }

    [Fact]
    public async Task Damaged_snapshot_file_is_an_error_naming_the_snapshot()
    {
        using var lab = await CheckerLab.CreateAsync(backups: 2);
        var snapshot = lab.Backups[0].Snapshot;
        CheckerLab.FlipByte(Path.Combine(lab.RepoPath, "snapshots", snapshot.Id.ToString()), 20);

        var ours = await lab.CheckAsync();
        var restic = await lab.ResticCheckAsync();

        CheckAssert.Agree(ours, restic);
        CheckAssert.Kinds(ours, CheckErrorKind.SnapshotUnreadable);
        var error = CheckAssert.Single(ours, CheckErrorKind.SnapshotUnreadable);
        Assert.Equal(snapshot.Id, error.SnapshotId);
        Assert.Equal($"snapshots/{snapshot.Id}", error.FileName);
        Assert.Equal([snapshot.Id], ours.AffectedSnapshots);
        Assert.Equal(0, ours.UnusedBlobs); // its blobs look unused, but with a snapshot unreadable that is not said
        CheckAssert.Mentions(restic, snapshot.Id);
    }

    [Fact]
    public async Task Invalid_nodes_are_errors_naming_their_paths()
    {
        using var lab = await CheckerLab.CreateAsync(backups: 1);
        Snapshot forged;
        ResticId root;
        await using (var repo = await lab.OpenAsync())
        {
            await using var forger = new RepositoryForger(repo);
            var nilContent = await forger.FileAsync("nil-content", "x");
            nilContent.Content = null;
            var nullBlob = await forger.FileAsync("null-blob", "y");
            nullBlob.Content = [ResticId.Zero];
            var noSubtree = RepositoryForger.Dir("no-subtree", ResticId.Zero);
            noSubtree.Subtree = null;
            var irregular = await forger.FileAsync("odd", "");
            irregular.Type = NodeType.Irregular;
            irregular.Content = null;
            var unnamed = await forger.FileAsync("", "z");
            root = await forger.TreeAsync(nilContent, nullBlob, noSubtree, irregular, unnamed, await forger.FileAsync("fine", "ok"));
            forged = await forger.SnapshotAsync(root);
        }

        var ours = await lab.CheckAsync();
        var restic = await lab.ResticCheckAsync();

        CheckAssert.Agree(ours, restic);
        CheckAssert.Kinds(ours, CheckErrorKind.FileContentMissing, CheckErrorKind.NullBlobId, CheckErrorKind.DirectoryWithoutSubtree,
            CheckErrorKind.InvalidNodeType, CheckErrorKind.EmptyNodeName);
        Assert.All(ours.Errors, e => Assert.Equal(root, e.TreeId));
        AssertNode(CheckErrorKind.FileContentMissing, "nil-content", "has nil blob list");
        AssertNode(CheckErrorKind.NullBlobId, "null-blob", "blob 0 has null ID");
        AssertNode(CheckErrorKind.DirectoryWithoutSubtree, "no-subtree", "has no subtree");
        AssertNode(CheckErrorKind.InvalidNodeType, "odd", "with invalid type \"irregular\"");
        AssertNode(CheckErrorKind.EmptyNodeName, "", "node with empty name");
        Assert.Equal([forged.Id], ours.AffectedSnapshots);
        foreach (var line in new[] { "has nil blob list", "has null ID", "has no subtree", "with invalid type \"irregular\"", "node with empty name" })
        {
            Assert.Contains(line, restic.StandardError, StringComparison.Ordinal);
        }

        void AssertNode(CheckErrorKind kind, string name, string message)
        {
            var error = CheckAssert.Single(ours, kind);
            Assert.Equal(name, error.NodeName);
            Assert.Contains(message, error.Message, StringComparison.Ordinal);
            Assert.Equal([new AffectedPath(forged.Id, "/" + name)], error.AffectedPaths);
        }
    }

    /// <summary>Not run against restic here: restic 0.14 retries the missing pack for about 45 seconds per tree it
    /// tries to load (it fails too: "pack …: does not exist", "error for tree …").</summary>
    [Fact]
    public async Task Missing_tree_pack_loses_the_snapshot_from_its_root()
    {
        using var lab = await CheckerLab.CreateAsync(backups: 2);
        var (snapshot, _, index) = lab.Backups[1];
        var (pack, _, _) = await lab.LocateAsync(snapshot.Tree, BlobType.Tree);
        File.Delete(lab.PackPath(pack));

        var ours = await lab.CheckAsync();

        CheckAssert.Kinds(ours, CheckErrorKind.PackMissing, CheckErrorKind.TreeUnreadable);
        var missing = CheckAssert.Single(ours, CheckErrorKind.PackMissing);
        Assert.Equal(pack, missing.PackId);
        Assert.Equal([index], missing.IndexFiles);
        Assert.Contains(snapshot.Tree, missing.BlobIds);
        Assert.Equal([new AffectedPath(snapshot.Id, "/")], missing.AffectedPaths);
        var unreadable = CheckAssert.Single(ours, CheckErrorKind.TreeUnreadable);
        Assert.Equal(snapshot.Tree, unreadable.TreeId);
        Assert.Equal(pack, unreadable.PackId);
        Assert.Equal([snapshot.Id], ours.AffectedSnapshots);
    }

    /// <summary>restic 0.14 retries a missing or short pack for about 45 seconds while reading data, so these two run
    /// side by side in one test.</summary>
    [Fact]
    public async Task Missing_pack_and_truncated_pack_are_errors_naming_the_pack_and_the_files_that_lose_data()
    {
        using var missingLab = await CheckerLab.CreateAsync();
        using var truncatedLab = await CheckerLab.CreateAsync();

        var (missingSnapshot, missingSource, missingIndex) = missingLab.Backups[2];
        var missingBlob = (await missingLab.ContentAsync(missingSnapshot, missingSource + "/big.bin"))[0];
        var (missingPack, _, _) = await missingLab.LocateAsync(missingBlob, BlobType.Data);
        File.Delete(missingLab.PackPath(missingPack));

        var (truncatedSnapshot, truncatedSource, _) = truncatedLab.Backups[2];
        var truncatedBlob = (await truncatedLab.ContentAsync(truncatedSnapshot, truncatedSource + "/big.bin"))[0];
        var (truncatedPack, truncatedOffset, _) = await truncatedLab.LocateAsync(truncatedBlob, BlobType.Data);
        long originalSize = new FileInfo(truncatedLab.PackPath(truncatedPack)).Length;
        CheckerLab.Truncate(truncatedLab.PackPath(truncatedPack), truncatedOffset + 10);

        var resticMissing = missingLab.ResticCheckAsync();
        var resticTruncated = truncatedLab.ResticCheckAsync();
        var oursMissing = await missingLab.CheckAsync(new CheckOptions { ReadData = true, NoLock = true });
        var oursTruncated = await truncatedLab.CheckAsync(new CheckOptions { ReadData = true, NoLock = true });

        CheckAssert.Kinds(oursMissing, CheckErrorKind.PackMissing);
        var missing = CheckAssert.Single(oursMissing, CheckErrorKind.PackMissing);
        Assert.Equal(missingPack, missing.PackId);
        Assert.Equal(CheckerLab.PackFileName(missingPack), missing.FileName);
        Assert.Equal([missingIndex], missing.IndexFiles);
        Assert.Contains(missingBlob, missing.BlobIds);
        Assert.Contains(new AffectedPath(missingSnapshot.Id, missingSource + "/big.bin"), missing.AffectedPaths);
        Assert.Equal([missingSnapshot.Id], oursMissing.AffectedSnapshots);

        CheckAssert.Kinds(oursTruncated, CheckErrorKind.PackSizeMismatch, CheckErrorKind.PackIdMismatch, CheckErrorKind.PackHeaderInvalid);
        var truncated = CheckAssert.Single(oursTruncated, CheckErrorKind.PackSizeMismatch);
        Assert.Equal(truncatedPack, truncated.PackId);
        Assert.Contains($"got {truncatedOffset + 10}, expected {originalSize}", truncated.Message, StringComparison.Ordinal);
        Assert.Contains(truncatedBlob, truncated.BlobIds);
        Assert.Contains(new AffectedPath(truncatedSnapshot.Id, truncatedSource + "/big.bin"), truncated.AffectedPaths);
        Assert.Equal(truncatedPack, CheckAssert.Single(oursTruncated, CheckErrorKind.PackIdMismatch).PackId);
        Assert.Equal([truncatedSnapshot.Id], oursTruncated.AffectedSnapshots);

        var (rm, rt) = (await resticMissing, await resticTruncated);
        CheckAssert.Agree(oursMissing, rm);
        Assert.Contains($"pack {missingPack}: does not exist", rm.StandardError, StringComparison.Ordinal);
        CheckAssert.Agree(oursTruncated, rt);
        Assert.Contains($"pack {truncatedPack}: unexpected file size: got {truncatedOffset + 10}, expected {originalSize}", rt.StandardError, StringComparison.Ordinal);
    }
}
