using MarrowDiff.Core;
using MarrowDiff.Data;

namespace MarrowDiff.Evaluation;

/// <summary>
/// Two classifiers on the same test cells: McNemar's exact test on the cells one gets right and the other wrong, and a
/// paired bootstrap of the macro-F1 difference (second − first), the same cells drawn for both in every resample, so
/// that the spread of the test set itself, which both share, does not widen the interval of their difference.
/// </summary>
/// <param name="MacroF1Difference">Second's macro F1 minus first's, on all the cells.</param>
/// <param name="Interval">The 2.5th and 97.5th percentiles of the difference over the resamples.</param>
/// <param name="BootstrapP">Two-sided: twice the smaller share of resamples on either side of zero (at least 1/resamples).</param>
public sealed record PairedComparison(string First, string Second, McNemarResult McNemar, double MacroF1Difference, (double Low, double High) Interval, double BootstrapP)
{
    /// <summary>Compares <paramref name="second"/> with <paramref name="first"/>; they must hold the same cells, in the same
    /// order, with the same truth and outputs.</summary>
    public static PairedComparison Of(CellPredictions first, CellPredictions second, int seed, int resamples = 2000)
    {
        if (first.Count != second.Count || first.Count == 0) throw new ArgumentException($"{first.Model} has {first.Count} cells and {second.Model} {second.Count}: a paired comparison needs the same cells");
        for (int i = 0; i < first.Count; i++)
            if (first.Cells[i].Cell != second.Cells[i].Cell || first.Cells[i].Truth != second.Cells[i].Truth)
                throw new ArgumentException($"cell {i + 1}: {first.Model} has {first.Cells[i].Cell}, {second.Model} {second.Cells[i].Cell}: not the same cells in the same order");
        if (!first.Outputs.SequenceEqual(second.Outputs)) throw new ArgumentException($"{first.Model} and {second.Model} answer with other classes");
        var mcnemar = McNemarResult.Test(first.Correct, second.Correct, exact: true);
        int[] truth = first.Truth, a = first.Predicted, b = second.Predicted;
        var names = first.Outputs.Select(c => c.Label()).ToList();
        double observed = ClassificationMetrics.From(truth, b, names).MacroF1 - ClassificationMetrics.From(truth, a, names).MacroF1;
        var rng = Rng.For(seed, Rng.Key("paired-bootstrap-macro-f1"));
        int n = truth.Length;
        var t = new int[n]; var pa = new int[n]; var pb = new int[n];
        var diffs = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            for (int i = 0; i < n; i++) { int j = (int)(rng.NextDouble() * n); t[i] = truth[j]; pa[i] = a[j]; pb[i] = b[j]; }
            diffs[r] = ClassificationMetrics.From(t, pb, names).MacroF1 - ClassificationMetrics.From(t, pa, names).MacroF1;
        }
        double below = diffs.Count(d => d <= 0) / (double)resamples, above = diffs.Count(d => d >= 0) / (double)resamples;
        Array.Sort(diffs);
        var interval = (diffs[(int)Math.Floor(0.025 * (resamples - 1))], diffs[(int)Math.Ceiling(0.975 * (resamples - 1))]);
        return new PairedComparison(first.Model, second.Model, mcnemar, observed, interval, Math.Max(1.0 / resamples, Math.Min(1, 2 * Math.Min(below, above))));
    }
}
