using System.Reflection;

namespace KubeBackup.Restic.Archiver;

/// <summary>What we record as <c>program_version</c> in snapshots.</summary>
internal static class ProgramInfo
{
    public static string Version { get; } = "kubebackup " +
        (typeof(ProgramInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0] ?? "0.0.0");
}
