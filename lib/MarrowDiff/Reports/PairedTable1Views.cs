using System.Globalization;
using System.Text;
using MarrowDiff.Evaluation;

namespace MarrowDiff.Reports;

/// <summary>The real Table 1 (<see cref="PairedTable1"/>) as Markdown and CSV.</summary>
public static class PairedTable1Views
{
    private static string P(double v) => (100 * v).ToString("0.0", CultureInfo.InvariantCulture);
    private static string Signed(double v) => (100 * v).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture);
    private static string Pv(double p) => p < 0.001 ? "<0.001" : p.ToString("0.000", CultureInfo.InvariantCulture);

    private static readonly string[] Header =
    [
        "training set", "training images", "accuracy %", "95% CI", "macro F1 %", "95% CI",
        "vs OG: McNemar p", "vs OG: macro F1 diff (95% CI)", "vs row above: McNemar p", "vs row above: macro F1 diff (95% CI)",
    ];

    private static string Diff(PairedComparison? c) => c is null ? "" : $"{Signed(c.MacroF1Difference)} ({Signed(c.Interval.Low)} to {Signed(c.Interval.High)})";

    private static string Mc(PairedComparison? c) => c is null ? "" : $"{Pv(c.McNemar.PValue)} ({c.McNemar.FirstOnlyCorrect}/{c.McNemar.SecondOnlyCorrect})";

    private static IEnumerable<string[]> Cells(PairedTable1 t) => t.Rows.Append(t.DualStage).Select(r => new[]
    {
        r.Variant, r.TrainingImages.ToString(CultureInfo.InvariantCulture), P(r.Metrics.Accuracy), $"{P(r.AccuracyInterval.Low)}-{P(r.AccuracyInterval.High)}",
        P(r.Metrics.MacroF1), $"{P(r.MacroF1Interval.Low)}-{P(r.MacroF1Interval.High)}",
        Mc(r.AgainstOG), Diff(r.AgainstOG), Mc(r.AgainstPrevious), Diff(r.AgainstPrevious),
    });

    public static string Caption(this PairedTable1 t) =>
        $"Table 1 on real cells, {t.Task}: {t.TestCells} test cells ({string.Join(", ", t.Sources)}), seed {t.Seed}. {t.Stamp}";

    /// <summary>The table as CSV, the caption as a leading comment line.</summary>
    public static string Csv(this PairedTable1 t) =>
        string.Join("\n", new[] { $"# {t.Caption()}", Core.Csv.Line(Header) }.Concat(Cells(t).Select(c => Core.Csv.Line(c)))) + "\n";

    /// <summary>The table as Markdown with its notes: what each paired column means, the ordering verdicts, and F1 per class.</summary>
    public static string Markdown(this PairedTable1 t)
    {
        var md = new StringBuilder();
        md.Append("**").Append(t.Caption()).Append("**\n\n");
        md.Append("| ").Append(string.Join(" | ", Header)).Append(" |\n|").Append(string.Concat(Enumerable.Repeat("---|", Header.Length))).Append('\n');
        foreach (var c in Cells(t)) md.Append("| ").Append(string.Join(" | ", c)).Append(" |\n");
        md.Append("\nMcNemar: exact two-sided binomial test on the discordant cells (in brackets: cells right only with the first model / only with the second). ")
          .Append("Macro F1 difference: the later model minus the earlier, in points, with a paired bootstrap's 95% interval over the same test cells (2,000 resamples, seeded). ")
          .Append("The dual stage's \"row above\" is its own global model.\n\n");
        md.Append("| the paper's ordering | macro F1 difference (points) | holds here? |\n|---|---|---|\n");
        foreach (var (claim, diff, higher, significant) in t.Ordering())
            md.Append($"| {claim} | {Signed(diff)} | {(higher ? significant ? "yes, beyond chance" : "higher, within chance" : significant ? "no: lower, beyond chance" : "no: lower, within chance")} |\n");
        md.Append("\nF1 % per class:\n\n| training set | ").Append(string.Join(" | ", t.Rows[0].Metrics.Classes.Where((_, i) => t.Rows[0].Metrics.PerClass[i].Support > 0))).Append(" |\n|---|")
          .Append(string.Concat(Enumerable.Repeat("---|", t.Rows[0].Metrics.PerClass.Count(c => c.Support > 0)))).Append('\n');
        foreach (var r in t.Rows.Append(t.DualStage))
            md.Append("| ").Append(r.Variant).Append(" | ").Append(string.Join(" | ", r.Metrics.PerClass.Where(c => c.Support > 0).Select(c => P(c.F1)))).Append(" |\n");
        if (t.Sources.Count > 1)
        {
            md.Append("\nMacro F1 % by source (the classes each source has):\n\n| training set | ").Append(string.Join(" | ", t.Sources)).Append(" |\n|---|")
              .Append(string.Concat(Enumerable.Repeat("---|", t.Sources.Count))).Append('\n');
            foreach (var r in t.Rows.Append(t.DualStage))
                md.Append("| ").Append(r.Variant).Append(" | ").Append(string.Join(" | ", t.Sources.Select(s => P(r.Predictions.OfSource(s).Metrics.MacroF1)))).Append(" |\n");
        }
        return md.ToString();
    }
}
