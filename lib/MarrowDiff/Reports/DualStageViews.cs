using System.Globalization;
using MarrowDiff.Analysis;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Imaging;

namespace MarrowDiff.Reports;

/// <summary>The paper's Fig 7 as a person reads it: the metric table, McNemar's test in words, the changed cells, the
/// two confusion matrices side by side, and the files saved for figures/.</summary>
public static class DualStageViews
{
    /// <summary>Accuracy (with its Wilson interval), weighted and macro precision/recall/F1, and the pair's recalls.</summary>
    public static HtmlView MetricTable(this DualStageComparison d)
    {
        int f = d.Pair.First.Index(), s = d.Pair.Second.Index();
        IReadOnlyList<object?> Row(Predictions p, string paper)
        {
            var m = p.Metrics;
            return [p.Model, Percent.Of(m.Accuracy, 2), Table1Views.WilsonText(m.Accuracy, p.Count), Percent.Of(m.WeightedPrecision, 2), Percent.Of(m.WeightedRecall, 2), Percent.Of(m.WeightedF1, 2), Percent.Of(m.MacroF1, 2),
                    Percent.Of(m.PerClass[f].Recall, 2), Percent.Of(m.PerClass[s].Recall, 2), paper];
        }
        bool paperPair = d.Pair == (CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil);
        return HtmlView.Table($"Global model against the dual-stage CNN on the same {d.Global.Count} test cells (Fig 7) - {d.Caveat} - {d.Provenance.Stamp}",
            ["model", "accuracy %", "95% CI", "precision % (weighted)", "recall % (weighted)", "F1 % (weighted)", "F1 % (macro)",
             $"recall {d.Pair.First.Code()} %", $"recall {d.Pair.Second.Code()} %", "paper's accuracy % (orientation only)"],
            [Row(d.Global, "95.68 (AG+OS600)"), Row(d.Dual, paperPair ? "97.06 (dual-stage)" : "")]);
    }

    /// <summary>McNemar's test in words: the discordant cells, the statistic, the p-value and what it means.</summary>
    public static HtmlView McNemarSummary(this DualStageComparison d)
    {
        var r = d.McNemar;
        string verdict = r.FirstOnlyCorrect + r.SecondOnlyCorrect == 0
            ? "The two models agree on every test cell's correctness: there is nothing to test."
            : r.PValue < 0.05 ? "The difference is larger than chance at the 5% level."
            : "The difference is not distinguishable from chance at the 5% level (with this many test cells, a few corrected cells cannot be).";
        string method = r.Exact ? "exact two-sided binomial test on the discordant cells" : "chi-square with continuity correction, 1 degree of freedom";
        return HtmlView.Table($"McNemar's test, {d.Global.Model} against {d.Dual.Model} - {d.Provenance.Stamp}",
            ["cells right only with the global model", "cells right only with the dual stage", "statistic", "p-value", "method", "verdict"],
            [[r.FirstOnlyCorrect, r.SecondOnlyCorrect, Math.Round(r.Statistic, 3), r.PValue.ToString("G3", CultureInfo.InvariantCulture), method, verdict]]);
    }

    /// <summary>Every test cell whose predicted class the local model changed.</summary>
    public static HtmlView Changes(this DualStageComparison d)
    {
        var rows = Enumerable.Range(0, d.Global.Count).Where(i => d.Global.Predicted[i] != d.Dual.Predicted[i]).Select(i => (IReadOnlyList<object?>)
            [d.Global.Set.CellOf(i).CellId, d.Global.Classes[d.Global.Truth[i]].Label(), d.Global.Classes[d.Global.Predicted[i]].Label(), d.Dual.Classes[d.Dual.Predicted[i]].Label(),
             d.Dual.Correct(i) ? "corrected" : d.Global.Correct(i) ? "broken" : "still wrong"]).ToList();
        return HtmlView.Table($"Test cells whose prediction the local {d.Pair.First.Code()}/{d.Pair.Second.Code()} model changed: {rows.Count} - {d.Provenance.Stamp}",
            ["cell", "true class", "global model", "dual stage", "effect"], rows);
    }

    /// <summary>The two confusion matrices side by side, the pair's block in a red dashed box.</summary>
    public static RgbImage ConfusionFigure(this DualStageComparison d)
    {
        var highlight = (d.Pair.First.Index(), d.Pair.Second.Index());
        RgbImage a = new ConfusionChartSpec(d.Global.Model, d.Global.Metrics, d.Provenance.Stamp, d.ProfileCaveat) { Highlight = highlight, Figure = "Fig 7" }.Png();
        RgbImage b = new ConfusionChartSpec(d.Dual.Model, d.Dual.Metrics, d.Provenance.Stamp, d.ProfileCaveat) { Highlight = highlight, Figure = "Fig 7" }.Png();
        var img = new RgbImage(a.Width + b.Width + 20, Math.Max(a.Height, b.Height)) { Dpi = a.Dpi };
        img.Fill((255, 255, 255));
        img.Paste(a, 0, 0);
        img.Paste(b, a.Width + 20, 0);
        return img;
    }

    public static HtmlView ConfusionView(this DualStageComparison d) => Figures.Inline(d.ConfusionFigure(), $"confusion matrices of {d.Global.Model} and {d.Dual.Model}");

    /// <summary>Writes <c>05-dual-stage-confusion.png</c> and <c>05-dual-stage.md</c> to <paramref name="folder"/> (numbers
    /// only, no cell image, so this is safe for real data too: the name then carries the data folder).</summary>
    public static HtmlView Save(this DualStageComparison d, string folder, string datasetRoot)
    {
        string suffix = d.Provenance.Synthetic ? "" : "-" + Path.GetFileName(Path.TrimEndingDirectorySeparator(datasetRoot));
        string png = Path.Combine(folder, $"05-dual-stage-confusion{suffix}.png"), md = Path.Combine(folder, $"05-dual-stage{suffix}.md");
        d.ConfusionFigure().SavePng(png);
        AtomicFile.WriteAllText(md, HtmlView.Concat(d.MetricTable(), d.McNemarSummary(), d.Changes()).Markdown);
        return HtmlView.Table($"Saved - {d.Provenance.Stamp}", ["file"], [[Path.GetFileName(png)], [Path.GetFileName(md)]]);
    }
}
