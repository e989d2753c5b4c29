using k8s.Models;
using KubeBackup.FakeKube;

namespace KubeBackup.Kubernetes.Tests.Support;

/// <summary>Workload objects for tests.</summary>
public static class Workloads
{
    public static V1PodTemplateSpec Template(string app, bool ready = true, string mountPath = "/data", string? claim = null) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Labels = new Dictionary<string, string> { ["app"] = app },
            Annotations = ready ? null : new Dictionary<string, string> { [Controllers.ReadyAnnotation] = "false" },
        },
        Spec = new V1PodSpec
        {
            Containers = [new V1Container { Name = "app", Image = "busybox", VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = mountPath }] }],
            Volumes = [claim is null
                ? new V1Volume { Name = "data", EmptyDir = new V1EmptyDirVolumeSource() }
                : new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = claim } }],
        },
    };

    public static V1Deployment Deployment(string name, int replicas = 1, bool ready = true, string? claim = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = Template(name, ready, claim: claim),
        },
    };

    public static V1StatefulSet StatefulSet(string name, int replicas, bool ready = true)
    {
        var template = Template(name, ready);
        template.Spec.Volumes = null;
        return new V1StatefulSet
        {
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new V1StatefulSetSpec
            {
                Replicas = replicas, ServiceName = name,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
                Template = template,
                VolumeClaimTemplates = [new V1PersistentVolumeClaim
                {
                    Metadata = new V1ObjectMeta { Name = "data" },
                    Spec = new V1PersistentVolumeClaimSpec
                    {
                        AccessModes = ["ReadWriteOnce"],
                        Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new ResourceQuantity("1Gi") } },
                    },
                }],
            },
        };
    }

    public static V1DaemonSet DaemonSet(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1DaemonSetSpec
        {
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = Template(name, mountPath: "/var/log"),
        },
    };
}
