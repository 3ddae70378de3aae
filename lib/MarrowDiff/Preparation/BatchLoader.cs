using System.Collections.Concurrent;
using MarrowDiff.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace MarrowDiff.Preparation;

/// <summary>A batch of normalised images (N × 3 × 96 × 96, channel-first) and their class indices 0…9. Its input
/// buffer goes back to the loader's pool on Dispose, so a long epoch reuses a few buffers instead of allocating
/// 4.4 MB per batch.</summary>
public sealed class Batch : IDisposable
{
    private readonly ConcurrentBag<float[]>? _pool;

    internal Batch(float[] inputs, long[] labels, int[] samples, int count, ConcurrentBag<float[]>? pool)
    {
        Inputs = inputs; Labels = labels; Samples = samples; Count = count; _pool = pool;
    }

    /// <summary>Count·3·96·96 floats (the array may be longer: it is pooled).</summary>
    public float[] Inputs { get; private set; }
    public long[] Labels { get; }

    /// <summary>Indices of the samples in the set, in batch order.</summary>
    public int[] Samples { get; }
    public int Count { get; }

    /// <summary>The batch as tensors on <paramref name="device"/>: images [N,3,96,96] float32 and labels [N] int64.
    /// The caller disposes them.</summary>
    public (Tensor Images, Tensor Labels) ToTensors(Device? device = null)
    {
        const int size = CellPatch.Size;
        // Copied straight into the tensor's own memory: no 4.4 MB managed array per batch, so the garbage collector
        // runs rarely during training (see TorchRuntime.Step for why that matters).
        var x = torch.empty([Count, 3, size, size], ScalarType.Float32);
        Inputs.AsSpan(0, Count * 3 * size * size).CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(x.bytes));
        var y = torch.tensor(Labels, [Count]);
        if (device is null || device.type == DeviceType.CPU) return (x, y);
        using (x) using (y) return (x.to(device), y.to(device));
    }

    public void Dispose()
    {
        if (Inputs.Length > 0) _pool?.Add(Inputs);
        Inputs = [];
    }
}

/// <summary>
/// Streams a <see cref="SampleSet"/> in batches. A background thread renders the next batches (crop, D4, YUV,
/// normalisation) while the caller trains on the current one; at most <see cref="Prefetch"/> batches wait ready, so
/// memory stays a few batches whatever the set's size. The order is shuffled per epoch from the seed and the epoch
/// number alone, so a resumed run sees the same order as an uninterrupted one.
/// </summary>
public sealed class BatchLoader
{
    private readonly ConcurrentBag<float[]> _pool = [];

    public BatchLoader(SampleSet set, ColourNormalisation normalisation, int batchSize = 40, int seed = 0, bool shuffle = true, int prefetch = 2)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be at least 1");
        if (prefetch < 1) throw new ArgumentOutOfRangeException(nameof(prefetch), "prefetch must be at least 1");
        Set = set; Normalisation = normalisation; BatchSize = batchSize; Seed = seed; Shuffle = shuffle; Prefetch = prefetch;
    }

    public SampleSet Set { get; }
    public ColourNormalisation Normalisation { get; }
    public int BatchSize { get; }
    public int Seed { get; }
    public bool Shuffle { get; }
    public int Prefetch { get; }

    public int BatchesPerEpoch => (Set.Count + BatchSize - 1) / BatchSize;

    /// <summary>The sample order of epoch <paramref name="epoch"/>.</summary>
    public int[] Order(int epoch)
    {
        int[] order = Enumerable.Range(0, Set.Count).ToArray();
        if (Shuffle) Rng.For(Seed, Rng.Key("epoch-order"), epoch).Shuffle(order);
        return order;
    }

    /// <summary>The batches of one epoch, rendered ahead on a background thread. Dispose each batch when done with
    /// it. Leaving the loop early stops the background work.</summary>
    public IEnumerable<Batch> Epoch(int epoch, CancellationToken cancel = default)
    {
        int[] order = Order(epoch);
        using var ready = new BlockingCollection<Batch>(Prefetch);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        Exception? failure = null;
        var producer = Task.Factory.StartNew(() =>
        {
            try
            {
                for (int start = 0; start < order.Length; start += BatchSize)
                {
                    stop.Token.ThrowIfCancellationRequested();
                    ready.Add(Render(order, start, Math.Min(BatchSize, order.Length - start)), stop.Token);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
            catch (Exception e) { failure = e; }
            finally { ready.CompleteAdding(); }
        }, stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        try
        {
            foreach (Batch batch in ready.GetConsumingEnumerable(cancel))
                yield return batch;
            if (failure is not null) throw new InvalidOperationException($"preparing a batch of {Set.Variant.Name} failed: {failure.Message}", failure);
        }
        finally
        {
            stop.Cancel();
            try { producer.Wait(CancellationToken.None); } catch (AggregateException) { }
            while (ready.TryTake(out Batch? left)) left.Dispose();
        }
    }

    private Batch Render(int[] order, int start, int count)
    {
        const int size = CellPatch.Size, per = 3 * size * size;
        if (!_pool.TryTake(out float[]? inputs) || inputs.Length < BatchSize * per) inputs = new float[BatchSize * per];
        var labels = new long[count];
        var samples = new int[count];
        for (int i = 0; i < count; i++)
        {
            int s = order[start + i];
            samples[i] = s;
            labels[i] = Set.Label(s);
            Set.Fill(s, inputs.AsSpan(i * per, per), Normalisation);
        }
        return new Batch(inputs, labels, samples, count, _pool);
    }
}
