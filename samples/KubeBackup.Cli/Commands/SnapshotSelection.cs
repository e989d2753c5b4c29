using System.CommandLine;
using KubeBackup.Restic.Snapshots;

namespace KubeBackup.Cli.Commands;

/// <summary>restic's <c>--host</c>, <c>--tag</c>, <c>--path</c> snapshot filters.</summary>
internal sealed class SnapshotSelection
{
    public Option<string[]> Host { get; } = new("--host", "-H") { Description = "only consider snapshots for this host (can be given several times)" };
    public Option<string[]> Tag { get; } = new("--tag") { Description = "only consider snapshots including tag[,tag,...] (can be given several times)" };
    public Option<string[]> Path { get; } = new("--path") { Description = "only consider snapshots including this (absolute) path (can be given several times)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Host);
        command.Options.Add(Tag);
        command.Options.Add(Path);
    }

    public SnapshotFilter Build(ParseResult parse)
    {
        var filter = new SnapshotFilter();
        foreach (var h in parse.GetValue(Host) ?? []) filter.Hosts.Add(h);
        foreach (var t in parse.GetValue(Tag) ?? []) filter.Tags.Add(t.Split(',', StringSplitOptions.RemoveEmptyEntries));
        foreach (var p in parse.GetValue(Path) ?? []) filter.Paths.Add(p);
        return filter;
    }
}
