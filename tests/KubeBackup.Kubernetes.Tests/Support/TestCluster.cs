using k8s;
using k8s.Models;
using KubeBackup.FakeKube;

namespace KubeBackup.Kubernetes.Tests.Support;

/// <summary>A fake API server and a real KubernetesClient pointed at it.</summary>
public sealed class TestCluster : IAsyncDisposable
{
    private TestCluster(FakeKubeServer server, IKubernetes client)
    {
        Server = server;
        Client = client;
    }

    public FakeKubeServer Server { get; }

    public IKubernetes Client { get; }

    public static async Task<TestCluster> StartAsync(FakeKubeOptions? options = null)
    {
        var server = await FakeKubeServer.StartAsync(options);
        var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = server.BaseAddress.ToString().TrimEnd('/') });
        return new TestCluster(server, client);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>Creates a Deployment/StatefulSet/DaemonSet-free pod with one container and waits until it runs.</summary>
    public async Task<V1Pod> CreatePodAsync(string name, string ns = "default", Action<V1Pod>? configure = null)
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = new Dictionary<string, string> { ["app"] = name } },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "main", Image = "busybox" }] },
        };
        configure?.Invoke(pod);
        await Client.CoreV1.CreateNamespacedPodAsync(pod, ns);
        return await WaitForAsync(() => Client.CoreV1.ReadNamespacedPodAsync(name, ns), p => p.Status?.Phase is not null);
    }

    /// <summary>Polls until a condition holds (the controllers work asynchronously). Fails after a generous bound.</summary>
    public static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> condition, int maxSeconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(maxSeconds);
        while (true)
        {
            var value = await read();
            if (condition(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not reached");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Creates a bound PVC and waits for it.</summary>
    public async Task<V1PersistentVolumeClaim> CreatePvcAsync(string name, string ns = "default", string size = "1Gi")
    {
        await Client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(new V1PersistentVolumeClaim
        {
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new V1PersistentVolumeClaimSpec
            {
                AccessModes = ["ReadWriteOnce"],
                Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new ResourceQuantity(size) } },
                StorageClassName = "standard",
            },
        }, ns);
        return await WaitForAsync(() => Client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync(name, ns), p => p.Status?.Phase == "Bound");
    }
}
