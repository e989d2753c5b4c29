using System.CommandLine;

namespace KubeBackup.Cli.Commands;

internal static class KeyCommand
{
    public static Command Create(GlobalOptions global)
    {
        var newPasswordFile = new Option<string?>("--new-password-file") { Description = "file from which to read the new password" };
        var list = new Command("list", "List keys (passwords)");
        var add = new Command("add", "Add a new key (password)") { newPasswordFile };
        var passwd = new Command("passwd", "Change the password of the key in use") { newPasswordFile };
        var id = new Argument<string>("ID") { Description = "key ID (or unique prefix)" };
        var remove = new Command("remove", "Remove a key (password)") { id };
        var command = new Command("key", "Manage keys (passwords)") { list, add, passwd, remove };

        list.SetAction(async (parse, ct) =>
        {
            var context = new CliContext(parse, global);
            await using var repo = await context.OpenAsync(ct);
            var keys = await repo.ListKeysAsync(ct);
            if (context.Json)
            {
                Console.Out.WriteLine(JsonOutput.Serialize(keys.Select(k => new Dictionary<string, object?>
                {
                    ["current"] = k.IsCurrent,
                    ["id"] = k.Id.ToShortString(),
                    ["userName"] = k.Username,
                    ["hostName"] = k.Hostname,
                    ["created"] = Formatting.Time(k.Created),
                })));
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine(" ID        User        Host        Created");
            Console.Out.WriteLine(new string('-', 60));
            foreach (var k in keys)
            {
                Console.Out.WriteLine($"{(k.IsCurrent ? "*" : " ")}{k.Id.ToShortString(),-9} {k.Username,-11} {k.Hostname,-11} {Formatting.Time(k.Created)}");
            }

            return ExitCodes.Ok;
        });
        add.SetAction(async (parse, ct) =>
        {
            var context = new CliContext(parse, global);
            await using var repo = await context.OpenAsync(ct);
            var newId = await repo.AddKeyAsync(NewPassword(parse.GetValue(newPasswordFile)), cancellationToken: ct);
            context.Info($"saved new key as <Key of {Environment.UserName}@{repo.Options.Hostname}, id {newId.ToShortString()}>");
            return ExitCodes.Ok;
        });
        passwd.SetAction(async (parse, ct) =>
        {
            var context = new CliContext(parse, global);
            await using var repo = await context.OpenAsync(ct);
            var newId = await repo.ChangePasswordAsync(NewPassword(parse.GetValue(newPasswordFile)), cancellationToken: ct);
            context.Info($"saved new key as <Key of {Environment.UserName}@{repo.Options.Hostname}, id {newId.ToShortString()}>");
            return ExitCodes.Ok;
        });
        remove.SetAction(async (parse, ct) =>
        {
            var context = new CliContext(parse, global);
            await using var repo = await context.OpenAsync(ct);
            var prefix = parse.GetValue(id)!;
            var matches = (await repo.ListKeysAsync(ct)).Where(k => k.Id.HasPrefix(prefix)).ToList();
            var key = matches.Count == 1 ? matches[0] : throw new CliException(matches.Count == 0 ? $"No key has an ID starting with '{prefix}'." : $"The prefix '{prefix}' is ambiguous.");
            await repo.RemoveKeyAsync(key.Id, ct);
            context.Info($"removed key {key.Id.ToShortString()}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string NewPassword(string? file)
    {
        if (file is not null)
        {
            return File.ReadAllText(file).TrimEnd('\n').TrimEnd('\r');
        }

        // restic reads the new password from a prompt only; never from an argument or the old password's variables.
        return PasswordSource.Prompt("enter new password: ", confirm: true);
    }
}
