using System.Globalization;
using System.Text;
using MarrowDiff.Core;
using MarrowDiff.Experiments;
using MarrowDiff.Imaging;

namespace MarrowDiff.Reports;

/// <summary>A <see cref="LearningCurve"/> as a person reads it: a table with intervals, the fit said in words (and
/// said to be an extrapolation), a chart on a log scale of cells, and the files <c>marrow learning-curve</c> saves.</summary>
public static class LearningCurveViews
{
    public const string CsvFile = "learning-curve.csv", TextFile = "learning-curve.md", ChartFile = "learning-curve.png";

    private static string F(double v, string format = "0.0") => v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>The fit in one sentence: points a doubling, and where the line would reach the target.</summary>
    public static string FitText(this LearningCurve c)
    {
        if (c.PointsPerDoubling is not { } slope) return "one cell count only: no line to fit (give two shares or more)";
        string line = $"the least-squares line of macro F1 against log2 of the cells rises {F(slope)} points a doubling";
        if (c.CellsForTarget is not { } cells) return $"{line}: it does not rise, so on this evidence more cells would not reach {Percent.Of(c.Target)}";
        if (cells <= c.Points[^1].CellsPerModel) return $"{line}; it is at {Percent.Of(c.Target)} or above within the measured range";
        return $"{line} and would reach {Percent.Of(c.Target)} near {F(cells, "0")} training cells a fold model, {F(c.TimesTheLargest!.Value, "0.0")}x the largest point's " +
               $"{F(c.Points[^1].CellsPerModel, "0")} (an extrapolation, if the line held that far; not a measurement)";
    }

    // The chart's line: the frame is as wide as its longest note, so the fit is said in fewer words there.
    private static string ShortFit(LearningCurve c) =>
        c.PointsPerDoubling is not { } slope ? "One cell count: no line to fit."
        : c.CellsForTarget is { } cells && cells > c.Points[^1].CellsPerModel
            ? $"Fit: {F(slope)} points a doubling of the cells; {Percent.Of(c.Target)} near {F(cells, "0")} cells a fold model, {F(c.TimesTheLargest!.Value, "0.0")}x the largest point (an extrapolation)."
            : $"Fit: {F(slope)} points a doubling of the cells.";

    /// <summary>The table and the fit as Markdown (also what the console prints).</summary>
    public static string Markdown(this LearningCurve c)
    {
        var text = new StringBuilder();
        text.AppendLine($"# Learning curve: {c.Variant}, cross-validated macro F1 against the training cells");
        text.AppendLine();
        text.AppendLine($"{c.Caveat}. {c.Provenance.Stamp}. Every point scores the same {c.Points[0].HeldOutCells} held-out fold cells; each fold model trains on the share of its training cells of each class (seeded, nested; whole cells). No test cell is read.");
        text.AppendLine();
        text.AppendLine("| share of the training cells | cells a fold model trains on (mean) | 5-fold CV macro-F1 % (95% bootstrap CI) | folds | training, models' times added |");
        text.AppendLine("|---|---|---|---|---|");
        foreach (var p in c.Points)
            text.AppendLine($"| {F(p.Share, "0.###")} | {F(p.CellsPerModel, "0")} | {Percent.Of(p.MacroF1)} ({Percent.Of(p.Low)}–{Percent.Of(p.High)}) | " +
                            $"{string.Join(", ", p.Folds.Select(f => Percent.Of(f)))} | {F(p.TrainingMinutes)} min |");
        text.AppendLine();
        text.AppendLine($"Fit: {c.FitText()}.");
        return text.ToString();
    }

    /// <summary>Macro F1 against the cells a fold model trains on, on a log₂ axis (labelled in cells): the measured
    /// points, the fitted line (dashed) carried towards the target, and the target (dashed). The intervals, about ±3
    /// points each, are in the table: drawn, they would hide the trend the chart is for.</summary>
    public static RgbImage Chart(this LearningCurve c)
    {
        var measured = c.Points.Select(p => (Math.Log2(p.CellsPerModel), 100 * p.MacroF1)).ToList();
        double first = measured[0].Item1, last = measured[^1].Item1;
        // Carried at most two doublings past the last point: further out the chart would be the extrapolation's.
        double end = c.CellsForTarget is { } cells ? Math.Clamp(Math.Log2(cells), last, last + 2) : last;
        var series = new List<ChartSeries> { new("5-fold CV macro F1 (pooled)", measured) };
        if (c.PointsPerDoubling is not null)
            series.Add(new($"fit: {F(c.PointsPerDoubling.Value)} points a doubling", [(first, c.FittedPercent(Math.Pow(2, first))!.Value), (end, c.FittedPercent(Math.Pow(2, end))!.Value)], Dashed: true));
        series.Add(new($"target {Percent.Of(c.Target)}", [(first, 100 * c.Target), (end, 100 * c.Target)], Dashed: true));
        double yMin = Math.Floor(Math.Min(100 * c.Points.Min(p => p.Low), 100 * c.Target) / 10) * 10;
        double yMax = Math.Min(100, Math.Ceiling(Math.Max(100 * c.Points.Max(p => p.High), 100 * c.Target) / 10) * 10);
        var ticks = measured.Select(m => m.Item1).Append(end).Distinct().ToList();
        return AnalysisFigures.LineChart($"Learning curve: {c.Variant}, cross-validated macro F1 against training cells",
            [$"{c.Caveat}. The same {c.Points[0].HeldOutCells} held-out fold cells at every point; no test cell read. 95% intervals: {TextFile}.", ShortFit(c)],
            "training cells a fold model (log scale)", "macro F1 (%)", series, c.Provenance, yMin, yMax, ticks,
            tickLabel: x => F(Math.Pow(2, x), "0"));
    }

    /// <summary>Writes learning-curve.csv, .md and .png into <paramref name="folder"/> atomically (built under a
    /// temporary name, then renamed). A folder that holds anything but an earlier learning curve's three files is
    /// refused, not overwritten: the rename replaces the whole folder.</summary>
    public static string Save(this LearningCurve c, string folder)
    {
        string full = Path.GetFullPath(folder);
        string[] ours = [CsvFile, TextFile, ChartFile];
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Select(Path.GetFileName).FirstOrDefault(name => !ours.Contains(name)) is { } other)
            throw new IOException($"{full}: the folder holds other files ({other}); give an empty or new folder for the learning curve");
        return AtomicFile.WriteFolder(full, temp =>
        {
            AtomicFile.WriteAllText(Path.Combine(temp, CsvFile), c.ToCsv());
            AtomicFile.WriteAllText(Path.Combine(temp, TextFile), c.Markdown());
            c.Chart().SavePng(Path.Combine(temp, ChartFile));
        });
    }
}
