using System.Globalization;
using MarrowDiff.Core;
using MarrowDiff.Preparation;

namespace MarrowDiff.Experiments;

/// <summary>One point of a <see cref="LearningCurve"/>: the profile's fold ensemble with each fold model trained on
/// <see cref="Share"/> of its training cells of each class, scored on its whole held-out fold.</summary>
/// <param name="CellsPerModel">Training cells a fold model saw, the mean over the folds (whole cells: the re-crops and
/// poses the training set makes of them are not counted).</param>
/// <param name="HeldOutCells">Cells scored, the same at every share: every cell of the folds once.</param>
/// <param name="MacroF1">Pooled cross-validated macro F1 (0–1), with its 95% bootstrap interval over the held-out cells.</param>
/// <param name="Folds">Each fold's macro F1 (0–1).</param>
/// <param name="TrainingMinutes">The fold models' training times added (side by side, the wall clock was less).</param>
public sealed record LearningCurvePoint(double Share, double CellsPerModel, int HeldOutCells, double MacroF1, double Low, double High,
                                        IReadOnlyList<double> Folds, double TrainingMinutes);

/// <summary>
/// How the cross-validated macro F1 grows with the labelled cells: the question a researcher asks before labelling
/// more ("how many cells a stage would reach the literature?"), answered on the folds alone. Every point scores the
/// same held-out cells with the same recipe; only the share of training cells differs (<see
/// cref="DatasetSplit.Sides(int?, double)"/>: nested and seeded, whole cells), so the points differ by the cells and
/// by what one training run moves, nothing else. No test cell is read.
/// <para>The fit is a least-squares line of macro F1 (points) against log₂ of the cells a fold model trains on: the
/// shape learning curves of image classifiers usually take over a range this short (error falling as a power of the
/// data bends only over decades). Where the line would reach <see cref="Target"/> is an extrapolation, said as one,
/// not a measurement: it answers "of what order", not "exactly how many".</para>
/// </summary>
public sealed class LearningCurve
{
    public LearningCurve(IReadOnlyList<LearningCurvePoint> points, double target, string variant, string caveat, Provenance provenance)
    {
        if (points.Count == 0) throw new ArgumentException("a learning curve needs at least one point", nameof(points));
        if (!(target > 0 && target < 1)) throw new ArgumentOutOfRangeException(nameof(target), $"target macro F1 {target.ToString(CultureInfo.InvariantCulture)}: use a value in (0, 1), e.g. 0.85");
        Points = [.. points.OrderBy(p => p.Share)];
        Target = target; Variant = variant; Caveat = caveat; Provenance = provenance;
        (PointsPerDoubling, Intercept) = Fit(Points);
    }

    public IReadOnlyList<LearningCurvePoint> Points { get; }

    /// <summary>The macro F1 (0–1) the extrapolation aims at: the issue's floor, 0.85.</summary>
    public double Target { get; }
    public string Variant { get; }
    public string Caveat { get; }
    public Provenance Provenance { get; }

    /// <summary>Macro-F1 points (percent) gained by each doubling of the training cells, by the fit; null with fewer
    /// than two distinct cell counts.</summary>
    public double? PointsPerDoubling { get; }

    /// <summary>The fit's macro F1 (percent) at one training cell (log₂ 1 = 0): with <see cref="PointsPerDoubling"/>,
    /// the line.</summary>
    public double? Intercept { get; }

    /// <summary>The fit's macro F1 (percent) with <paramref name="cells"/> training cells a fold model.</summary>
    public double? FittedPercent(double cells) => PointsPerDoubling is { } slope ? Intercept!.Value + slope * Math.Log2(cells) : null;

    /// <summary>Training cells a fold model where the fitted line reaches <see cref="Target"/>; null when the line
    /// does not rise (more cells would not reach it on this evidence).</summary>
    public double? CellsForTarget => PointsPerDoubling is { } slope && slope > 0 ? Math.Pow(2, (100 * Target - Intercept!.Value) / slope) : null;

    /// <summary>How many times the largest point's cells <see cref="CellsForTarget"/> is.</summary>
    public double? TimesTheLargest => CellsForTarget / Points[^1].CellsPerModel;

    private static (double?, double?) Fit(IReadOnlyList<LearningCurvePoint> points)
    {
        var x = points.Select(p => Math.Log2(p.CellsPerModel)).ToArray();
        var y = points.Select(p => 100 * p.MacroF1).ToArray();
        double mx = x.Average(), my = y.Average();
        double sxx = x.Sum(v => (v - mx) * (v - mx));
        if (sxx < 1e-12) return (null, null);
        double slope = x.Zip(y).Sum(q => (q.First - mx) * (q.Second - my)) / sxx;
        return (slope, my - slope * mx);
    }

    /// <summary>
    /// Trains (or reads from the cache) the profile's fold ensemble once per share and scores each on the held-out
    /// folds. Share 1 is the profile's own cross-validation, the same models and cache keys as <c>marrow train</c>'s.
    /// </summary>
    public static LearningCurve Measure(Experiment experiment, TrainingVariant variant, IReadOnlyList<double> shares, double target)
    {
        if (shares.Count == 0) throw new ArgumentException("give at least one share of the training cells, e.g. 0.25,0.5,1", nameof(shares));
        if (shares.Distinct().Count() != shares.Count) throw new ArgumentException($"shares {string.Join(",", shares.Select(s => s.ToString(CultureInfo.InvariantCulture)))}: each at most once", nameof(shares));
        var profile = experiment.Profile;
        var points = new List<LearningCurvePoint>();
        foreach (double share in shares.Order())
        {
            var result = experiment.TrainFoldEnsemble(variant, profile.Grid[0], cellShare: share);
            using var ensemble = result.Ensemble;
            var pooled = result.Pooled;
            var (low, high) = result.PooledMacroF1Interval(profile.Seed);
            double cells = Enumerable.Range(1, result.HeldOut.Count).Average(fold => DatasetSplit.CellCount(experiment.Prep.Split.Sides(fold, share).Train));
            points.Add(new LearningCurvePoint(share, cells, result.HeldOut.Sum(p => p.Count), pooled.MacroF1, low, high,
                                              [.. result.PerFold.Select(m => m.MacroF1)], ensemble.TrainingSeconds / 60));
        }
        return new LearningCurve(points, target, variant.Name, profile.Caveat, experiment.Prep.Provenance);
    }

    /// <summary>The points as CSV (one row a share; F1 in percent, as every table of the project prints it).</summary>
    public string ToCsv()
    {
        var text = new System.Text.StringBuilder();
        text.Append(Csv.Line("share", "cells_per_model", "held_out_cells", "cv_macro_f1", "ci_low", "ci_high", "folds_macro_f1", "training_min")).Append('\n');
        foreach (var p in Points)
            text.Append(Csv.Line(F(p.Share, "0.###"), F(p.CellsPerModel, "0.#"), p.HeldOutCells, Percent.Of(p.MacroF1, 2), Percent.Of(p.Low, 2),
                                 Percent.Of(p.High, 2), string.Join(" ", p.Folds.Select(f => Percent.Of(f))), F(p.TrainingMinutes, "0.0"))).Append('\n');
        return text.ToString();
    }

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
