using System.Numerics;
using System.Runtime.InteropServices;
using KubeBackup.Platform;
using Microsoft.Win32.SafeHandles;

namespace KubeBackup.Restic.Restorer;

/// <summary>
/// Writes a restored file past the page cache: the block-aligned middle of each blob through a second descriptor
/// opened with <c>O_DIRECT</c>, the unaligned ends through the ordinary one. A large restore then neither evicts what
/// the node had cached (a workload's own files) nor leaves gigabytes of dirty pages whose writeback slows down
/// everything after it; and on virtual machines whose memory the host backs lazily, the kernel no longer takes a fresh
/// page (and a host fault) for every 4 KiB restored, which was most of a restore's time there.
/// </summary>
/// <remarks>
/// The two descriptors never write to the same block: a direct write covers whole blocks of the file system's
/// preferred size, and the buffered writes are only the partial blocks at a blob's ends, which no direct write
/// touches. Where the device refuses the alignment (<c>EINVAL</c>), the writer falls back to the ordinary descriptor
/// for the rest of the file and says so in <see cref="Refused"/>.
/// </remarks>
internal sealed class DirectFileWriter : IDisposable
{
    /// <summary>Files below this size go through the page cache: a direct write waits for the device, which costs more
    /// than it saves on a few pages.</summary>
    public const long MinimumFileSize = 1 << 20;

    /// <summary>The most one direct write covers: the size of a worker's <see cref="Staging"/> buffer.</summary>
    public const int StagingSize = 1 << 20;

    private const int PageSize = 4096;

    // The direct descriptor, closed only by Dispose; _direct is the same until a write is refused, then null.
    private readonly SafeFileHandle _handle;
    private readonly long _alignment;
    private SafeFileHandle? _direct;

    private DirectFileWriter(SafeFileHandle direct, int alignment)
    {
        _handle = direct;
        _direct = direct;
        _alignment = alignment;
    }

    /// <summary>Whether a direct write was refused and the file went on through the page cache.</summary>
    public bool Refused => Volatile.Read(ref _direct) is null;

    /// <summary>A writer for the file <paramref name="file"/> is open on (at <paramref name="name"/> in
    /// <paramref name="dir"/>), or <see langword="null"/> where its file system does not take <c>O_DIRECT</c>.</summary>
    public static DirectFileWriter? TryOpen(DirectoryHandle dir, ReadOnlySpan<byte> name, SafeFileHandle file)
    {
        var direct = dir.TryOpenForDirectWrite(name, file, out int blockSize);
        if (direct is null)
        {
            return null;
        }

        // Whole file-system blocks, never less than a page: a direct write into part of a newly allocated block would
        // have the file system zero the rest of it, which may be a buffered write's data.
        int alignment = Math.Max(PageSize, blockSize);
        if (!BitOperations.IsPow2(alignment) || alignment > StagingSize)
        {
            direct.Dispose();
            return null;
        }

        return new DirectFileWriter(direct, alignment);
    }

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>; <paramref name="buffered"/> is the file's
    /// ordinary descriptor, <paramref name="staging"/> the calling worker's aligned buffer. Safe to call from several
    /// workers at once for different ranges.</summary>
    /// <exception cref="PosixException">A write failed (other than a refused alignment).</exception>
    public void Write(SafeFileHandle buffered, ReadOnlySpan<byte> data, long offset, Staging staging, string displayPath)
    {
        long end = offset + data.Length;
        long first = (offset + _alignment - 1) & -_alignment;
        long last = end & -_alignment;
        var direct = Volatile.Read(ref _direct);
        if (direct is null || last <= first)
        {
            RandomAccess.Write(buffered, data, offset);
            return;
        }

        if (first > offset)
        {
            RandomAccess.Write(buffered, data[..(int)(first - offset)], offset);
        }

        if (end > last)
        {
            RandomAccess.Write(buffered, data[(int)(last - offset)..], last);
        }

        // O_DIRECT needs the memory aligned as well, which pooled managed arrays are not: each piece is copied into
        // the worker's staging buffer first (a memory copy is far cheaper than the page-cache work it replaces).
        for (long position = first; position < last;)
        {
            int length = (int)Math.Min(StagingSize, last - position);
            var piece = staging.Span[..length];
            data.Slice((int)(position - offset), length).CopyTo(piece);
            int errno = PosixFile.TryWriteAll(direct, piece, position);
            if (errno == LibC.EINVAL)
            {
                Volatile.Write(ref _direct, null);
                RandomAccess.Write(buffered, data[(int)(position - offset)..(int)(last - offset)], position);
                return;
            }

            if (errno != 0)
            {
                throw new PosixException("pwrite", errno, displayPath);
            }

            position += length;
        }
    }

    /// <summary>Closes the direct descriptor; call once every write has returned.</summary>
    public void Dispose() => _handle.Dispose();

    /// <summary>A worker's <see cref="StagingSize"/> bytes of page-aligned native memory, reused for every direct
    /// write it makes; allocated on first use, freed with the worker.</summary>
    internal sealed unsafe class Staging : IDisposable
    {
        private byte* _memory;

        public Span<byte> Span
        {
            get
            {
                if (_memory is null)
                {
                    _memory = (byte*)NativeMemory.AlignedAlloc(StagingSize, PageSize);
                }

                return new Span<byte>(_memory, StagingSize);
            }
        }

        public void Dispose()
        {
            if (_memory is not null)
            {
                NativeMemory.AlignedFree(_memory);
                _memory = null;
            }
        }
    }
}
