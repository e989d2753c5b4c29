using System.Buffers;
using System.Text;
using KubeBackup.Restic;
using KubeBackup.Restic.Json;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;

namespace KubeBackup.Tests.Support;

/// <summary>
/// Writes arbitrary (including hostile) trees into a repository through the library's own writer: names with '/',
/// '..', duplicates, symlinks pointing outside. Used to prove that reading code treats snapshots as untrusted input.
/// </summary>
internal sealed class RepositoryForger : IAsyncDisposable
{
    private readonly ResticRepository _repository;
    private readonly BlobWriter _writer;

    public RepositoryForger(ResticRepository repository)
    {
        _repository = repository;
        _writer = new BlobWriter(repository, CancellationToken.None);
    }

    public async Task<ResticId> BlobAsync(BlobType type, byte[] plaintext)
    {
        var id = ResticId.Hash(plaintext);
        if (_writer.TryReserve(id, type))
        {
            var sealedBuffer = new byte[ResticRepository.MaxSealedLength(plaintext.Length)];
            int n = _repository.SealBlob(type, plaintext, sealedBuffer, out uint ulen);
            await _writer.AddAsync(type, id, sealedBuffer.AsMemory(0, n), ulen, plaintext.Length);
        }

        return id;
    }

    /// <summary>A tree with the nodes exactly in the given order, duplicates and all.</summary>
    public Task<ResticId> TreeAsync(params Node[] nodes)
    {
        var buffer = new ArrayBufferWriter<byte>();
        buffer.Write("{\"nodes\":["u8);
        for (int i = 0; i < nodes.Length; i++)
        {
            if (i > 0)
            {
                buffer.Write(","u8);
            }

            ResticJson.WriteNode(nodes[i], buffer);
        }

        buffer.Write("]}\n"u8);
        return BlobAsync(BlobType.Tree, buffer.WrittenSpan.ToArray());
    }

    public async Task<Node> FileAsync(string name, string content) => await FileAsync(Encoding.UTF8.GetBytes(name), Encoding.UTF8.GetBytes(content));

    public async Task<Node> FileAsync(byte[] name, byte[] content)
    {
        var node = Node(name, NodeType.File, 0x1A4);
        node.Size = (ulong)content.Length;
        node.Content = content.Length == 0 ? [] : [await BlobAsync(BlobType.Data, content)];
        return node;
    }

    public static Node Dir(string name, ResticId subtree)
    {
        var node = Node(Encoding.UTF8.GetBytes(name), NodeType.Dir, 0x1ED | (1u << 31));
        node.Subtree = subtree;
        return node;
    }

    public static Node Symlink(string name, string target)
    {
        var node = Node(Encoding.UTF8.GetBytes(name), NodeType.Symlink, 0x1FF | (1u << 27));
        node.LinkTarget = Encoding.UTF8.GetBytes(target);
        return node;
    }

    private static Node Node(byte[] name, NodeType type, uint mode)
    {
        var now = GoTime.FromDateTimeOffset(new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero));
        return new Node { Name = name, Type = type, Mode = mode, ModTime = now, AccessTime = now, ChangeTime = now };
    }

    /// <summary>Flushes the blobs and writes a snapshot of the root tree.</summary>
    public async Task<Snapshot> SnapshotAsync(ResticId root)
    {
        await _writer.FlushAsync(CancellationToken.None);
        return await _repository.SaveSnapshotAsync(new Snapshot
        {
            Time = GoTime.Now(),
            Tree = root,
            Paths = ["/forged"],
            Hostname = "forger",
        }, CancellationToken.None);
    }

    public ValueTask DisposeAsync() => _writer.DisposeAsync();
}
