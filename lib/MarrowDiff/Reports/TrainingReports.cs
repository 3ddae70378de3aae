using MarrowDiff.Core;
using MarrowDiff.Evaluation;
using MarrowDiff.Experiments;
using MarrowDiff.Training;

namespace MarrowDiff.Reports;

/// <summary>The tables and charts of notebook 04: the hyper-parameter search, the training curves (Fig 4A) and the
/// confusion matrix (Fig 4B). Each carries the provenance and the profile's caveat.</summary>
public static class TrainingReports
{
    public static HtmlView CrossValidationTable(CrossValidationResult cv, Provenance provenance, ExperimentProfile profile)
    {
        var rows = cv.Rows.Select(r => (IReadOnlyList<object?>)[r.Hyper.ToString(), .. r.FoldAccuracy.Select(a => Percent.Of(a)), Percent.Of(r.Mean), r.Hyper == cv.Chosen ? "chosen" : ""]);
        return HtmlView.Table($"Five-fold cross-validation on {cv.Variant}, {cv.Epochs} epochs per run: validation accuracy % per fold - {profile.Caveat} - {provenance.Stamp}",
            ["hyper-parameters", "fold 1", "fold 2", "fold 3", "fold 4", "fold 5", "mean", ""], rows);
    }

    /// <summary>A fold ensemble's cross-validation as plain text: each fold's held-out accuracy and macro-F1, and the
    /// pooled scores over every training-side cell (per-class F1 beside them), with the training time.</summary>
    public static string FoldEnsembleText(FoldEnsembleResult result, ExperimentProfile profile)
    {
        var text = new System.Text.StringBuilder();
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        for (int k = 0; k < result.HeldOut.Count; k++)
        {
            var m = result.PerFold[k];
            var member = result.Ensemble.Members[k];
            text.AppendLine(string.Create(inv, $"fold {k + 1}: {result.HeldOut[k].Count} held-out cells, accuracy {Percent.Of(m.Accuracy)}%, macro F1 {Percent.Of(m.MacroF1)}% ({member.Card.TrainingImages} training images, {member.TrainingSeconds:0} s)"));
        }
        var pooled = result.Pooled;
        var present = Enumerable.Range(0, pooled.Classes.Count).Where(c => pooled.PerClass[c].Support > 0);
        int n = result.HeldOut.Sum(p => p.Count);
        var (accLow, accHigh) = Intervals.Wilson(pooled.Accuracy, n);
        var (f1Low, f1High) = result.PooledMacroF1Interval(profile.Seed);
        text.Append(string.Create(inv, $"{result.HeldOut.Count}-fold cross-validation ({profile.Caveat}): {n} cells, accuracy {Percent.Of(pooled.Accuracy)}% (95% CI {Percent.Of(accLow)}–{Percent.Of(accHigh)}), "));
        text.Append(string.Create(inv, $"macro F1 {Percent.Of(pooled.MacroF1)}% (95% CI {Percent.Of(f1Low)}–{Percent.Of(f1High)}, bootstrap over cells); F1 per class: "));
        text.Append(string.Join(", ", present.Select(c => string.Create(inv, $"{pooled.Classes[c]} {Percent.Of(pooled.PerClass[c].F1)}%"))));
        text.Append(string.Create(inv, $"; training {result.Ensemble.TrainingSeconds / 60:0.0} min in all"));
        // Side by side, the models' own times overlap: their sum is not the wall clock.
        if (profile.SideBySide) text.Append(" (the models' times added; they trained side by side, so the wall clock was less)");
        return text.ToString();
    }

    /// <summary>Fig 4A for every model: training loss and validation accuracy per epoch. Each line is named by its
    /// model (a local model as "local C9/C10 (its training set)"); the title cites Fig 4A only for the global models
    /// that figure shows.</summary>
    public static ChartView Curves(IReadOnlyList<TrainedModel> models, Provenance provenance, ExperimentProfile profile, bool loss)
    {
        string figure = models.All(m => m.Card.Outputs is { Count: 2 }) ? "local model" : "Fig 4A";
        string what = loss ? "Training loss" : $"Validation accuracy (fold {profile.ValidationFold}, original crops)";
        var series = models.Select(m => new ChartSeries(m.Name,
            [.. m.History.Select(h => ((double)h.Epoch, loss ? h.TrainLoss : 100 * (h.ValidationAccuracy ?? double.NaN)))])).ToList();
        double top = loss ? Math.Max(0.1, series.SelectMany(s => s.Points).Select(p => p.Y).Where(double.IsFinite).DefaultIfEmpty(1).Max()) : 100;
        int epochs = models.Select(m => m.History.Count).DefaultIfEmpty(1).Max();
        return new LineChartSpec($"{what} per epoch ({figure})", [$"{profile.Caveat}."], "epoch", loss ? "cross-entropy" : "accuracy %", series, provenance)
            { YMax = top, XTicks = [.. EpochTicks(epochs)] }.View($"[chart: {what} per epoch ({figure})]");
    }

    /// <summary>At most about ten epoch ticks, whole epochs.</summary>
    private static IEnumerable<double> EpochTicks(int epochs)
    {
        int step = Math.Max(1, (int)Math.Ceiling(epochs / 10.0));
        for (int e = 1; e <= epochs; e += step) yield return e;
    }

    /// <summary>Fig 4B: the confusion matrix of one model on the test set, true class top to bottom.</summary>
    public static ChartView Confusion(Table1Row row, Provenance provenance, ExperimentProfile profile) =>
        new ConfusionChartSpec(row.Variant, row.Metrics, provenance.Stamp, profile.Caveat).View($"[chart: confusion matrix of {row.Variant} (Fig 4B)]");

    /// <summary>Per-class precision and recall of one model.</summary>
    public static HtmlView PerClass(Table1Row row, Provenance provenance, ExperimentProfile profile) =>
        HtmlView.Table($"{row.Variant} per class on the test set - {profile.Caveat} - {provenance.Stamp}", ["class", "support", "precision %", "recall %", "F1 %"],
            row.Metrics.Classes.Select((c, i) => (IReadOnlyList<object?>)[c, row.Metrics.PerClass[i].Support, Percent.Of(row.Metrics.PerClass[i].Precision), Percent.Of(row.Metrics.PerClass[i].Recall), Percent.Of(row.Metrics.PerClass[i].F1)])
               .Where((_, i) => row.Metrics.PerClass[i].Support > 0));

    /// <summary>Epoch time against the time spent inside training steps: if data loading made training wait, the
    /// first would exceed the second by more than validation takes.</summary>
    public static HtmlView LoadingCheck(IReadOnlyList<TrainedModel> models, Provenance provenance) =>
        HtmlView.Table($"Does data loading starve training? - {provenance.Stamp}", ["model", "epochs", "epoch time s (sum)", "step time s (sum)", "outside steps %"],
            models.Select(m =>
            {
                double epoch = m.History.Sum(h => h.Seconds), steps = m.History.Sum(h => h.StepSeconds);
                return (IReadOnlyList<object?>)[m.Card.Variant, m.History.Count, Math.Round(epoch, 1), Math.Round(steps, 1), Percent.Of(1 - steps / epoch)];
            }));
}
