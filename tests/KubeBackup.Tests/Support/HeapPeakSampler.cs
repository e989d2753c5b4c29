namespace KubeBackup.Tests.Support;

/// <summary>Samples the live managed heap (forced full collections) on a thread of its own until disposed, so a
/// memory test can report the peak an operation reached above the baseline at its start.</summary>
public sealed class HeapPeakSampler : IDisposable
{
    private readonly Thread _thread;
    private long _peak;
    private volatile bool _running = true;

    public HeapPeakSampler()
    {
        Baseline = GC.GetTotalMemory(forceFullCollection: true);
        _peak = Baseline;
        // A thread of its own, so a busy thread pool cannot starve the sampling.
        _thread = new Thread(() =>
        {
            while (_running)
            {
                // A forced collection per sample: the live set, not garbage the GC has not yet reclaimed.
                long live = GC.GetTotalMemory(forceFullCollection: true);
                Interlocked.Exchange(ref _peak, Math.Max(Interlocked.Read(ref _peak), live));
                Thread.Sleep(10);
            }
        }) { IsBackground = true };
        _thread.Start();
    }

    public long Baseline { get; }

    /// <summary>The highest live heap seen above the baseline, in bytes.</summary>
    public long PeakAboveBaseline => Interlocked.Read(ref _peak) - Baseline;

    public void Dispose()
    {
        _running = false;
        _thread.Join();
    }
}
