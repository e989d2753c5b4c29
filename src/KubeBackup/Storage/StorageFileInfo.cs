namespace KubeBackup.Storage;

/// <summary>A file found in a backend: its name (without folder) and its size in bytes.</summary>
/// <param name="Name">The file name, for example the 64 hex characters of a pack ID.</param>
/// <param name="Size">The size in bytes.</param>
public readonly record struct StorageFileInfo(string Name, long Size);
