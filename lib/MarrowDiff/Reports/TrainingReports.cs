using System.Globalization;
using MarrowDiff.Imaging;
using Plotly.NET;
using Plotly.NET.CSharp;
using MarrowDiff.Experiments;
using MarrowDiff.Core;
using MarrowDiff.Model;
using Chart = Plotly.NET.CSharp.Chart;

namespace MarrowDiff.Reports;

/// <summary>The tables and charts of notebook 04: the hyper-parameter search, the training curves (Fig 4A) and the
/// confusion matrix (Fig 4B). Each carries the provenance and the profile's caveat.</summary>
public static class TrainingReports
{
    private static string P(double v) => (100 * v).ToString("0.0", CultureInfo.InvariantCulture);

    public static HtmlView CrossValidationTable(CrossValidationResult cv, Provenance provenance, ExperimentProfile profile)
    {
        var rows = cv.Rows.Select(r => (IReadOnlyList<object?>)[r.Hyper.ToString(), .. r.FoldAccuracy.Select(P), P(r.Mean), r.Hyper == cv.Chosen ? "chosen" : ""]);
        return HtmlView.Table($"Five-fold cross-validation on {cv.Variant}, {cv.Epochs} epochs per run: validation accuracy % per fold - {profile.Caveat} - {provenance.Stamp}",
            ["hyper-parameters", "fold 1", "fold 2", "fold 3", "fold 4", "fold 5", "mean", ""], rows);
    }

    /// <summary>Fig 4A for every model: training loss and validation accuracy per epoch.</summary>
    public static GenericChart Curves(IReadOnlyList<TrainedModel> models, Provenance provenance, ExperimentProfile profile, bool loss)
    {
        var lines = models.Select(m => Chart.Line<int, double, string>(
            x: m.History.Select(h => h.Epoch).ToArray(),
            y: m.History.Select(h => loss ? h.TrainLoss : 100 * (h.ValidationAccuracy ?? double.NaN)).ToArray(),
            Name: m.Card.Variant, ShowMarkers: true));
        string what = loss ? "Training loss" : $"Validation accuracy (fold {profile.ValidationFold}, original crops)";
        return Chart.Combine(lines)
            .Titled($"{what} per epoch (Fig 4A) - {profile.Caveat}<br><sub>{provenance.Stamp}</sub>")
            .WithXAxisStyle<double, double, string>(TitleText: "epoch")
            .WithYAxisStyle<double, double, string>(TitleText: loss ? "cross-entropy" : "accuracy %")
            .WithSize(900, 420);
    }

    /// <summary>Fig 4B: the confusion matrix of one model on the test set, as row percentages (recall on the
    /// diagonal), true class top to bottom.</summary>
    public static GenericChart Confusion(Table1Row row, Provenance provenance, ExperimentProfile profile)
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
        return Chart.Heatmap<double, string, string, string>(zData: z, X: labels, Y: labels.Reverse().ToArray(), Name: "% of true class")
            .Titled($"Confusion matrix of {row.Variant} on the test set, % of each true class (Fig 4B) - {profile.Caveat}<br><sub>{provenance.Stamp}</sub>")
            .WithXAxisStyle<double, double, string>(TitleText: "predicted")
            .WithYAxisStyle<double, double, string>(TitleText: "true")
            .WithSize(640, 560);
    }

    /// <summary>Per-class precision and recall of one model.</summary>
    public static HtmlView PerClass(Table1Row row, Provenance provenance, ExperimentProfile profile) =>
        HtmlView.Table($"{row.Variant} per class on the test set - {profile.Caveat} - {provenance.Stamp}", ["class", "support", "precision %", "recall %", "F1 %"],
            row.Metrics.Classes.Select((c, i) => (IReadOnlyList<object?>)[c, row.Metrics.PerClass[i].Support, P(row.Metrics.PerClass[i].Precision), P(row.Metrics.PerClass[i].Recall), P(row.Metrics.PerClass[i].F1)])
               .Where((_, i) => row.Metrics.PerClass[i].Support > 0));

    /// <summary>Epoch time against the time spent inside training steps: if data loading made training wait, the
    /// first would exceed the second by more than validation takes.</summary>
    public static HtmlView LoadingCheck(IReadOnlyList<TrainedModel> models, Provenance provenance) =>
        HtmlView.Table($"Does data loading starve training? - {provenance.Stamp}", ["model", "epochs", "epoch time s (sum)", "step time s (sum)", "outside steps %"],
            models.Select(m =>
            {
                double epoch = m.History.Sum(h => h.Seconds), steps = m.History.Sum(h => h.StepSeconds);
                return (IReadOnlyList<object?>)[m.Card.Variant, m.History.Count, Math.Round(epoch, 1), Math.Round(steps, 1), P(1 - steps / epoch)];
            }));

    /// <summary>Fig 4B as a PNG for figures/: counts in each cell, shaded by the share of the true class (the
    /// diagonal is the recall), true classes top to bottom, stamped with the caveat and provenance.</summary>
    /// <param name="highlight">Two classes whose 2x2 block gets a red dashed box (Fig 7's dotted boxes).</param>
    /// <param name="figure">The paper's figure this regenerates, for the title.</param>
    public static RgbImage ConfusionPng(Table1Row row, Provenance provenance, string profileCaveat, (int First, int Second)? highlight = null, string figure = "FIG 4B")
    {
        var m = row.Metrics;
        int k = m.Classes.Count;
        const int cell = 44, left = 70, top = 96, gap = 1;
        (byte, byte, byte) ink = (30, 30, 40), white = (255, 255, 255);
        string title = $"CONFUSION MATRIX OF {row.Variant} ON THE TEST SET ({figure})";
        string caveat = profileCaveat.ToUpperInvariant();
        int width = Math.Max(left + k * cell + 40, Math.Max(StampFont.Measure(provenance.Stamp, 1), StampFont.Measure(title, 2)) + 20);
        var img = new RgbImage(width, top + k * cell + 70);
        img.Fill(white);
        StampFont.Draw(img, title, 10, 10, ink, 2);
        StampFont.Draw(img, caveat, 10, 34, ink, 1);
        StampFont.Draw(img, "ROWS: TRUE CLASS - COLUMNS: PREDICTED - SHADE: SHARE OF THE TRUE CLASS", 10, 50, ink, 1);
        for (int c = 0; c < k; c++)
        {
            string code = m.Classes[c].Split(' ')[0];
            StampFont.Draw(img, code, left + c * cell + (cell - StampFont.Measure(code, 1)) / 2, top - 14, ink, 1);
            StampFont.Draw(img, code, left - StampFont.Measure(code, 1) - 8, top + c * cell + cell / 2 - 3, ink, 1);
        }
        for (int r = 0; r < k; r++)
        {
            int total = Enumerable.Range(0, k).Sum(c => m.Confusion[r, c]);
            for (int c = 0; c < k; c++)
            {
                int n = m.Confusion[r, c];
                double share = total == 0 ? 0 : (double)n / total;
                // White to deep blue; the diagonal in green so correct and wrong read apart at a glance.
                (byte, byte, byte) colour = r == c
                    ? ((byte)(255 - 200 * share), (byte)(255 - 90 * share), (byte)(255 - 170 * share))
                    : ((byte)(255 - 215 * share), (byte)(255 - 190 * share), (byte)(255 - 60 * share));
                int x = left + c * cell, y = top + r * cell;
                StampFont.FillRect(img, x, y, cell - gap, cell - gap, total == 0 ? ((byte)245, (byte)245, (byte)245) : colour);
                if (n > 0)
                {
                    string text = n.ToString(CultureInfo.InvariantCulture);
                    StampFont.Draw(img, text, x + (cell - StampFont.Measure(text, 2)) / 2, y + cell / 2 - 7, share > 0.6 ? white : ink, 2);
                }
            }
        }
        if (highlight is var (f, s2))
        {
            int a = Math.Min(f, s2), b = Math.Max(f, s2);
            int x0 = left + a * cell - 3, y0 = top + a * cell - 3, x1 = left + (b + 1) * cell + 1, y1 = top + (b + 1) * cell + 1;
            (byte, byte, byte) red = (220, 30, 30);
            AnalysisFigures.Line(img, x0, y0, x1, y0, red, dashed: true);
            AnalysisFigures.Line(img, x0, y1, x1, y1, red, dashed: true);
            AnalysisFigures.Line(img, x0, y0, x0, y1, red, dashed: true);
            AnalysisFigures.Line(img, x1, y0, x1, y1, red, dashed: true);
        }
        StampFont.Draw(img, $"ACCURACY {100 * m.Accuracy:0.0}% OF {m.PerClass.Sum(p => p.Support)} TEST CELLS", 10, img.Height - 46, ink, 1);
        StampFont.Draw(img, provenance.Stamp, 10, img.Height - 24, ink, 1);
        return img;
    }
}
