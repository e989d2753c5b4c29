using System.CommandLine;
using KubeBackup.Restic.Model;

namespace KubeBackup.Cli.Commands;

internal static class LsCommand
{
    public static Command Create(GlobalOptions global)
    {
        var selection = new SnapshotSelection();
        var snapshot = new Argument<string>("SNAPSHOT") { Description = "snapshot ID or 'latest'" };
        var dirs = new Argument<string[]>("DIR") { Arity = ArgumentArity.ZeroOrMore, Description = "only list items in these folders (absolute snapshot paths)" };
        var longFormat = new Option<bool>("--long", "-l") { Description = "use a long listing format showing size and mode" };
        var command = new Command("ls", "List files in a snapshot") { snapshot, dirs, longFormat };
        selection.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var context = new CliContext(parse, global);
            await using var repo = await context.OpenAsync(ct);
            var snap = await repo.FindSnapshotAsync(parse.GetValue(snapshot)!, selection.Build(parse), ct);
            var prefixes = (parse.GetValue(dirs) ?? []).Select(d => "/" + d.Trim('/')).ToList();
            var output = Console.Out;
            if (context.Json)
            {
                var head = SnapshotsCommand.ToJson(snap);
                head["struct_type"] = "snapshot";
                await output.WriteLineAsync(JsonOutput.Serialize(head));
            }
            else
            {
                await output.WriteLineAsync($"snapshot {snap.Id.ToShortString()} of [{string.Join(' ', snap.Paths)}] filtered by [{string.Join(' ', prefixes)}] at {snap.Time}:");
            }

            await foreach (var entry in repo.ListFilesAsync(snap, ct))
            {
                if (prefixes.Count > 0 && !prefixes.Any(p => entry.Path == p || entry.Path.StartsWith(p == "/" ? "/" : p + "/", StringComparison.Ordinal)))
                {
                    continue;
                }

                var n = entry.Node;
                if (context.Json)
                {
                    var d = new Dictionary<string, object?>
                    {
                        ["name"] = n.DisplayName,
                        ["type"] = n.Type.ToString().ToLowerInvariant(),
                        ["path"] = entry.Path,
                        ["uid"] = n.Uid,
                        ["gid"] = n.Gid,
                    };
                    if (n.Type == NodeType.File) d["size"] = n.Size;
                    d["mode"] = n.Mode;
                    d["permissions"] = Formatting.Permissions(n.Mode);
                    d["mtime"] = n.ModTime.ToString();
                    d["atime"] = n.AccessTime.ToString();
                    d["ctime"] = n.ChangeTime.ToString();
                    d["struct_type"] = "node";
                    await output.WriteLineAsync(JsonOutput.Serialize(d));
                }
                else if (parse.GetValue(longFormat))
                {
                    var target = n.Type == NodeType.Symlink ? " -> " + System.Text.Encoding.UTF8.GetString(n.LinkTarget ?? []) : "";
                    await output.WriteLineAsync($"{Formatting.Permissions(n.Mode)} {n.Uid,5} {n.Gid,5} {n.Size,12} {Formatting.Time(n.ModTime)} {entry.Path}{target}");
                }
                else
                {
                    await output.WriteLineAsync(entry.Path);
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
