using System.Globalization;
using System.Text;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Imaging;
using MarrowDiff.Preparation;
using ScottPlot;

namespace MarrowDiff.Reports;

/// <summary>The real Table 1 (<see cref="PairedTable1"/>) as Markdown and CSV.</summary>
public static class PairedTable1Views
{

    // The columns, once: the HTML, the CSV and the Markdown are all rendered from them.
    private static readonly Columns<PairedTable1Row> Table = new(
    [
        new("training set", r => r.Variant),
        new("training images", r => r.TrainingImages.ToString(CultureInfo.InvariantCulture)),
        new("accuracy %", r => Percent.Of(r.Metrics.Accuracy)),
        new("95% CI", r => $"{Percent.Of(r.AccuracyInterval.Low)}-{Percent.Of(r.AccuracyInterval.High)}"),
        new("macro F1 %", r => Percent.Of(r.Metrics.MacroF1)),
        new("95% CI", r => $"{Percent.Of(r.MacroF1Interval.Low)}-{Percent.Of(r.MacroF1Interval.High)}"),
        new("vs OG: McNemar p", r => Mc(r.AgainstOG)),
        new("vs OG: macro F1 diff (95% CI)", r => Diff(r.AgainstOG)),
        new("vs row above: McNemar p", r => Mc(r.AgainstPrevious)),
        new("vs row above: macro F1 diff (95% CI)", r => Diff(r.AgainstPrevious)),
    ]);

    private static string Diff(PairedComparison? c) => c is null ? "" : $"{Percent.Points(c.MacroF1Difference)} ({Percent.Points(c.Interval.Low)} to {Percent.Points(c.Interval.High)})";

    private static string Mc(PairedComparison? c) => c is null ? "" : $"{Percent.PValue(c.McNemar.PValue)} ({c.McNemar.FirstOnlyCorrect}/{c.McNemar.SecondOnlyCorrect})";

    public static string Caption(this PairedTable1 t) =>
        $"Table 1 on real cells, {t.Task}: {t.TestCells} test cells ({string.Join(", ", t.Sources)}), seed {t.Seed}. {t.Stamp}";

    /// <summary>The table as CSV, the caption as a leading comment line.</summary>
    public static string Csv(this PairedTable1 t) =>
        Table.Csv(t.Caption(), t.Rows.Append(t.DualStage));

    /// <summary>The table for a notebook: one training run's scores and paired tests (the paper's claims are tested over
    /// training seeds: <see cref="ClaimsViews"/>).</summary>
    public static HtmlView Html(this PairedTable1 t) => Table.Html(t.Caption(), t.Rows.Append(t.DualStage));

    /// <summary>The table as Markdown with its notes: what each paired column means, the ordering verdicts, and F1 per class.</summary>
    public static string Markdown(this PairedTable1 t)
    {
        var md = new StringBuilder();
        md.Append("**").Append(t.Caption()).Append("**\n\n");
        md.Append(Table.Markdown(t.Rows.Append(t.DualStage)));
        md.Append("\nMcNemar: exact two-sided binomial test on the discordant cells (in brackets: cells right only with the first model / only with the second). ")
          .Append("Macro F1 difference: the later model minus the earlier, in points, with a paired bootstrap's 95% interval over the same test cells (2,000 resamples, seeded). ")
          .Append("The dual stage's \"row above\" is its own global model.\n\n");
        md.Append("F1 % per class:\n\n| training set | ").Append(string.Join(" | ", t.Rows[0].Metrics.Classes.Where((_, i) => t.Rows[0].Metrics.PerClass[i].Support > 0))).Append(" |\n|---|")
          .Append(string.Concat(Enumerable.Repeat("---|", t.Rows[0].Metrics.PerClass.Count(c => c.Support > 0)))).Append('\n');
        foreach (var r in t.Rows.Append(t.DualStage))
            md.Append("| ").Append(r.Variant).Append(" | ").Append(string.Join(" | ", r.Metrics.PerClass.Where(c => c.Support > 0).Select(c => Percent.Of(c.F1)))).Append(" |\n");
        if (t.Sources.Count > 1)
        {
            md.Append("\nMacro F1 % by source (the classes each source has):\n\n| training set | ").Append(string.Join(" | ", t.Sources)).Append(" |\n|---|")
              .Append(string.Concat(Enumerable.Repeat("---|", t.Sources.Count))).Append('\n');
            foreach (var r in t.Rows.Append(t.DualStage))
                md.Append("| ").Append(r.Variant).Append(" | ").Append(string.Join(" | ", t.Sources.Select(s => Percent.Of(r.Predictions.OfSource(s).Metrics.MacroF1)))).Append(" |\n");
        }
        return md.ToString();
    }

    /// <summary>Macro F1 and accuracy of every row with their 95% intervals, in the paper's order, the dual stage last.</summary>
    public static RgbImage Figure(this PairedTable1 t)
    {
        var plot = PaperCharts.NewPlot();
        var rows = t.Rows.Append(t.DualStage).ToList();
        var series = new (string Name, Func<PairedTable1Row, (double Value, double Low, double High)> Of, double Offset)[]
        {
            ("macro F1 (95% bootstrap CI)", r => (r.Metrics.MacroF1, r.MacroF1Interval.Low, r.MacroF1Interval.High), -0.12),
            ("accuracy (95% Wilson CI)", r => (r.Metrics.Accuracy, r.AccuracyInterval.Low, r.AccuracyInterval.High), 0.12),
        };
        for (int s = 0; s < series.Length; s++)
        {
            var colour = PaperCharts.ToColor(PaperCharts.OkabeIto[s]);
            var xs = Enumerable.Range(0, rows.Count).Select(i => i + series[s].Offset).ToArray();
            var values = rows.Select(series[s].Of).ToList();
            var dots = plot.Add.Scatter(xs, values.Select(v => 100 * v.Value).ToArray());
            dots.LineWidth = 0; dots.MarkerSize = 9; dots.Color = colour; dots.LegendText = series[s].Name;
            for (int i = 0; i < rows.Count; i++)
            {
                var whisker = plot.Add.Line(xs[i], 100 * values[i].Low, xs[i], 100 * values[i].High);
                whisker.Color = colour; whisker.LineWidth = 2;
            }
        }
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, rows.Count).Select(i => (double)i)],
                                  [.. rows.Select((r, i) => i == rows.Count - 1 ? "dual stage" : r.Variant)]);
        plot.Axes.SetLimits(-0.5, rows.Count - 0.5, 0, 100);
        plot.XLabel("training set (the paper's order)");
        plot.YLabel("macro F1 or accuracy, % (test cells)");
        plot.ShowLegend(Edge.Bottom);
        return PaperCharts.Framed($"Table 1 on real cells: {t.Task}",
            [$"{t.TestCells} test cells, the same for every model; images a training set: {string.Join(", ", rows.Select(r => $"{(r == t.DualStage ? "local" : r.Variant)} {r.TrainingImages:N0}"))}.",
             "Not comparable to the paper's numbers: other cells, other stain, other classes. Paired tests in the table beside this figure."],
            PaperCharts.Render(plot, 820, 400), t.Stamp);
    }

    /// <summary>The confusion matrix of one row, over the classes that occur in its cells (truth or answer).</summary>
    public static RgbImage Confusion(this PairedTable1 t, PairedTable1Row row)
    {
        var p = row.Predictions;
        var present = p.Outputs.Where(k => p.Cells.Any(c => c.Truth == k || c.Predicted == k)).ToList();
        var names = present.Select(k => k.Label()).ToList();
        var metrics = ClassificationMetrics.From(p.Cells.Select(c => present.IndexOf(c.Truth)).ToList(), p.Cells.Select(c => present.IndexOf(c.Predicted)).ToList(), names);
        bool dual = row == t.DualStage;
        (int, int)? pair = dual && present.Contains(CellClass.BandNeutrophil) && present.Contains(CellClass.SegmentedNeutrophil)
            ? (present.IndexOf(CellClass.BandNeutrophil), present.IndexOf(CellClass.SegmentedNeutrophil)) : null;
        // The caveat leads the stamp ("…; data: …"): it stands in the notes here, so the stamp under a narrow chart is
        // the provenance alone.
        string stamp = t.Stamp.Contains("; ", StringComparison.Ordinal) ? t.Stamp[(t.Stamp.IndexOf("; ", StringComparison.Ordinal) + 2)..] : t.Stamp;
        string caveat = t.Stamp.Contains("; ", StringComparison.Ordinal) ? t.Stamp[..t.Stamp.IndexOf("; ", StringComparison.Ordinal)] : "";
        return new ConfusionChartSpec(row.Variant, metrics, stamp, $"Table 1 on real cells, {t.Task}. {caveat}") { Highlight = pair, Figure = dual ? "Fig 7" : "Fig 4B" }.Png();
    }

    /// <summary>Writes BASE.md, BASE.csv, BASE.png (the figure) and BASE-confusion.png (OG, the largest training set and
    /// the dual stage side by side), each atomically; returns the paths.</summary>
    public static IReadOnlyList<string> Save(this PairedTable1 t, string basePath)
    {
        AtomicFile.WriteAllText(basePath + ".md", t.Markdown());
        AtomicFile.WriteAllText(basePath + ".csv", t.Csv());
        t.Figure().SavePng(basePath + ".png");
        var parts = new[] { t.Of(Table1Role.OG), t.Of(Table1Role.AGOSHigh), t.DualStage }.Select(r => t.Confusion(r)).ToList();
        var strip = new RgbImage(parts.Sum(p => p.Width) + 20 * (parts.Count - 1), parts.Max(p => p.Height)) { Dpi = parts[0].Dpi };
        strip.Fill((255, 255, 255));
        int x = 0;
        foreach (var part in parts) { strip.Paste(part, x, 0); x += part.Width + 20; }
        strip.SavePng(basePath + "-confusion.png");
        return [basePath + ".md", basePath + ".csv", basePath + ".png", basePath + "-confusion.png"];
    }
}
