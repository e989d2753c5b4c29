using KubeBackup.Restic;
using KubeBackup.Restic.Checker;
using KubeBackup.Restic.Model;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Checker;

/// <summary>Reading part of the data, as restic's <c>--read-data-subset</c> does.</summary>
public class ReadDataSubsetTests
{
    private static byte FirstByte(ResticId id) => id.ToByteArray()[0];

    [Fact]
    public async Task Groups_1_of_2_and_2_of_2_read_every_pack_once_and_only_the_group_holding_damage_reports_it()
    {
        using var lab = await CheckerLab.CreateAsync(backups: 2);
        // Backups until data packs exist in both groups (even and odd first byte), so each group has one to damage.
        var dataPacks = new List<(ResticId Pack, ResticId Blob, uint Offset, Snapshot Snapshot, string Source)>();
        for (int i = 0; ; i++)
        {
            if (i >= lab.Backups.Count)
            {
                await lab.AddBackupAsync(i);
            }

            var (snapshot, source, _) = lab.Backups[i];
            var blob = (await lab.ContentAsync(snapshot, source + "/big.bin"))[0];
            var (pack, offset, _) = await lab.LocateAsync(blob, BlobType.Data);
            dataPacks.Add((pack, blob, offset, snapshot, source));
            if (dataPacks.Select(p => FirstByte(p.Pack) % 2).Distinct().Count() == 2)
            {
                break;
            }

            Assert.True(i < 12, "no data pack with an odd (or even) first byte after 12 backups");
        }

        var group1 = await lab.CheckAsync(new CheckOptions { ReadDataSubset = ReadDataSubset.Parse("1/2") });
        var group2 = await lab.CheckAsync(new CheckOptions { ReadDataSubset = ReadDataSubset.Parse("2/2") });
        var packs = lab.PackIds();
        Assert.True(group1.IsClean && group2.IsClean);
        Assert.Equal(packs.Count(p => FirstByte(p) % 2 == 0), group1.PacksRead);
        Assert.Equal(packs.Count(p => FirstByte(p) % 2 == 1), group2.PacksRead);
        Assert.Equal(packs.Count, group1.PacksRead + group2.PacksRead);
        Assert.Equal(packs.Sum(p => new FileInfo(lab.PackPath(p)).Length), group1.BytesRead + group2.BytesRead);

        // Damage a pack of group 1 (first byte even): 1/2 reports it, 2/2 does not; restic agrees on both.
        var target = dataPacks.First(p => FirstByte(p.Pack) % 2 == 0);
        CheckerLab.FlipByte(lab.PackPath(target.Pack), target.Offset + 100);

        var inside = await lab.CheckAsync(new CheckOptions { ReadDataSubset = ReadDataSubset.OfGroup(1, 2) });
        var outside = await lab.CheckAsync(new CheckOptions { ReadDataSubset = ReadDataSubset.OfGroup(2, 2) });
        var resticInside = await lab.ResticCheckAsync("--read-data-subset", "1/2");
        var resticOutside = await lab.ResticCheckAsync("--read-data-subset", "2/2");

        CheckAssert.Agree(inside, resticInside);
        CheckAssert.Agree(outside, resticOutside);
        Assert.True(outside.IsClean, string.Join('\n', outside.Errors));
        var damaged = CheckAssert.Single(inside, CheckErrorKind.BlobDamaged);
        Assert.Equal(target.Pack, damaged.PackId);
        Assert.Equal([new AffectedPath(target.Snapshot.Id, target.Source + "/big.bin")], damaged.AffectedPaths);
        Assert.Equal(target.Pack, CheckAssert.Single(inside, CheckErrorKind.PackIdMismatch).PackId);
        CheckAssert.Mentions(resticInside, target.Pack);
    }

    [Fact]
    public async Task Percentage_and_size_subsets_read_that_share_of_packs_at_random()
    {
        using var lab = await CheckerLab.CreateAsync(backups: 3);
        int packs = lab.PackIds().Count;

        var half = await lab.CheckAsync(new CheckOptions { ReadDataSubset = ReadDataSubset.Parse("50%"), RandomSeed = 1 });
        var tiny = await lab.CheckAsync(new CheckOptions { ReadDataSubset = ReadDataSubset.Parse("0.1%"), RandomSeed = 2 });
        var all = await lab.CheckAsync(new CheckOptions { ReadDataSubset = ReadDataSubset.Parse("100%") });
        var bySize = await lab.CheckAsync(new CheckOptions { ReadDataSubset = ReadDataSubset.Parse("1T") });

        Assert.Equal(packs / 2, half.PacksRead);
        Assert.Equal(1, tiny.PacksRead); // at least one pack, as restic does
        Assert.Equal(packs, all.PacksRead);
        Assert.Equal(packs, bySize.PacksRead); // more than the repository: everything
    }

    [Theory]
    [InlineData("1/2", ReadDataSubsetKind.Group, "1/2")]
    [InlineData("256/256", ReadDataSubsetKind.Group, "256/256")]
    [InlineData("2.5%", ReadDataSubsetKind.Percentage, "2.5%")]
    [InlineData("100%", ReadDataSubsetKind.Percentage, "100%")]
    [InlineData("500", ReadDataSubsetKind.Size, "500")]
    [InlineData("500b", ReadDataSubsetKind.Size, "500")]
    [InlineData("3k", ReadDataSubsetKind.Size, "3072")]
    [InlineData("2M", ReadDataSubsetKind.Size, "2097152")]
    [InlineData("1g", ReadDataSubsetKind.Size, "1073741824")]
    [InlineData("1T", ReadDataSubsetKind.Size, "1099511627776")]
    public void Parses_restics_notations(string text, ReadDataSubsetKind kind, string normalized)
    {
        var subset = ReadDataSubset.Parse(text);

        Assert.Equal(kind, subset.Kind);
        Assert.Equal(normalized, subset.ToString());
    }

    [Theory]
    [InlineData("0/2")]
    [InlineData("3/2")]
    [InlineData("1/257")]
    [InlineData("1/2/3")]
    [InlineData("0%")]
    [InlineData("101%")]
    [InlineData("x%")]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("12q")]
    [InlineData("")]
    public void Rejects_what_restic_rejects(string text) => Assert.Throws<FormatException>(() => ReadDataSubset.Parse(text));

    [Fact]
    public async Task Read_data_and_a_subset_together_are_refused()
    {
        using var dir = new TempDirectory();
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));

        await Assert.ThrowsAsync<ArgumentException>(() => repo.CheckAsync(new CheckOptions { ReadData = true, ReadDataSubset = ReadDataSubset.OfGroup(1, 2) }));
    }
}
