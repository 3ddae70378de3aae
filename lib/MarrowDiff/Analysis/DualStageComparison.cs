using System.Globalization;
using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Reports;
using MarrowDiff.Training;

namespace MarrowDiff.Analysis;

/// <summary>
/// The paper's Fig 7 and its numbers: the global model and the dual-stage model on the same test cells, their
/// confusion matrices side by side with the pair's block boxed, their metrics, the cells whose prediction changed,
/// and McNemar's test on the paired predictions (is the change more than chance?).
/// </summary>
public sealed class DualStageComparison
{
    public DualStageComparison(Predictions global, Predictions dual, TrainedModel local, ExperimentProfile profile, Provenance provenance)
    {
        if (global.Count != dual.Count) throw new ArgumentException($"{global.Count} against {dual.Count} test cells: the comparison must be paired");
        Global = global; Dual = dual; Local = local; Profile = profile; Provenance = provenance;
        McNemar = McNemarResult.Test(global.CorrectFlags, dual.CorrectFlags);
    }

    public Predictions Global { get; }
    public Predictions Dual { get; }
    public TrainedModel Local { get; }
    public ExperimentProfile Profile { get; }
    public Provenance Provenance { get; }
    public McNemarResult McNemar { get; }

    public (CellClass First, CellClass Second) Pair => (Local.Outputs[0], Local.Outputs[1]);

    private string Caveat => $"{Profile.Caveat}{(Provenance.Synthetic ? "; synthetic data" : "")}";

    private static string P(double v) => (100 * v).ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>Accuracy (with its Wilson interval), weighted and macro precision/recall/F1, and the pair's recalls.</summary>
    public HtmlView MetricTable()
    {
        int f = Pair.First.Index(), s = Pair.Second.Index();
        IReadOnlyList<object?> Row(Predictions p, string paper)
        {
            var m = p.Metrics;
            return [p.Model, P(m.Accuracy), Table1.Wilson(m.Accuracy, p.Count), P(m.WeightedPrecision), P(m.WeightedRecall), P(m.WeightedF1), P(m.MacroF1),
                    P(m.PerClass[f].Recall), P(m.PerClass[s].Recall), paper];
        }
        bool paperPair = Pair == (CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil);
        return HtmlView.Table($"Global model against the dual-stage CNN on the same {Global.Count} test cells (Fig 7) - {Caveat} - {Provenance.Stamp}",
            ["model", "accuracy %", "95% CI", "precision % (weighted)", "recall % (weighted)", "F1 % (weighted)", "F1 % (macro)",
             $"recall {Pair.First.Code()} %", $"recall {Pair.Second.Code()} %", "paper's accuracy % (orientation only)"],
            [Row(Global, "95.68 (AG+OS600)"), Row(Dual, paperPair ? "97.06 (dual-stage)" : "")]);
    }

    /// <summary>McNemar's test in words: the discordant cells, the statistic, the p-value and what it means.</summary>
    public HtmlView McNemarSummary()
    {
        var r = McNemar;
        string verdict = r.FirstOnlyCorrect + r.SecondOnlyCorrect == 0
            ? "The two models agree on every test cell's correctness: there is nothing to test."
            : r.PValue < 0.05 ? "The difference is larger than chance at the 5% level."
            : "The difference is not distinguishable from chance at the 5% level (with this many test cells, a few corrected cells cannot be).";
        string method = r.Exact ? "exact two-sided binomial test on the discordant cells" : "chi-square with continuity correction, 1 degree of freedom";
        return HtmlView.Table($"McNemar's test, {Global.Model} against {Dual.Model} - {Provenance.Stamp}",
            ["cells right only with the global model", "cells right only with the dual stage", "statistic", "p-value", "method", "verdict"],
            [[r.FirstOnlyCorrect, r.SecondOnlyCorrect, Math.Round(r.Statistic, 3), r.PValue.ToString("G3", CultureInfo.InvariantCulture), method, verdict]]);
    }

    /// <summary>Every test cell whose predicted class the local model changed.</summary>
    public HtmlView Changes()
    {
        var rows = Enumerable.Range(0, Global.Count).Where(i => Global.Predicted[i] != Dual.Predicted[i]).Select(i => (IReadOnlyList<object?>)
            [Global.Set.CellOf(i).CellId, Global.Classes[Global.Truth[i]].Label(), Global.Classes[Global.Predicted[i]].Label(), Dual.Classes[Dual.Predicted[i]].Label(),
             Dual.Correct(i) ? "corrected" : Global.Correct(i) ? "broken" : "still wrong"]).ToList();
        return HtmlView.Table($"Test cells whose prediction the local {Pair.First.Code()}/{Pair.Second.Code()} model changed: {rows.Count} - {Provenance.Stamp}",
            ["cell", "true class", "global model", "dual stage", "effect"], rows);
    }

    /// <summary>The two confusion matrices side by side, the pair's block in a red dashed box.</summary>
    public RgbImage ConfusionFigure()
    {
        var highlight = (Pair.First.Index(), Pair.Second.Index());
        RgbImage a = TrainingReports.ConfusionPng(new Table1Row(Global.Model, 0, Global.Metrics), Provenance, Profile, highlight, "FIG 7");
        RgbImage b = TrainingReports.ConfusionPng(new Table1Row(Dual.Model, 0, Dual.Metrics), Provenance, Profile, highlight, "FIG 7");
        var img = new RgbImage(a.Width + b.Width + 20, Math.Max(a.Height, b.Height));
        img.Fill((255, 255, 255));
        img.Paste(a, 0, 0);
        img.Paste(b, a.Width + 20, 0);
        return img;
    }

    public HtmlView ConfusionView() => Figures.Inline(ConfusionFigure(), $"confusion matrices of {Global.Model} and {Dual.Model}");

    /// <summary>Writes <c>05-dual-stage-confusion.png</c> and <c>05-dual-stage.md</c> to <paramref name="folder"/> (numbers
    /// only, no cell image, so this is safe for real data too: the name then carries the data folder).</summary>
    public HtmlView Save(string folder, string datasetRoot)
    {
        string suffix = Provenance.Synthetic ? "" : "-" + Path.GetFileName(Path.TrimEndingDirectorySeparator(datasetRoot));
        string png = Path.Combine(folder, $"05-dual-stage-confusion{suffix}.png"), md = Path.Combine(folder, $"05-dual-stage{suffix}.md");
        ConfusionFigure().SavePng(png);
        AtomicFile.WriteAllText(md, $"{MetricTable()}\n{McNemarSummary()}\n{Changes()}");
        return HtmlView.Table($"Saved - {Provenance.Stamp}", ["file"], [[Path.GetFileName(png)], [Path.GetFileName(md)]]);
    }
}
