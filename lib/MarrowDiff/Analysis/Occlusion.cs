using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Model;
using MarrowDiff.Preparation;
using MarrowDiff.Training;

namespace MarrowDiff.Analysis;

/// <summary>
/// Occlusion sensitivity of one cell image: how much the probability of a class drops when a square of the image
/// is replaced by the training set's mean colour (zero after normalisation, so the square carries no information).
/// <see cref="Drop"/> is 96 × 96: each pixel gets the mean drop over the windows covering it, so bright regions are
/// the ones the decision rested on.
/// </summary>
public sealed record OcclusionMap(int Index, CellClass Class, float Baseline, float[,] Drop, int Window, int Stride)
{
    public float MaxDrop => Drop.Cast<float>().Max();

    /// <summary>Occludes sample <paramref name="index"/> of <paramref name="set"/> for the output <paramref name="output"/>
    /// of <paramref name="model"/> (its predicted class when null). One forward pass per window position.</summary>
    public static OcclusionMap Compute(TrainedModel model, SampleSet set, int index, int? output = null, int window = 16, int stride = 8)
    {
        const int n = CellPatch.Size, per = 3 * n * n;
        if (window < 1 || window > n || stride < 1) throw new ArgumentOutOfRangeException(nameof(window), $"window {window} and stride {stride}: use 1…{n} and ≥ 1");
        var original = new float[per];
        set.Fill(index, original, model.Normalisation);
        float[,] baseline = Inference.ProbabilitiesOf(model.Network, original, 1, testTimeD4: model.TestTimeD4);
        int target = output ?? Enumerable.Range(0, baseline.GetLength(1)).MaxBy(c => baseline[0, c]);

        var positions = new List<(int X, int Y)>();
        for (int y = 0; y + window <= n; y += stride)
            for (int x = 0; x + window <= n; x += stride) positions.Add((x, y));
        var inputs = new float[positions.Count * per];
        for (int p = 0; p < positions.Count; p++)
        {
            var span = inputs.AsSpan(p * per, per);
            original.CopyTo(span);
            var (x0, y0) = positions[p];
            for (int ch = 0; ch < 3; ch++)
                for (int y = y0; y < y0 + window; y++) span.Slice(ch * n * n + y * n + x0, window).Clear();
        }
        float[,] occluded = Inference.ProbabilitiesOf(model.Network, inputs, positions.Count, testTimeD4: model.TestTimeD4);
        var sum = new float[n, n];
        var cover = new int[n, n];
        for (int p = 0; p < positions.Count; p++)
        {
            float drop = baseline[0, target] - occluded[p, target];
            var (x0, y0) = positions[p];
            for (int y = y0; y < y0 + window; y++)
                for (int x = x0; x < x0 + window; x++) { sum[y, x] += drop; cover[y, x]++; }
        }
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++) sum[y, x] = cover[y, x] == 0 ? 0 : sum[y, x] / cover[y, x];
        return new OcclusionMap(index, model.Outputs[target], baseline[0, target], sum, window, stride);
    }
}
