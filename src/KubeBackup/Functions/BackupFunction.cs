using KubeBackup.Tasks;

namespace KubeBackup.Functions;

/// <summary>
/// A step a task can run, registered by name. Its contract: <see cref="Bind"/> checks and types the parameters before
/// anything runs (so a typo in the third step fails before the first writes data); the bound step then runs with a
/// <see cref="FunctionContext"/>, records what it did there, and throws to fail (the exception's message becomes the
/// step's failure reason).
/// </summary>
public interface IBackupFunction
{
    /// <summary>Where in a task the function belongs. Data steps run between the pre and post hooks.</summary>
    FunctionStage Stage { get; }

    /// <summary>When the step runs unless the task says otherwise.</summary>
    ExecutionPolicy DefaultWhen { get; }

    /// <summary>Checks the (variable-resolved) parameters and returns the runnable step.</summary>
    /// <exception cref="Configuration.ConfigurationException">A parameter is missing, unknown or of the wrong type.</exception>
    IFunctionStep Bind(FunctionParameters parameters);
}

/// <summary>A function with its parameters bound.</summary>
public interface IFunctionStep
{
    /// <summary>Runs the step.</summary>
    Task RunAsync(FunctionContext context, CancellationToken cancellationToken);
}

/// <summary>Where a function belongs in a task.</summary>
public enum FunctionStage
{
    /// <summary>Takes or restores data; runs between the pre and post hooks (and while hold-open hooks are held).</summary>
    Data,

    /// <summary>Works on the repository afterwards: retention, check, drills.</summary>
    Maintenance,

    /// <summary>Publishes the outcome; runs last.</summary>
    Status,
}

/// <summary>A function with typed parameters: bind them once, run with them.</summary>
/// <typeparam name="TParameters">The function's parameter type.</typeparam>
public abstract class BackupFunction<TParameters> : IBackupFunction
    where TParameters : class
{
    /// <inheritdoc />
    public virtual FunctionStage Stage => FunctionStage.Data;

    /// <inheritdoc />
    public virtual ExecutionPolicy DefaultWhen => ExecutionPolicy.OnSuccess;

    /// <inheritdoc />
    public IFunctionStep Bind(FunctionParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var bound = BindParameters(parameters);
        parameters.ThrowIfInvalid();
        return new Step(this, bound);
    }

    /// <summary>Reads the parameters through <paramref name="parameters"/>' typed getters; problems are collected and
    /// reported together, and parameters the function did not read are reported as unknown.</summary>
    protected abstract TParameters BindParameters(FunctionParameters parameters);

    /// <summary>Runs with bound parameters.</summary>
    protected abstract Task RunAsync(FunctionContext context, TParameters parameters, CancellationToken cancellationToken);

    private sealed class Step(BackupFunction<TParameters> function, TParameters parameters) : IFunctionStep
    {
        public Task RunAsync(FunctionContext context, CancellationToken cancellationToken) => function.RunAsync(context, parameters, cancellationToken);
    }
}
