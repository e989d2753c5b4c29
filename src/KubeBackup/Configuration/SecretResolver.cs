using System.Diagnostics;

namespace KubeBackup.Configuration;

/// <summary>Reads the value behind a <see cref="SecretReference"/>. The Kubernetes package adds one for secret keys.</summary>
public interface ISecretResolver
{
    /// <summary>The secret's value.</summary>
    /// <exception cref="ConfigurationException">The secret cannot be read; the message names its source, not its value.</exception>
    Task<string> ResolveAsync(SecretReference reference, CancellationToken cancellationToken);
}

/// <summary>Resolves environment variables, files, commands and values given in code.</summary>
public sealed class LocalSecretResolver : ISecretResolver
{
    /// <inheritdoc />
    public async Task<string> ResolveAsync(SecretReference reference, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (reference.LiteralValue is { } literal)
        {
            return literal;
        }

        if (!string.IsNullOrEmpty(reference.Env))
        {
            return System.Environment.GetEnvironmentVariable(reference.Env) is { Length: > 0 } value
                ? value
                : throw new ConfigurationException($"The environment variable {reference.Env} is not set.");
        }

        if (!string.IsNullOrEmpty(reference.File))
        {
            try
            {
                string text = await System.IO.File.ReadAllTextAsync(reference.File, cancellationToken).ConfigureAwait(false);
                return TrimOneNewline(text);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new ConfigurationException($"The secret file {reference.File} cannot be read: {ex.GetType().Name}.");
            }
        }

        if (reference.Command is { Count: > 0 } command)
        {
            return await RunAsync(command, cancellationToken).ConfigureAwait(false);
        }

        if (!string.IsNullOrEmpty(reference.Name))
        {
            throw new ConfigurationException($"{reference} needs a resolver for Kubernetes secrets (the Kubernetes package).");
        }

        throw new ConfigurationException("A secret reference names no source (env, file or command).");
    }

    private static async Task<string> RunAsync(List<string> command, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in command.Skip(1))
        {
            psi.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new ConfigurationException($"The secret command {command[0]} did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new ConfigurationException($"The secret command {command[0]} did not start: {ex.Message}");
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            // The command's error output is drained but never repeated: it might echo what it was asked for.
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            string output = await stdout.ConfigureAwait(false);
            await stderr.ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                throw new ConfigurationException($"The secret command {command[0]} exited with code {process.ExitCode}.");
            }

            return TrimOneNewline(output);
        }
    }

    private static string TrimOneNewline(string text)
    {
        if (text.EndsWith('\n'))
        {
            text = text[..^1];
            if (text.EndsWith('\r'))
            {
                text = text[..^1];
            }
        }

        return text;
    }
}
