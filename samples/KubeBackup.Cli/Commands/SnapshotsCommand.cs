using System.CommandLine;
using System.Globalization;
using KubeBackup.Restic.Model;

namespace KubeBackup.Cli.Commands;

internal static class SnapshotsCommand
{
    public static Command Create(GlobalOptions global)
    {
        var selection = new SnapshotSelection();
        var ids = new Argument<string[]>("ID") { Arity = ArgumentArity.ZeroOrMore, Description = "snapshot IDs or 'latest'" };
        var command = new Command("snapshots", "List all snapshots") { ids };
        selection.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var context = new CliContext(parse, global);
            await using var repo = await context.OpenAsync(ct);
            var filter = selection.Build(parse);
            var all = await repo.ListSnapshotsAsync(ct);
            var wanted = parse.GetValue(ids) ?? [];
            var list = wanted.Length == 0 ? all.Where(filter.Matches).ToList() : wanted.Select(id => filter.Select(all, id)).Distinct().ToList();
            if (context.Json)
            {
                Console.Out.WriteLine(JsonOutput.Serialize(list.Select(ToJson).ToList()));
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine($"{"ID",-9} {"Time",-19}  {"Host",-10}  {"Tags",-10}  Paths");
            Console.Out.WriteLine(new string('-', 72));
            foreach (var s in list)
            {
                var tags = string.Join(',', s.Tags ?? []);
                var paths = s.Paths.Count > 0 ? s.Paths : [""];
                Console.Out.WriteLine($"{s.Id.ToShortString(),-9} {Formatting.Time(s.Time),-19}  {s.Hostname,-10}  {tags,-10}  {paths[0]}");
                foreach (var p in paths.Skip(1))
                {
                    Console.Out.WriteLine($"{"",-9} {"",-19}  {"",-10}  {"",-10}  {p}");
                }
            }

            Console.Out.WriteLine(new string('-', 72));
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{list.Count} snapshots"));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>restic's JSON shape for a snapshot: its fields plus <c>id</c> and <c>short_id</c>.</summary>
    public static Dictionary<string, object?> ToJson(Snapshot s)
    {
        var d = new Dictionary<string, object?>
        {
            ["time"] = s.Time.ToString(),
        };
        if (s.Parent is { } parent) d["parent"] = parent.ToString();
        d["tree"] = s.Tree.ToString();
        d["paths"] = s.Paths;
        if (s.Hostname is not null) d["hostname"] = s.Hostname;
        if (s.Username is not null) d["username"] = s.Username;
        if (s.Uid != 0) d["uid"] = s.Uid;
        if (s.Gid != 0) d["gid"] = s.Gid;
        if (s.Excludes is { Count: > 0 }) d["excludes"] = s.Excludes;
        if (s.Tags is { Count: > 0 }) d["tags"] = s.Tags;
        if (s.Original is { } original) d["original"] = original.ToString();
        if (s.ProgramVersion is not null) d["program_version"] = s.ProgramVersion;
        d["id"] = s.Id.ToString();
        d["short_id"] = s.Id.ToShortString();
        return d;
    }
}
