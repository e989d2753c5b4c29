namespace KubeBackup.Storage;

/// <summary>Names one file in a backend: its type and its name (the lower-case hex ID; empty for <see cref="FileType.Config"/>).</summary>
/// <param name="Type">The kind of file.</param>
/// <param name="Name">The file name; empty for the config file.</param>
public readonly record struct FileHandle(FileType Type, string Name)
{
    /// <summary>The handle of the repository's <c>config</c> file.</summary>
    public static FileHandle Config => new(FileType.Config, string.Empty);

    /// <summary>The path of the file relative to the repository root, in restic's layout (for example <c>data/ab/ab12…</c>).</summary>
    public string RelativePath => Type switch
    {
        FileType.Config => "config",
        FileType.Key => "keys/" + Name,
        FileType.Lock => "locks/" + Name,
        FileType.Snapshot => "snapshots/" + Name,
        FileType.Index => "index/" + Name,
        FileType.Pack => Name.Length >= 2 ? $"data/{Name[..2]}/{Name}" : "data/" + Name,
        _ => throw new ArgumentOutOfRangeException(nameof(Type)),
    };

    /// <inheritdoc />
    public override string ToString() => RelativePath;

    /// <summary>The folder restic keeps files of this type in, or <c>null</c> for the config file.</summary>
    public static string? DirectoryOf(FileType type) => type switch
    {
        FileType.Config => null,
        FileType.Key => "keys",
        FileType.Lock => "locks",
        FileType.Snapshot => "snapshots",
        FileType.Index => "index",
        FileType.Pack => "data",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
