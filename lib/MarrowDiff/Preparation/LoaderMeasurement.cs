using System.Diagnostics;
using MarrowDiff.Core;

namespace MarrowDiff.Preparation;

/// <summary>What streaming a training set through the <see cref="BatchLoader"/> measured: the rate, and the first
/// batch's per-channel mean and standard deviation after normalisation (near 0 and 1 when it works).</summary>
public sealed record LoaderMeasurement(int Images, int BatchesPerEpoch, int Batches, int Streamed, double ImagesPerSecond,
                                       double[] FirstBatchMean, double[] FirstBatchStd, long TileBytes)
{
    /// <summary>Streams up to <paramref name="batches"/> batches of <paramref name="variant"/>'s training set, normalised
    /// with its own statistics, in the order of epoch 0.</summary>
    public static LoaderMeasurement Stream(DataPreparation e, TrainingVariant variant, int batches = 20, int batchSize = 40, IProgress<WorkProgress>? progress = null)
    {
        SampleSet set = e.Build(variant);
        var loader = new BatchLoader(set, set.Normalisation(e.Provenance.Data), batchSize, e.Provenance.Seed);
        var clock = Stopwatch.StartNew();
        int seen = 0, n = 0;
        double[] mean = new double[3], sd = new double[3];
        foreach (Batch b in loader.Epoch(0))
        {
            using (b)
            {
                if (n == 0)
                {
                    int plane = CellPatch.Size * CellPatch.Size;
                    for (int i = 0; i < b.Count; i++)
                        for (int c = 0; c < 3; c++)
                            for (int p = 0; p < plane; p++) { double v = b.Inputs[(i * 3 + c) * plane + p]; mean[c] += v; sd[c] += v * v; }
                    for (int c = 0; c < 3; c++) { mean[c] /= b.Count * plane; sd[c] = Math.Sqrt(sd[c] / (b.Count * plane) - mean[c] * mean[c]); }
                }
                seen += b.Count; n++;
                progress?.Report(new WorkProgress($"streaming {variant.Name}", n, Math.Min(batches, loader.BatchesPerEpoch), clock.Elapsed));
                if (n >= batches) break;
            }
        }
        return new LoaderMeasurement(set.Count, loader.BatchesPerEpoch, n, seen, seen / clock.Elapsed.TotalSeconds, mean, sd, e.Tiles.Bytes);
    }
}
