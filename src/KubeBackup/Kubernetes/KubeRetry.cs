using System.Net;
using System.Net.WebSockets;
using k8s.Autorest;
using Microsoft.Extensions.Logging;

namespace KubeBackup.Kubernetes;

/// <summary>How Kubernetes API calls are retried.</summary>
public sealed class KubeRetryOptions
{
    /// <summary>Attempts in all, the first included. Default 6.</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>The first pause; it doubles per attempt up to <see cref="MaxDelay"/>. Default 100 ms.</summary>
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest pause. Default 5 s.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Retries API calls that failed for reasons that pass: 5xx and 429 answers, broken connections, and 409 Conflict (a
/// stale resourceVersion) when the operation re-reads what it changes. 409 AlreadyExists, 404 and other 4xx answers are
/// final.
/// </summary>
internal static class KubeRetry
{
    public static async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> operation, KubeRetryOptions? options, ILogger? logger, string what,
        CancellationToken cancellationToken, bool retryConflicts = false)
    {
        options ??= new KubeRetryOptions();
        var delay = options.InitialDelay;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await operation(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (attempt < options.MaxAttempts && IsTransient(ex, retryConflicts) && !cancellationToken.IsCancellationRequested)
            {
                logger?.LogDebug("{What} failed ({Reason}); attempt {Attempt} of {Max}", what, Describe(ex), attempt, options.MaxAttempts);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxDelay.Ticks));
            }
        }
    }

    public static Task RunAsync(Func<CancellationToken, Task> operation, KubeRetryOptions? options, ILogger? logger, string what,
        CancellationToken cancellationToken, bool retryConflicts = false) =>
        RunAsync(async ct =>
        {
            await operation(ct).ConfigureAwait(false);
            return true;
        }, options, logger, what, cancellationToken, retryConflicts);

    public static bool IsTransient(Exception ex, bool retryConflicts) => ex switch
    {
        HttpOperationException h => h.Response?.StatusCode is { } code && (IsTransientCode(code) || (retryConflicts && IsConflict(h))),
        HttpRequestException => true,
        WebSocketException w => w.Message.Contains("status code '5", StringComparison.Ordinal) || w.Message.Contains("'429'", StringComparison.Ordinal)
            || w.WebSocketErrorCode is WebSocketError.ConnectionClosedPrematurely,
        IOException => true,
        _ => false,
    };

    private static bool IsTransientCode(HttpStatusCode code) => (int)code >= 500 || code == HttpStatusCode.TooManyRequests;

    /// <summary>A 409 that says "modified meanwhile" rather than "already exists".</summary>
    public static bool IsConflict(HttpOperationException ex) =>
        ex.Response?.StatusCode == HttpStatusCode.Conflict && !(ex.Response.Content ?? "").Contains("AlreadyExists", StringComparison.Ordinal);

    public static bool IsNotFound(Exception ex) => ex is HttpOperationException { Response.StatusCode: HttpStatusCode.NotFound };

    public static bool IsAlreadyExists(Exception ex) =>
        ex is HttpOperationException { Response.StatusCode: HttpStatusCode.Conflict } h && (h.Response.Content ?? "").Contains("AlreadyExists", StringComparison.Ordinal);

    /// <summary>A short reason for logs and messages: the status code and the API's message, never a request body.</summary>
    public static string Describe(Exception ex) => ex switch
    {
        HttpOperationException h => $"HTTP {(int?)h.Response?.StatusCode}: {StatusMessage(h.Response?.Content)}",
        _ => ex.Message,
    };

    private static string StatusMessage(string? content)
    {
        if (string.IsNullOrEmpty(content))
        {
            return "(no body)";
        }

        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(content);
            if (doc.RootElement.TryGetProperty("message", out var m) && m.ValueKind == System.Text.Json.JsonValueKind.String)
            {
                return m.GetString() ?? "";
            }
        }
        catch (System.Text.Json.JsonException)
        {
        }

        return content.Length > 200 ? content[..200] : content;
    }
}
