using Polly;

namespace KubeBackup.Storage.Resilience;

/// <summary>
/// How a remote backend survives a flaky network or a throttling service: retries with exponential backoff and
/// jitter, a timeout per attempt, and a circuit breaker that fails fast while the service is down. Only transient
/// failures (throttling, server errors, timeouts, connection resets) are retried; a missing file or refused
/// credentials fail at once.
/// </summary>
public sealed class StorageResilienceOptions
{
    /// <summary>How many times a failed call is retried (so at most this many + 1 attempts). Default 6; 0 disables retries.</summary>
    public int MaxRetryAttempts { get; set; } = 6;

    /// <summary>The delay before the first retry; later delays grow exponentially (with jitter). Default 500 ms.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest delay between two attempts. Default 30 s.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one attempt may take before it is abandoned and retried. It bounds a whole upload of one
    /// file (or one part of a multipart upload), so it must allow the largest pack at the slowest expected speed.
    /// Default 10 minutes.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Whether a circuit breaker stops calling a service that keeps failing. Default true.</summary>
    public bool CircuitBreakerEnabled { get; set; } = true;

    /// <summary>The share of failed calls within <see cref="CircuitBreakerSamplingDuration"/> that opens the circuit. Default 0.5.</summary>
    public double CircuitBreakerFailureRatio { get; set; } = 0.5;

    /// <summary>How many calls must be seen within the sampling window before the breaker may open. Default 20.</summary>
    public int CircuitBreakerMinimumThroughput { get; set; } = 20;

    /// <summary>The window over which failures are counted. Default 30 s.</summary>
    public TimeSpan CircuitBreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the circuit stays open (calls fail at once) before a trial call is let through. Default 15 s.</summary>
    public TimeSpan CircuitBreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Adds strategies innermost, inside the per-attempt timeout: telemetry, or Polly's chaos strategies
    /// (<c>AddChaosFault</c>, <c>AddChaosLatency</c>) to rehearse failures. Faults meant to be retried must be
    /// <see cref="TransientStorageException"/>s.</summary>
    public Action<ResiliencePipelineBuilder>? ConfigurePipeline { get; set; }

    /// <summary>The time source of delays and timeouts; tests may substitute a fake one. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Adds a description of every invalid setting to <paramref name="errors"/>.</summary>
    public void Validate(ICollection<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (MaxRetryAttempts is < 0 or > 100)
        {
            errors.Add("Resilience.MaxRetryAttempts must be between 0 and 100.");
        }

        if (BaseDelay <= TimeSpan.Zero || MaxDelay < BaseDelay)
        {
            errors.Add("Resilience.BaseDelay must be positive and at most Resilience.MaxDelay.");
        }

        if (AttemptTimeout <= TimeSpan.Zero)
        {
            errors.Add("Resilience.AttemptTimeout must be positive.");
        }

        if (CircuitBreakerEnabled)
        {
            if (CircuitBreakerFailureRatio is <= 0 or > 1)
            {
                errors.Add("Resilience.CircuitBreakerFailureRatio must be in (0, 1].");
            }

            if (CircuitBreakerMinimumThroughput < 2)
            {
                errors.Add("Resilience.CircuitBreakerMinimumThroughput must be at least 2.");
            }

            if (CircuitBreakerSamplingDuration < TimeSpan.FromMilliseconds(500) || CircuitBreakerBreakDuration < TimeSpan.FromMilliseconds(500))
            {
                errors.Add("Resilience.CircuitBreakerSamplingDuration and CircuitBreakerBreakDuration must be at least 500 ms.");
            }
        }
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"retries {MaxRetryAttempts} (base {BaseDelay.TotalMilliseconds} ms, max {MaxDelay.TotalSeconds} s), attempt timeout {AttemptTimeout}, circuit breaker {(CircuitBreakerEnabled ? "on" : "off")}";
}
