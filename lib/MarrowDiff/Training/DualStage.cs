using MarrowDiff.Data;
using MarrowDiff.Model;
using MarrowDiff.Preparation;

namespace MarrowDiff.Training;

/// <summary>
/// The paper's dual-stage rule (its Fig 3B): the global 10-class model predicts; when its top class is one of a pair
/// (band C9 / segmented C10 in the paper, any two classes here), a local 2-class model decides between the two.
/// The combined probability vector keeps the global probabilities of every other class and splits the pair's combined
/// mass by the local softmax, so it still sums to 1 and can be calibrated and thresholded like the global one.
/// </summary>
public static class DualStage
{
    /// <summary>Combines one cell's global probabilities with the local model's two (for <paramref name="first"/>,
    /// <paramref name="second"/>, in that order). Pure: the inputs are not changed.</summary>
    public static float[] Combine(ReadOnlySpan<float> global, ReadOnlySpan<float> local, int first, int second)
    {
        if (local.Length != 2) throw new ArgumentException($"the local model gives 2 probabilities, got {local.Length}", nameof(local));
        if ((uint)first >= global.Length || (uint)second >= global.Length || first == second)
            throw new ArgumentOutOfRangeException(nameof(first), $"the pair ({first}, {second}) must be two different classes of the {global.Length}");
        float[] combined = global.ToArray();
        int top = 0;
        for (int c = 1; c < global.Length; c++) if (global[c] > global[top]) top = c;
        if (top != first && top != second) return combined;
        float mass = global[first] + global[second];
        float localSum = local[0] + local[1];
        // The local softmax sums to 1 up to rounding; normalise so the pair's mass is exactly conserved.
        combined[first] = mass * local[0] / localSum;
        combined[second] = mass * local[1] / localSum;
        return combined;
    }

    /// <summary>The dual stage over many cells: the rows of <paramref name="global"/> whose top class is
    /// <paramref name="first"/> or <paramref name="second"/> are handed to <paramref name="local"/> (by their indices,
    /// in order; it returns their two probabilities) and combined; the other rows are returned as they are.</summary>
    public static float[,] Route(float[,] global, int first, int second, Func<IReadOnlyList<int>, float[,]> local, out int routedCount)
    {
        int n = global.GetLength(0), k = global.GetLength(1);
        int[] top = Inference.ArgMax(global);
        var routed = Enumerable.Range(0, n).Where(i => top[i] == first || top[i] == second).ToList();
        routedCount = routed.Count;
        if (routed.Count == 0) return global;
        float[,] pair = local(routed);
        var combined = (float[,])global.Clone();
        for (int r = 0; r < routed.Count; r++)
        {
            int i = routed[r];
            float[] row = Combine(Enumerable.Range(0, k).Select(c => global[i, c]).ToArray(), [pair[r, 0], pair[r, 1]], first, second);
            for (int c = 0; c < k; c++) combined[i, c] = row[c];
        }
        return combined;
    }
}

/// <summary>
/// The dual-stage CNN as a classifier: the global model's probabilities, with the pair's mass re-split by the local
/// model wherever the global top class is one of the pair (<see cref="DualStage.Combine"/>). The local model only
/// sees the cells it decides, as in the paper's Fig 3B.
/// </summary>
public sealed class DualStageClassifier : ICellClassifier
{
    public DualStageClassifier(ISavedClassifier global, TrainedModel local)
    {
        if (!global.Outputs.SequenceEqual(CellTaxonomy.All)) throw new ArgumentException($"the global model {global.Folder} must have the 10 outputs C1…C10, it has {global.Outputs.Count}", nameof(global));
        if (local.Outputs.Count != 2) throw new ArgumentException($"the local model {local.Folder} must have 2 outputs, it has {local.Outputs.Count}", nameof(local));
        Global = global; Local = local;
    }

    public ISavedClassifier Global { get; }
    public TrainedModel Local { get; }

    public (CellClass First, CellClass Second) Pair => (Local.Outputs[0], Local.Outputs[1]);

    public string Name => $"dual-stage ({Global.Card.Variant} + local {Pair.First.Code()}/{Pair.Second.Code()})";

    public IReadOnlyList<CellClass> Outputs => CellTaxonomy.All;

    /// <summary>How many cells of the last <see cref="Probabilities"/> call the local model decided.</summary>
    public int LocalDecisions { get; private set; }

    public float[,] Probabilities(SampleSet set)
    {
        var combined = DualStage.Route(Global.Probabilities(set), Pair.First.Index(), Pair.Second.Index(),
                                       routed => Local.Probabilities(set.Subset([.. routed], $"{set.Side}, routed to the local model")), out int decided);
        LocalDecisions = decided;
        return combined;
    }
}
