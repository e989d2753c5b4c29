using System.Text.Json.Nodes;

namespace KubeBackup.Kubernetes.Tests.Support;

/// <summary>The repository's deploy/ folder and the CRD schemas in it.</summary>
public static class DeployFiles
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !Directory.Exists(Path.Combine(dir.FullName, "deploy", "crds")))
        {
            dir = dir.Parent;
        }

        return Path.Combine(dir?.FullName ?? throw new DirectoryNotFoundException("deploy/ not found above the test folder"), "deploy");
    }

    public static string[] Files(string sub) => Directory.GetFiles(Path.Combine(Root, sub), "*.yaml").Order(StringComparer.Ordinal).ToArray();

    public static JsonObject SchemaOf(string kind)
    {
        var crd = Files("crds").SelectMany(StructuralSchema.LoadYaml).Single(d => (string?)d["spec"]!["names"]!["kind"] == kind);
        return (JsonObject)crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!;
    }
}
