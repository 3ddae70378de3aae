using MarrowDiff.Data;

namespace MarrowDiff.Evaluation;

/// <summary>One point of the risk–coverage curve: the surest <see cref="Coverage"/> of the cells kept (the rest go to
/// review), the confidence of the least sure kept cell, and the accuracy of the kept cells.</summary>
public sealed record CoveragePoint(double Coverage, int Cells, double Threshold, double Accuracy);

/// <summary>
/// Scores a hematologist reads beside strict macro F1, from a classifier's per-cell answers: how often it is within one
/// maturation stage of the truth (Matek 2021 reports the same for its ResNeXt), the quadratic-weighted κ over the
/// maturation order (a myelocyte called metamyelocyte costs less than one called segmented), the calibration of its
/// confidence (ECE), and the risk–coverage curve (the accuracy of the cells it keeps when the least sure go to review).
/// </summary>
/// <param name="WithinOneStage">Share of cells answered with their own stage or a neighbouring one of the same series (a
/// cell outside the ten stages: with its own outcome).</param>
/// <param name="QuadraticKappa">Cohen's κ with weights (i − j)² over the myeloid stages (C5 … C10), on the cells whose
/// truth and answer are both myeloid (<paramref name="KappaCells"/>); NaN when there are none.</param>
public sealed record StageScores(double WithinOneStage, double QuadraticKappa, int KappaCells, double ExpectedCalibrationError, IReadOnlyList<CoveragePoint> RiskCoverage)
{
    /// <summary>The coverages the curve is read at: what a review queue of half, a fifth or a tenth of the cells buys.</summary>
    public static readonly double[] Coverages = [0.5, 0.8, 0.9, 1.0];

    public static StageScores Of(CellPredictions p)
    {
        if (p.Count == 0) throw new ArgumentException($"{p.Model}: no cells to score");
        // A cell outside the ten stages has no neighbour: within one stage, it is right only when it is right.
        int near = p.Cells.Count(c => c.Truth == c.Predicted
            || c.Truth.IsStage() && c.Predicted.IsStage() && c.Truth.Series() == c.Predicted.Series() && Math.Abs(c.Truth.Stage() - c.Predicted.Stage()) <= 1);
        var myeloid = p.Cells.Where(c => c.Truth.Series() == Series.Myeloid && c.Predicted.Series() == Series.Myeloid).ToList();
        double kappa = myeloid.Count == 0 ? double.NaN : QuadraticWeightedKappa([.. myeloid.Select(c => c.Truth.Stage())], [.. myeloid.Select(c => c.Predicted.Stage())], 6);
        var answered = p.Cells.Select(c => (Confidence: (double)c.Probabilities[p.Outputs.ToList().IndexOf(c.Predicted)], Correct: c.Truth == c.Predicted)).ToList();
        return new StageScores((double)near / p.Count, kappa, myeloid.Count, Calibration.Ece(answered), Curve(answered));
    }

    /// <summary>Cohen's κ with quadratic weights between ordinal categories 1…<paramref name="levels"/>: 1 − Σ w·O / Σ w·E,
    /// O the observed table, E the product of its margins; 1 when every answer is right, 0 at chance.</summary>
    public static double QuadraticWeightedKappa(IReadOnlyList<int> truth, IReadOnlyList<int> answer, int levels)
    {
        int n = truth.Count;
        var observed = new double[levels, levels];
        var rows = new double[levels];
        var columns = new double[levels];
        for (int i = 0; i < n; i++)
        {
            int t = truth[i] - 1, a = answer[i] - 1;
            observed[t, a]++; rows[t]++; columns[a]++;
        }
        double disagreement = 0, expected = 0;
        for (int i = 0; i < levels; i++)
            for (int j = 0; j < levels; j++)
            {
                double w = (i - j) * (i - j);
                disagreement += w * observed[i, j];
                expected += w * rows[i] * columns[j] / n;
            }
        return expected == 0 ? 1 : 1 - disagreement / expected;
    }

    /// <summary>The risk–coverage curve at <see cref="Coverages"/>: cells sorted surest first (ties in their given
    /// order), the first ⌈coverage · N⌉ kept.</summary>
    public static IReadOnlyList<CoveragePoint> Curve(IReadOnlyList<(double Confidence, bool Correct)> answered)
    {
        var sorted = answered.Select((a, i) => (a, i)).OrderByDescending(x => x.a.Confidence).ThenBy(x => x.i).Select(x => x.a).ToList();
        return [.. Coverages.Select(c =>
        {
            int kept = Math.Max(1, (int)Math.Ceiling(c * sorted.Count - 1e-9));
            return new CoveragePoint(c, kept, sorted[kept - 1].Confidence, sorted.Take(kept).Count(a => a.Correct) / (double)kept);
        })];
    }
}
