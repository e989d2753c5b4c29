using System.Globalization;
using System.Text;
using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Model;

namespace KubeBackup.Cli;

/// <summary>Human-readable sizes, modes and times in restic's style.</summary>
internal static class Formatting
{
    public static string Bytes(double bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        int i = 0;
        while (bytes >= 1024 && i < units.Length - 1)
        {
            bytes /= 1024;
            i++;
        }

        return i == 0 ? $"{bytes:0} {units[i]}" : string.Format(CultureInfo.InvariantCulture, "{0:0.000} {1}", bytes, units[i]);
    }

    public static string Duration(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}" : $"{t.Minutes}:{t.Seconds:00}";

    public static string Time(GoTime t) => t.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>The <c>ls -l</c> style permission string of a Go file mode, as restic prints it.</summary>
    public static string Permissions(uint goMode) => GoFileMode.ToDisplayString(goMode);

    public static string Summary(BackupResult r)
    {
        var s = r.Summary;
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Files:       {s.FilesNew,5} new, {s.FilesChanged,5} changed, {s.FilesUnmodified,5} unmodified");
        sb.AppendLine(CultureInfo.InvariantCulture, $"Dirs:        {s.DirsNew,5} new, {s.DirsChanged,5} changed, {s.DirsUnmodified,5} unmodified");
        sb.AppendLine(CultureInfo.InvariantCulture, $"Added to the repository: {Bytes(s.DataAdded)} ({Bytes(s.DataAddedPacked)} stored)");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"processed {s.TotalFilesProcessed} files, {Bytes(s.TotalBytesProcessed)} in {Duration(r.Duration)}");
        sb.Append(CultureInfo.InvariantCulture, $"snapshot {r.Snapshot.Id.ToShortString()} saved");
        return sb.ToString();
    }
}
