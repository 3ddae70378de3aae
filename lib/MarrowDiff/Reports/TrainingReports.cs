using System.Globalization;
using MarrowDiff.Core;
using MarrowDiff.Evaluation;
using MarrowDiff.Experiments;
using MarrowDiff.Imaging;
using MarrowDiff.Training;
using Plotly.NET.CSharp;
using Chart = Plotly.NET.CSharp.Chart;

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
        string figure = models.All(m => m.Card.Outputs is not null) ? "local model" : "Fig 4A";
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

    /// <summary>Fig 4B: the confusion matrix of one model on the test set, as row percentages (recall on the
    /// diagonal), true class top to bottom.</summary>
    public static ChartView Confusion(Table1Row row, Provenance provenance, ExperimentProfile profile)
    {
        var m = row.Metrics;
        int k = m.Classes.Count;
        var present = Enumerable.Range(0, k).Where(i => m.PerClass[i].Support > 0 || Enumerable.Range(0, k).Any(r => m.Confusion[r, i] > 0)).ToList();
        string[] labels = present.Select(i => m.Classes[i].Split(' ')[0]).ToArray();
        // Plotly draws the first row at the bottom; reverse so C1 is on top as in the paper.
        var z = present.AsEnumerable().Reverse().Select(r =>
        {
            int total = Enumerable.Range(0, k).Sum(c => m.Confusion[r, c]);
            return present.Select(c => total == 0 ? 0.0 : Math.Round(100.0 * m.Confusion[r, c] / total, 1)).ToArray();
        }).ToArray();
        var chart = Chart.Heatmap<double, string, string, string>(zData: z, X: labels, Y: labels.Reverse().ToArray(), Name: "% of true class")
            .Titled($"Confusion matrix of {row.Variant} on the test set, % of each true class (Fig 4B) - {profile.Caveat}<br><sub>{provenance.Stamp}</sub>")
            .WithXAxisStyle<double, double, string>(TitleText: "predicted")
            .WithYAxisStyle<double, double, string>(TitleText: "true")
            .WithSize(640, 560);
        return new ChartView(chart, ConfusionPng(row.Variant, row.Metrics, provenance, profile.Caveat), $"[chart: confusion matrix of {row.Variant} (Fig 4B)]");
    }

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

    /// <summary>Fig 4B as a PNG for figures/ (ScottPlot, 300 dpi): each true class's row shaded by the share of its
    /// cells predicted as each class (so the diagonal is the recall), the number of cells written in every non-empty
    /// square, framed with the caveat and the provenance.</summary>
    /// <param name="highlight">Two classes whose 2x2 block gets a red dashed box (Fig 7's dotted boxes).</param>
    /// <param name="figure">The paper's figure this regenerates, for the title.</param>
    public static RgbImage ConfusionPng(string model, ClassificationMetrics metrics, Provenance provenance, string profileCaveat, (int First, int Second)? highlight = null, string figure = "Fig 4B") =>
        ConfusionPng(model, metrics, provenance.Stamp, profileCaveat, highlight, figure);

    /// <summary>The confusion matrix with a stamp read back from saved results.</summary>
    public static RgbImage ConfusionPng(string model, ClassificationMetrics metrics, string stamp, string profileCaveat, (int First, int Second)? highlight = null, string figure = "Fig 4B")
    {
        var m = metrics;
        int k = m.Classes.Count;
        var share = new double[k, k];
        for (int r = 0; r < k; r++)
        {
            int total = Enumerable.Range(0, k).Sum(c => m.Confusion[r, c]);
            for (int c = 0; c < k; c++) share[r, c] = total == 0 ? double.NaN : (double)m.Confusion[r, c] / total;
        }
        var plot = PaperCharts.NewPlot();
        // The heatmap draws row 0 at the top (true C1 first, as the paper), column 0 at the left; cell (r, c) is
        // centred on x = c, y = k - 1 - r.
        var heatmap = plot.Add.Heatmap(share);
        // Light for few cells, dark blue for many (Blues runs dark to light, hence reversed).
        heatmap.Colormap = new ScottPlot.Colormaps.Reversed(new ScottPlot.Colormaps.Blues());
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        heatmap.NaNCellColor = new ScottPlot.Color(245, 245, 245);
        for (int r = 0; r < k; r++)
            for (int c = 0; c < k; c++)
            {
                if (m.Confusion[r, c] == 0) continue;
                var text = plot.Add.Text(m.Confusion[r, c].ToString(CultureInfo.InvariantCulture), c, k - 1 - r);
                text.LabelAlignment = ScottPlot.Alignment.MiddleCenter;
                text.LabelFontSize = 13;
                text.LabelBold = r == c;
                text.LabelFontColor = share[r, c] > 0.6 ? ScottPlot.Colors.White : PaperCharts.ToColor(PaperCharts.Ink);
            }
        if (highlight is var (f, s2))
        {
            int a = Math.Min(f, s2), b = Math.Max(f, s2);
            var box = plot.Add.Rectangle(a - 0.5, b + 0.5, k - 1 - b - 0.5, k - 1 - a + 0.5);
            box.FillColor = ScottPlot.Colors.Transparent;
            box.LineColor = PaperCharts.ToColor(PaperCharts.OkabeIto[1]);
            box.LineWidth = 3;
            box.LinePattern = ScottPlot.LinePattern.Dashed;
        }
        string[] codes = [.. m.Classes.Select(name => name.Split(' ')[0])];
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, k).Select(c => (double)c)], codes);
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, k).Select(r => (double)(k - 1 - r))], codes);
        plot.Axes.SetLimits(-0.5, k - 0.5, -0.5, k - 0.5);
        plot.XLabel("predicted class");
        plot.YLabel("true class");
        plot.Grid.IsVisible = false;
        var bar = plot.Add.ColorBar(heatmap);
        bar.Label = "share of the true class";
        bar.Axis.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(0.2);
        return PaperCharts.Framed($"Confusion matrix of {model} on the test set ({figure})",
            [profileCaveat, $"Accuracy {Percent.Of(m.Accuracy)}% of {m.PerClass.Sum(p => p.Support)} test cells. Rows: true class; columns: predicted; numbers: cells."],
            PaperCharts.Render(plot, 560, 500), stamp);
    }
}
