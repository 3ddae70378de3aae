using System.Collections.Concurrent;
using MarrowDiff.Core;
using MarrowDiff.Imaging;
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

    /// <param name="stainJitter">Strength of the random colour change of every image (<see cref="StainJitter"/>); 0: none,
    /// as in the paper. Drawn from the seed and the epoch, so a resumed run sees the same colours.</param>
    /// <param name="rotate">Turn every image by a uniform random angle (<c>AugmentationOptions.Rotation</c>, a training refinement); drawn
    /// from the seed and the epoch like the colours.</param>
    public BatchLoader(SampleSet set, ColourNormalisation normalisation, int batchSize = 40, int seed = 0, bool shuffle = true, int prefetch = 2, double stainJitter = 0,
                       bool rotate = false)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be at least 1");
        if (prefetch < 1) throw new ArgumentOutOfRangeException(nameof(prefetch), "prefetch must be at least 1");
        if (stainJitter is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(stainJitter), $"{stainJitter}: use [0, 1]");
        Set = set; Normalisation = normalisation; BatchSize = batchSize; Seed = seed; Shuffle = shuffle; Prefetch = prefetch; StainJitterStrength = stainJitter; Rotate = rotate;
    }

    public bool Rotate { get; }

    public double StainJitterStrength { get; }

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
        // One generator per epoch, drawn in sample order by the one producer thread: the same colours on every run.
        Rng? colours = StainJitterStrength > 0 ? Rng.For(Seed, Rng.Key("stain-jitter"), epoch) : null;
        Rng? angles = Rotate ? Rng.For(Seed, Rng.Key("rotation"), epoch) : null;
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
                    ready.Add(Render(order, start, Math.Min(BatchSize, order.Length - start), colours, angles), stop.Token);
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

    private Batch Render(int[] order, int start, int count, Rng? colours, Rng? angles)
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
            Set.Fill(s, inputs.AsSpan(i * per, per), Normalisation, colours is null ? null : StainJitter.Draw(colours, StainJitterStrength),
                     angles is null ? null : angles.NextDouble() * 2 * Math.PI);
        }
        return new Batch(inputs, labels, samples, count, _pool);
    }
}

/// <summary>
/// A random change of stain and illumination, applied to one image in YUV before normalisation: contrast (Y about its
/// mean) and chroma saturation scaled, brightness and both chroma planes shifted. Slides differ in exactly these ways
/// between labs, stains and scanners, while a cell's stage does not change with them.
/// </summary>
public readonly record struct StainJitter(float Contrast, float Brightness, float Saturation, float ShiftU, float ShiftV)
{
    /// <summary>A draw of strength <paramref name="s"/>: contrast and saturation × e^U(−s, s), brightness + U(−s/2, s/2),
    /// U and V + U(−s/3, s/3).</summary>
    public static StainJitter Draw(Rng rng, double s)
    {
        double U(double half) => (2 * rng.NextDouble() - 1) * half;
        return new((float)Math.Exp(U(s)), (float)U(s / 2), (float)Math.Exp(U(s)), (float)U(s / 3), (float)U(s / 3));
    }

    /// <summary>Changes the three YUV planes of one image in place.</summary>
    public void Apply(Span<float> yuv)
    {
        int plane = yuv.Length / 3;
        var y = yuv[..plane];
        float mean = 0;
        foreach (float v in y) mean += v;
        mean /= plane;
        for (int i = 0; i < plane; i++) y[i] = (y[i] - mean) * Contrast + mean + Brightness;
        var u = yuv.Slice(plane, plane);
        for (int i = 0; i < plane; i++) u[i] = u[i] * Saturation + ShiftU;
        var v2 = yuv.Slice(2 * plane, plane);
        for (int i = 0; i < plane; i++) v2[i] = v2[i] * Saturation + ShiftV;
    }
}
