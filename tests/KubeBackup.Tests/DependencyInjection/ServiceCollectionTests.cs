using KubeBackup.DependencyInjection;
using KubeBackup.Functions;
using KubeBackup.Hooks;
using KubeBackup.Sessions;
using KubeBackup.Storage;
using KubeBackup.Tasks;
using Microsoft.Extensions.DependencyInjection;

namespace KubeBackup.Tests.DependencyInjection;

public class ServiceCollectionTests
{
    private sealed class NoOpFunction : IBackupFunction, IFunctionStep
    {
        public FunctionStage Stage => FunctionStage.Data;
        public ExecutionPolicy DefaultWhen => ExecutionPolicy.OnSuccess;
        public IFunctionStep Bind(FunctionParameters parameters) => this;
        public Task RunAsync(FunctionContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [Fact]
    public void AddKubeBackup_composes_sessions_functions_and_the_backend_registry()
    {
        var services = new ServiceCollection();
        services.AddKubeBackup().AddSessions().AddFunction<NoOpFunction>("no-op");
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var functions = provider.GetRequiredService<FunctionRegistry>();
        Assert.True(functions.TryGet("no-op", out var f));
        Assert.IsType<NoOpFunction>(f);
        Assert.True(functions.TryGet(FunctionRegistry.FileBackup, out _));
        Assert.NotNull(provider.GetRequiredService<SessionRunner>());
        Assert.IsType<LocalHookExecutor>(provider.GetRequiredService<IHookExecutor>());
        Assert.IsType<KubeBackup.Storage.Local.LocalBackend>(provider.GetRequiredService<BackendRegistry>().Create("/tmp/some-repo"));
    }
}
