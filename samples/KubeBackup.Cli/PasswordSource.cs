using System.Diagnostics;

namespace KubeBackup.Cli;

/// <summary>
/// Finds the repository password the way restic does: <c>--password-file</c>, <c>--password-command</c>,
/// <c>RESTIC_PASSWORD_FILE</c>, <c>RESTIC_PASSWORD_COMMAND</c>, <c>RESTIC_PASSWORD</c>, or a prompt on a terminal.
/// There is deliberately no option to pass the password itself: arguments are visible to every user of the machine.
/// </summary>
internal static class PasswordSource
{
    public static string Get(string? passwordFile, string? passwordCommand, bool confirm)
    {
        passwordFile ??= Environment.GetEnvironmentVariable("RESTIC_PASSWORD_FILE");
        passwordCommand ??= Environment.GetEnvironmentVariable("RESTIC_PASSWORD_COMMAND");
        if (!string.IsNullOrEmpty(passwordFile))
        {
            try
            {
                // restic strips one trailing newline (and CR) from a password file.
                return File.ReadAllText(passwordFile).TrimEnd('\n').TrimEnd('\r');
            }
            catch (IOException ex)
            {
                throw new CliException($"Cannot read the password file {passwordFile}: {ex.Message}");
            }
        }

        if (!string.IsNullOrEmpty(passwordCommand))
        {
            return RunCommand(passwordCommand);
        }

        var fromEnv = Environment.GetEnvironmentVariable("RESTIC_PASSWORD");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return fromEnv;
        }

        if (Console.IsInputRedirected)
        {
            throw new CliException("No password given: set RESTIC_PASSWORD, RESTIC_PASSWORD_FILE or use --password-file.");
        }

        return Prompt("enter password for repository: ", confirm);
    }

    /// <summary>Asks on the terminal without echo; with <paramref name="confirm"/>, asks twice.</summary>
    public static string Prompt(string text, bool confirm)
    {
        if (Console.IsInputRedirected)
        {
            throw new CliException("A password is needed and there is no terminal to ask on.");
        }

        var password = ReadHidden(text);
        if (confirm && ReadHidden("enter password again: ") != password)
        {
            throw new CliException("Passwords do not match.");
        }

        if (password.Length == 0)
        {
            throw new CliException("An empty password is not allowed.");
        }

        return password;
    }

    private static string RunCommand(string command)
    {
        // Like restic: split on whitespace, no shell; a user who wants one writes "sh -c '...'" themselves.
        var parts = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var psi = new ProcessStartInfo(parts[0]) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var p in parts.Skip(1))
        {
            psi.ArgumentList.Add(p);
        }

        using var process = Process.Start(psi) ?? throw new CliException("The password command did not start.");
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new CliException($"The password command exited with {process.ExitCode}.");
        }

        return output.TrimEnd('\n').TrimEnd('\r');
    }

    private static string ReadHidden(string text)
    {
        Console.Error.Write(text);
        var chars = new System.Text.StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (chars.Length > 0)
                {
                    chars.Length--;
                }

                continue;
            }

            chars.Append(key.KeyChar);
        }

        Console.Error.WriteLine();
        return chars.ToString();
    }
}

/// <summary>A user error the command line reports in one line, without a stack trace.</summary>
internal sealed class CliException(string message) : Exception(message);
