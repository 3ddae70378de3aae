using System.Globalization;
using System.Text;
using MarrowDiff.Core;
using MarrowDiff.Evaluation;
using MarrowDiff.Imaging;
using MarrowDiff.Preparation;
using ScottPlot;

namespace MarrowDiff.Reports;

/// <summary>The paper's claims tested on Table 1 replicates (<see cref="ClaimsTest"/>): Markdown, CSV, HTML and the chart.</summary>
public static class ClaimsViews
{
    private static string Range((double Low, double High) i) => $"{Percent.Points(i.Low)} to {Percent.Points(i.High)}";

    public static string Word(Verdict v) => v switch { Verdict.Holds => "holds", Verdict.Fails => "fails", Verdict.NotTested => "not tested here (no dual stage)", _ => "undecided" };

    /// <summary>What the test is, in one paragraph: the design declared before any result, and what one seed cannot say.</summary>
    public static string Method(this ClaimsTest t) =>
        $"Primary metric: {PaperClaims.PrimaryMetric}. Primary test: the seed-paired difference of each claim (better row minus worse, " +
        $"each training seed's pair on the same {t.Cells} test cells, averaged over the seeds), by a two-level bootstrap ({t.Resamples:N0} resamples: " +
        "training seeds drawn with replacement, then test cells, the same cells for every seed and both rows), one-sided. A hypothesis holds when every " +
        "claim in it is above zero (its p is the largest of theirs), fails when any claim is below zero (the smallest reversed p times the number of claims); " +
        $"Holm's correction over the seven hypotheses, each side, at {PaperClaims.Alpha.ToString(CultureInfo.InvariantCulture)}. " +
        "Secondary, deciding nothing: the accuracy difference and McNemar's exact test of each seed's pair." +
        (t.Seeds == 1 ? " With one training seed the intervals carry the test set's variation only: one training run is an anecdote, not a row." : "");

    public static string Caption(this ClaimsTest t) =>
        $"The paper's claims, {t.Task}: {t.Seeds} training seed{(t.Seeds == 1 ? "" : "s")} ({string.Join(", ", t.Replicates.Seeds.Select(s => s.Seed))}) " +
        $"on one split, {t.Cells} test cells. {t.Replicates.Stamp}";

    private static readonly string[] RowHeader =
        ["training set", "role", "training images", "SGD steps", "seeds", "macro F1 % at each seed", "mean", "sd", "min-max", "accuracy % mean", "the paper's accuracy % (its own cells)"];

    private static IEnumerable<string[]> RowCells(ClaimsTest t) => t.Rows.Select(row =>
    {
        var training = t.Replicates.Training.TryGetValue(row.Name, out var x) ? x : (Images: 0, Steps: 0L);
        return new[]
        {
            row.Name, Table1Roles.Label(row.Role), training.Images == 0 ? "" : training.Images.ToString("N0", CultureInfo.InvariantCulture),
            training.Steps == 0 ? "" : training.Steps.ToString("N0", CultureInfo.InvariantCulture), row.MacroF1.Count.ToString(CultureInfo.InvariantCulture),
            string.Join(" ", row.MacroF1.Select(v => Percent.Of(v))), Percent.Of(row.Mean), Percent.Of(row.Sd), $"{Percent.Of(row.Min)}-{Percent.Of(row.Max)}", Percent.Of(row.MeanAccuracy),
            Percent.Of(PaperClaims.PaperAccuracy[row.Role], 2),
        };
    });

    private static readonly string[] HypothesisHeader =
        ["", "the paper's claim", "its words", "macro F1 difference, points (95% CI)", "p holds (Holm)", "p fails (Holm)", "verdict"];

    private static IEnumerable<string[]> HypothesisCells(ClaimsTest t) => t.Results.Where(h => h.Verdict != Verdict.NotTested).Select(h => new[]
    {
        h.Hypothesis.Id, h.Hypothesis.Statement, $"\"{h.Hypothesis.Quote}\"",
        string.Join("; ", h.Claims.Select(c => $"{c.Better} > {c.Worse}: {Percent.Points(c.MeanDifference)} ({Range(c.Interval)})")),
        $"{Percent.PValue(h.PHolds)} ({Percent.PValue(h.HolmHolds)})", $"{Percent.PValue(h.PFails)} ({Percent.PValue(h.HolmFails)})", Word(h.Verdict),
    });

    private static readonly string[] ClaimHeader =
        ["", "claim", "rows", "macro F1 difference at each seed (points)", "accuracy difference, points (95% CI)", "McNemar p at each seed (cells right only with the worse / only with the better)"];

    private static IEnumerable<string[]> ClaimCells(ClaimsTest t) => t.Results.SelectMany(h => h.Claims.Select(c => new[]
    {
        h.Hypothesis.Id, c.Claim.ToString(), $"{c.Better} > {c.Worse}", string.Join(", ", c.PerSeed.Select(Percent.Points)),
        $"{Percent.Points(c.AccuracyDifference)} ({Range(c.AccuracyInterval)})",
        string.Join(", ", c.McNemar.Select(m => $"{Percent.PValue(m.PValue)} ({m.FirstOnlyCorrect}/{m.SecondOnlyCorrect})")),
    }));

    private static void Table(StringBuilder md, string[] header, IEnumerable<string[]> rows)
    {
        md.Append("| ").Append(string.Join(" | ", header)).Append(" |\n|").Append(string.Concat(Enumerable.Repeat("---|", header.Length))).Append('\n');
        foreach (var c in rows) md.Append("| ").Append(string.Join(" | ", c.Select(x => x.Replace("|", "\\|", StringComparison.Ordinal)))).Append(" |\n");
    }

    /// <summary>The rows over the seeds, the seven hypotheses with their verdicts, and each claim's numbers.</summary>
    public static string Markdown(this ClaimsTest t)
    {
        var md = new StringBuilder();
        md.Append("**").Append(t.Caption()).Append("**\n\n");
        Table(md, RowHeader, RowCells(t));
        md.Append("\nThe paper's accuracies are on its own 2,174 marrow cells and ten classes: a reference for the order of the rows, not a number to compare ours with.\n\n");
        Table(md, HypothesisHeader, HypothesisCells(t));
        md.Append('\n').Append(t.Method()).Append("\n\n");
        Table(md, ClaimHeader, ClaimCells(t));
        var r = t.Replicates;
        if (r.Cpus.Count > 0)
            md.Append("\nTraining seeds: ").Append(string.Join("; ", r.Cpus.Select((c, i) =>
                $"{c.Seed} on {c.Cpu}{(i < r.Minutes.Count ? $", {r.Minutes[i].Minutes.ToString("0", CultureInfo.InvariantCulture)} min of training" : "")}"))).Append(".\n");
        return md.ToString();
    }

    /// <summary>The hypotheses as CSV, one row a claim, the caption as a leading comment line.</summary>
    public static string Csv(this ClaimsTest t)
    {
        var lines = new List<string>
        {
            $"# {t.Caption()}",
            Core.Csv.Line("hypothesis", "verdict", "p_holds", "holm_holds", "p_fails", "holm_fails", "claim", "better", "worse", "macro_f1_difference", "low", "high", "per_seed", "accuracy_difference"),
        };
        foreach (var h in t.Results.Where(h => h.Verdict != Verdict.NotTested))
            foreach (var c in h.Claims)
                lines.Add(Core.Csv.Line(h.Hypothesis.Id, Word(h.Verdict), h.PHolds, h.HolmHolds, h.PFails, h.HolmFails, c.Claim.ToString(), c.Better, c.Worse,
                                        Math.Round(c.MeanDifference, 4), Math.Round(c.Interval.Low, 4), Math.Round(c.Interval.High, 4),
                                        string.Join(" ", c.PerSeed.Select(x => Math.Round(x, 4).ToString(CultureInfo.InvariantCulture))), Math.Round(c.AccuracyDifference, 4)));
        return string.Join("\n", lines) + "\n";
    }

    /// <summary>Each hypothesis's verdict in a sentence, with the numbers it rests on.</summary>
    public static IReadOnlyList<string> Sentences(this ClaimsTest t) => [.. t.Results.Select(h => h.Verdict == Verdict.NotTested
        ? $"{h.Hypothesis.Id}, {h.Hypothesis.Statement}: {Word(h.Verdict)}." :
        $"{h.Hypothesis.Id}, {h.Hypothesis.Statement}: {Word(h.Verdict)} " +
        $"({string.Join("; ", h.Claims.Select(c => $"{c.Better} minus {c.Worse} {Percent.Points(c.MeanDifference)} points of macro F1, 95% CI {Range(c.Interval)}"))}; " +
        $"{HolmText(h)}, {t.Seeds} training seed{(t.Seeds == 1 ? "" : "s")}, {t.Cells} test cells).")];

    // The p of the verdict reached; for an undecided one both sides, so a reader sees which way it leans and how far
    // from 0.05 each side is (one p alone would hide a claim close to failing behind its p of holding, 1.000).
    private static string HolmText(HypothesisResult h) => h.Verdict switch
    {
        Verdict.Fails => $"Holm-adjusted p {Percent.PValue(h.HolmFails)}",
        Verdict.Holds => $"Holm-adjusted p {Percent.PValue(h.HolmHolds)}",
        _ => $"Holm-adjusted p {Percent.PValue(h.HolmHolds)} (test that it holds), {Percent.PValue(h.HolmFails)} (test that it fails)",
    };

    /// <summary>The verdicts as a list for a notebook.</summary>
    public static HtmlView Verdicts(this ClaimsTest t) => new(
        $"<p style=\"font:13px sans-serif\"><b>{HtmlView.Encode($"The paper's claims on {t.Task}")}</b></p><ul style=\"font:13px sans-serif\">" +
        string.Concat(t.Sentences().Select(x => $"<li>{HtmlView.Encode(x)}</li>")) + "</ul>",
        $"The paper's claims on {t.Task}:\n" + string.Join("\n", t.Sentences().Select(x => "- " + x)));

    /// <summary>The verdicts for a notebook, then the rows over the seeds.</summary>
    public static HtmlView Html(this ClaimsTest t) => HtmlView.Concat(
        HtmlView.Table(t.Caption(), HypothesisHeader, HypothesisCells(t).Select(c => (IReadOnlyList<object?>)c)),
        HtmlView.Paragraph(t.Method()),
        HtmlView.Table("Each row over the training seeds", RowHeader, RowCells(t).Select(c => (IReadOnlyList<object?>)c)));

    /// <summary>Each row's macro F1 at every seed (a dot each) beside the mean over the seeds (a bar), with the paper's
    /// accuracy of the row (on its own cells) as a reference mark.</summary>
    public static RgbImage Figure(this ClaimsTest t)
    {
        var plot = PaperCharts.NewPlot();
        var rows = t.Rows;
        var seedColour = PaperCharts.ToColor(PaperCharts.OkabeIto[0]);
        var paperColour = PaperCharts.ToColor(PaperCharts.OkabeIto[1]);
        for (int i = 0; i < rows.Count; i++)
        {
            var values = rows[i].MacroF1;
            // The seeds spread a little sideways so equal scores stay visible; the order is the seeds' own.
            var xs = values.Select((_, k) => i - 0.12 + (values.Count == 1 ? 0 : 0.16 * k / (values.Count - 1))).ToArray();
            var dots = plot.Add.Scatter(xs, values.Select(v => 100 * v).ToArray());
            dots.LineWidth = 0; dots.MarkerSize = 8; dots.Color = seedColour.WithAlpha(0.75);
            if (i == 0) dots.LegendText = $"macro F1 at each training seed ({t.Seeds})";
            var mean = plot.Add.Line(i + 0.04, 100 * rows[i].Mean, i + 0.24, 100 * rows[i].Mean);
            mean.Color = seedColour; mean.LineWidth = 3;
            if (i == 0) mean.LegendText = "mean over the seeds";
        }
        var paper = plot.Add.Scatter(rows.Select((_, i) => i + 0.32).ToArray(), rows.Select(x => 100 * PaperClaims.PaperAccuracy[x.Role]).ToArray());
        paper.LineWidth = 0; paper.MarkerSize = 9; paper.MarkerShape = MarkerShape.OpenDiamond; paper.Color = paperColour;
        paper.LegendText = "the paper's accuracy (its own cells; reference only)";
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, rows.Count).Select(i => (double)i)], [.. rows.Select(x => x.Role == Table1Role.DualStage ? "dual stage" : x.Name)]);
        plot.Axes.SetLimits(-0.5, rows.Count - 0.5, 0, 100);
        plot.XLabel("training set (the paper's order)");
        plot.YLabel("macro F1 % (the paper: accuracy %)");
        plot.ShowLegend(Edge.Bottom);
        string verdicts = string.Join(", ", t.Results.Select(h => $"{h.Hypothesis.Id} {Word(h.Verdict)}"));
        return PaperCharts.Framed($"Table 1 over training seeds: {t.Task}",
            [$"{t.Cells} test cells, the same for every model and seed; {t.Seeds} training seed{(t.Seeds == 1 ? "" : "s")} a row. The paper's claims: {verdicts}.",
             .. StepsNote(t),
             "Not comparable to the paper's numbers: other cells, other stain, other classes; its marks show the order it found."],
            PaperCharts.Render(plot, 820, 420), t.Replicates.Stamp);
    }

    /// <summary>How long each row trained, which tells the paper's protocol (the same epochs, so steps follow the set's
    /// size) from the equal-training control (about the same steps for every row) at a glance; nothing when not known.</summary>
    private static IEnumerable<string> StepsNote(ClaimsTest t)
    {
        var steps = t.Replicates.Training.Values.Select(v => v.Steps).Where(v => v > 0).ToList();
        if (steps.Count == 0) yield break;
        long low = steps.Min(), high = steps.Max();
        yield return high <= 1.2 * low
            ? string.Create(CultureInfo.InvariantCulture, $"Equal training: every model {low:N0}-{high:N0} SGD steps, whatever its training set's size.")
            : string.Create(CultureInfo.InvariantCulture, $"The paper's protocol: the same epochs for every row, so {low:N0} to {high:N0} SGD steps a model.");
    }

    /// <summary>Writes BASE.md (the claims, then <paramref name="oneSeed"/>'s paired table in full), BASE.csv (the rows
    /// over the seeds), BASE-claims.csv, BASE.png (the chart) and BASE-confusion.png (of <paramref name="oneSeed"/>),
    /// each atomically; returns the paths.</summary>
    public static IReadOnlyList<string> Save(this ClaimsTest t, PairedTable1 oneSeed, string basePath)
    {
        var files = oneSeed.Save(basePath).ToList(); // its own .md/.csv/.png are replaced below; its confusion strip stays
        AtomicFile.WriteAllText(basePath + ".md", t.Markdown() + $"\n## One training run in full: training seed {oneSeed.Seed}\n\n" + oneSeed.Markdown());
        AtomicFile.WriteAllText(basePath + ".csv",
            string.Join("\n", new[] { $"# {t.Caption()}", Core.Csv.Line(RowHeader) }.Concat(RowCells(t).Select(c => Core.Csv.Line(c)))) + "\n");
        AtomicFile.WriteAllText(basePath + "-claims.csv", t.Csv());
        t.Figure().SavePng(basePath + ".png");
        files.Add(basePath + "-claims.csv");
        return files;
    }
}
