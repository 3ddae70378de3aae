using System.Text;
using MarrowDiff.Analysis;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Imaging;
using MarrowDiff.Training;

namespace MarrowDiff.Reports;

/// <summary>An error analysis as a person reads it (notebook 06, <c>marrow errors</c>): the summary, the gallery of
/// wrong cells with their softmax bars (Fig 6), occlusion maps, the invariance curves and tables (Fig 5B/C), the
/// reliability diagram, the figures saved for figures/ and the self-contained HTML report.</summary>
public static class ErrorAnalysisViews
{
    /// <summary>How many cells, how many wrong, and the most frequent confusions.</summary>
    public static HtmlView Summary(this ErrorAnalysis e)
    {
        var p = e.Predictions;
        var wrong = p.Wrong;
        var pairs = wrong.GroupBy(i => (p.Truth[i], p.Predicted[i])).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).Take(5)
                         .Select(g => $"{p.Classes[g.Key.Item1].Code()} as {p.Classes[g.Key.Item2].Code()}: {g.Count()}");
        var calibration = Evaluation.Calibration.Of(p);
        return HtmlView.Table($"Errors of {p.Model} on {p.Set.Side} - {e.Caveat} - {e.Provenance.Stamp}",
            ["model", "cells", "wrong", "accuracy %", "mean confidence of wrong cells %", "ECE", "most frequent confusions (true as predicted)"],
            [[p.Model, p.Count, wrong.Count, Percent.Of(1 - (double)wrong.Count / p.Count), wrong.Count == 0 ? "" : Percent.Of(wrong.Average(i => (double)p.Confidence(i))),
              Math.Round(calibration.ExpectedCalibrationError, 4), string.Join("; ", pairs)]]);
    }

    /// <summary>Every misclassified cell (up to <paramref name="max"/>), most confident first, as HTML cards.</summary>
    public static HtmlView Gallery(this ErrorAnalysis e, int max = 60)
    {
        var wrong = e.Predictions.Wrong;
        return AnalysisFigures.GalleryHtml(e.Predictions, wrong.Take(max).ToList(),
            $"{wrong.Count} misclassified cells of {e.Predictions.Model}{(wrong.Count > max ? $" (the {max} most confident shown)" : "")}, most confident first - {e.Caveat} - {e.Provenance.Stamp}");
    }

    /// <summary>The gallery as a PNG (the paper's Fig 6).</summary>
    public static RgbImage GalleryPng(this ErrorAnalysis e, int max = 24)
    {
        var wrong = e.Predictions.Wrong;
        return AnalysisFigures.Gallery(e.Predictions, wrong.Take(max).ToList(),
            $"Misclassified cells of {e.Predictions.Model}: {wrong.Count} of {e.Predictions.Count}{(wrong.Count > max ? $", the {max} most confident shown" : "")} (Fig 6)",
            e.Provenance, e.Caveat);
    }

    public static RgbImage OcclusionPng(this ErrorAnalysis e, IReadOnlyList<OcclusionMap> maps) => AnalysisFigures.OcclusionFigure(e.Predictions, maps, e.Provenance, e.Caveat);

    // ------------------------------------------------------------------ notebook charts (Plotly)

    /// <summary>Fig 5B as curves: share of shifted crops with the centred crop's prediction (or still correct), per model.</summary>
    public static ChartView LocationChart(this ErrorAnalysis e, IReadOnlyList<LocationInvariance> curves, bool correct = false) =>
        AnalysisFigures.LocationSpec(curves, e.Provenance, e.Caveat, correct)
            .View($"[chart: {(correct ? "Share of shifted crops still classified correctly" : "Share of shifted crops keeping the centred crop's prediction")} (Fig 5B)]");

    /// <summary>Fig 5C as bars: per D4 element, the share of cells whose turned image keeps the prediction, per model.</summary>
    public static ChartView RotationChart(this ErrorAnalysis e, IReadOnlyList<RotationInvariance> results) =>
        new BarChartSpec("Rotation invariance (Fig 5C): the prediction of each turned image",
            [$"{e.Caveat}. Share of {results[0].Cells} test cells whose turned image keeps the untransformed image's prediction."],
            "D4 element (rotation, mirror)", "same prediction (%)", [.. D4.All.Select(g => g.Name)],
            [.. results.Select(r => (r.Model, (IReadOnlyList<double>)[.. r.AgreementPerElement.Select(a => 100 * a)]))], e.Provenance, YMax: 100)
            .View("[chart: rotation invariance (Fig 5C)]");

    public static HtmlView RotationTable(this ErrorAnalysis e, IReadOnlyList<RotationInvariance> results) =>
        HtmlView.Table($"Rotation invariance on {results[0].Cells} test cells x 8 D4 images - {e.Caveat} - {e.Provenance.Stamp}",
            ["model", "agreement with the untransformed image %", "cells with all 8 agreeing %", "accuracy over the 8 images %"],
            results.Select(r => (IReadOnlyList<object?>)[r.Model, Percent.Of(r.Agreement), Percent.Of(r.AllEight), Percent.Of(r.Accuracy)]));

    public static HtmlView LocationTable(this ErrorAnalysis e, IReadOnlyList<LocationInvariance> curves) =>
        HtmlView.Table($"Location invariance: same prediction % (correct %) by shift; {curves[0].Cells} test cells, {curves[0].CellsLeftOut} left out " +
                       $"(source image too small for the largest shift) - {e.Caveat} - {e.Provenance.Stamp}",
            ["model", .. curves[0].Points.Select(p => $"{p.Distance} px")],
            curves.Select(c => (IReadOnlyList<object?>)[c.Model, .. c.Points.Select(p => $"{Percent.Of(p.SamePrediction)} ({Percent.Of(p.Correct)})")]));

    /// <summary>Reliability diagram: per confidence bin, accuracy against mean confidence; the diagonal is perfect calibration.</summary>
    public static ChartView ReliabilityChart(this ErrorAnalysis e, IReadOnlyList<Calibration> calibrations) =>
        AnalysisFigures.ReliabilitySpec(calibrations, e.Provenance, e.Caveat).View("[chart: reliability diagram]");

    public static HtmlView CalibrationTable(this ErrorAnalysis e, IReadOnlyList<Calibration> calibrations) =>
        HtmlView.Table($"Calibration: expected calibration error (10 bins) and the bins - {e.Caveat} - {e.Provenance.Stamp}",
            ["model", "ECE", .. calibrations[0].Bins.Select(b => $"{b.Low:0.0}-{b.High:0.0}")],
            calibrations.Select(c => (IReadOnlyList<object?>)[c.Model, Math.Round(c.ExpectedCalibrationError, 4),
                .. c.Bins.Select(b => b.Count == 0 ? "" : $"{b.Count}: {Percent.Of(b.Accuracy)}%")]));

    // ------------------------------------------------------------------ files

    /// <summary>Writes the gallery and occlusion PNGs of the phantom to figures/ (<c>06-…</c>). Real images are never
    /// written into the project (the gallery shows cells); for them use <see cref="WriteReport"/> to a folder of yours.</summary>
    public static HtmlView SaveFiguresIfSynthetic(this ErrorAnalysis e, string folder, IReadOnlyList<OcclusionMap> maps, IReadOnlyList<LocationInvariance> location, IReadOnlyList<Calibration> calibrations)
    {
        if (!e.Provenance.Synthetic)
            return new HtmlView("<p>Real images: no figure with cell images is written into the project. Use <code>marrow errors --out DIR</code> for a report in a folder of yours.</p>",
                                "real images: nothing written to figures/");
        string Name(string what) => Path.Combine(folder, $"06-{what}-{Safe(e.Predictions.Model)}.png");
        var files = new List<string> { Name("wrong-cells"), Name("occlusion"), Name("location-invariance"), Name("reliability") };
        e.GalleryPng().SavePng(files[0]);
        e.OcclusionPng(maps).SavePng(files[1]);
        AnalysisFigures.LocationChart(location, e.Provenance, e.Caveat).SavePng(files[2]);
        AnalysisFigures.ReliabilityChart(calibrations, e.Provenance, e.Caveat).SavePng(files[3]);
        return HtmlView.Table($"Saved - {e.Provenance.Stamp}", ["file"], files.Select(f => (IReadOnlyList<object?>)[Path.GetFileName(f)]));
    }

    private static string Safe(string name) => new(name.Select(c => char.IsLetterOrDigit(c) || c is '+' or '-' ? c : '_').ToArray());

    /// <summary>
    /// A self-contained HTML page (<c>index.html</c>, images inline) with the summary, the wrong-cell gallery, the
    /// occlusion maps, the invariance curves of <paramref name="compare"/> and the reliability diagram, plus the
    /// PNGs beside it. Written to a temporary folder and renamed, so a crash leaves no half report.
    /// </summary>
    public static string WriteReport(this ErrorAnalysis e, string folder, IReadOnlyList<ICellClassifier> compare, int occlusions = 4)
    {
        string full = AtomicFile.WriteFolder(folder, temp =>
        {
            var maps = e.Occlusions(occlusions);
            var location = e.Location(compare);
            var rotation = e.Rotation(compare);
            var calibrations = compare.Select(c => ReferenceEquals(c, compare[0]) ? e.Calibration() : Evaluation.Calibration.Of(e.PredictionsOf(c))).ToList();
            var pictures = new (string File, RgbImage Image, string Text)[]
            {
                ("wrong-cells.png", e.GalleryPng(), "misclassified cells and their softmax outputs"),
                ("occlusion.png", e.OcclusionPng(maps), "occlusion sensitivity of the most confident wrong cells"),
                ("location-invariance.png", AnalysisFigures.LocationChart(location, e.Provenance, e.Caveat), "location invariance"),
                ("reliability.png", AnalysisFigures.ReliabilityChart(calibrations, e.Provenance, e.Caveat), "reliability diagram"),
            };
            foreach (var (file, image, _) in pictures) image.SavePng(Path.Combine(temp, file));
            var html = new StringBuilder("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>MarrowDiff error analysis</title></head><body style=\"font:13px sans-serif;max-width:1400px;margin:auto\">");
            html.Append($"<h1>Error analysis of {HtmlView.Encode(e.Predictions.Model)}</h1><p>{HtmlView.Encode(e.Caveat)}<br/>{HtmlView.Encode(e.Provenance.Stamp)}</p>");
            void Section(string title, params HtmlView[] views)
            {
                html.Append($"<h2>{HtmlView.Encode(title)}</h2>");
                foreach (var v in views) html.Append(v.Html).Append("<br/>");
            }
            Section("Summary", e.Summary());
            Section("What the network thought about the cells it got wrong", e.Gallery());
            Section("Where the decision came from", Figures.Inline(pictures[1].Image, pictures[1].Text));
            Section("Location invariance (Fig 5B)", Figures.Inline(pictures[2].Image, pictures[2].Text), e.LocationTable(location));
            Section("Rotation invariance (Fig 5C)", e.RotationTable(rotation));
            Section("Calibration", Figures.Inline(pictures[3].Image, pictures[3].Text), e.CalibrationTable(calibrations));
            html.Append("</body></html>");
            AtomicFile.WriteAllText(Path.Combine(temp, "index.html"), html.ToString());
        });
        return Path.Combine(full, "index.html");
    }
}
