using System.Globalization;
using System.Text;
using MarrowDiff.Analysis;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Imaging;
using ScottPlot;

namespace MarrowDiff.Reports;

/// <summary>A named line of a chart.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, bool Dashed = false);

/// <summary>
/// The error-analysis pictures as PNG (for figures/ and for the self-contained HTML page of <c>marrow errors</c>),
/// cell images laid out in pixels with anti-aliased text (FigureText), charts by ScottPlot (PaperCharts). Every picture carries
/// the provenance stamp and the profile caveat. The notebooks show the same numbers as Plotly charts.
/// </summary>
public static class AnalysisFigures
{
    private static readonly (byte, byte, byte) Ink = (30, 30, 40), White = (255, 255, 255), Grid = (225, 225, 230),
        TrueColour = (30, 140, 60), WrongColour = (200, 40, 40), Bar = (150, 160, 180);

    /// <summary>Distinct colours for up to 8 series (then they repeat).</summary>
    public static readonly (byte R, byte G, byte B)[] Palette =
        [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14), (148, 103, 189), (140, 86, 75), (227, 119, 194), (23, 190, 207)];

    private const int Patch = CellPatch.Size, Zoom = 2;

    /// <summary>
    /// The paper's Fig 6 for every given cell: the image, and beside it the softmax distribution over the classes as
    /// bars, the true class in green and the predicted one in red, with the confidence.
    /// </summary>
    public static RgbImage Gallery(Predictions p, IReadOnlyList<int> indices, string title, Provenance provenance, string caveat, int columns = 3)
    {
        int k = p.Classes.Count, barArea = SoftmaxBarWidth, rowH = Math.Max(14, Math.Min(18, (Patch * Zoom) / Math.Max(1, k)));
        int cardW = Patch * Zoom + 16 + 48 + barArea + 56, cardH = Math.Max(Patch * Zoom, k * rowH) + 40;
        int rows = Math.Max(1, (indices.Count + columns - 1) / columns);
        int width = Math.Max(columns * cardW + 20, FigureText.Measure(provenance.Stamp, 1) + 20), top = 64;
        var img = new RgbImage(width, top + rows * cardH + 30);
        img.Fill(White);
        FigureText.Draw(img, title, 10, 10, Ink, 2);
        FigureText.Draw(img, caveat, 10, 32, Ink, 1);
        FigureText.Draw(img, "Green: true class. Red: predicted class. Bars: softmax probability.", 10, 46, Ink, 1);
        if (indices.Count == 0) FigureText.Draw(img, "No cell to show", 10, top + 10, Ink, 2);
        for (int n = 0; n < indices.Count; n++)
        {
            int i = indices[n], x0 = 10 + n % columns * cardW, y0 = top + n / columns * cardH;
            img.Paste(p.Set.Render(i).Resize(Patch * Zoom, Patch * Zoom), x0, y0);
            var cell = p.Set.CellOf(i);
            FigureText.Draw(img, Short(cell.CellId, 30), x0, y0 + Patch * Zoom + 6, Ink, 1);
            FigureText.Draw(img, $"confidence {Percent.Of(p.Confidence(i))}%", x0, y0 + Patch * Zoom + 18, Ink, 1);
            SoftmaxBars(img, x0 + Patch * Zoom + 16, y0, rowH, [.. p.Classes.Select(c => c.Code())], [.. Enumerable.Range(0, k).Select(c => p.Probabilities[i, c])],
                        c => c == p.Truth[i] ? TrueColour : c == p.Predicted[i] ? WrongColour : null);
        }
        FigureText.Draw(img, provenance.Stamp, 10, img.Height - 20, Ink, 1);
        return img;
    }

    /// <summary>Width of the bars of <see cref="SoftmaxBars"/>, in px (a probability of 1 fills it).</summary>
    public const int SoftmaxBarWidth = 150;

    /// <summary>
    /// One cell's softmax distribution as a column of labelled bars from (<paramref name="x"/>, <paramref name="y"/>):
    /// class code, bar, percentage, a row of <paramref name="rowH"/> px per class. <paramref name="highlight"/> gives
    /// the colour of a class to set apart (true, predicted), or null for the plain ink and bar colour. Shared by the
    /// error gallery (Fig 6) and the differential count's review queue.
    /// </summary>
    public static void SoftmaxBars(RgbImage img, int x, int y, int rowH, IReadOnlyList<string> codes, IReadOnlyList<float> probabilities,
                                   Func<int, (byte R, byte G, byte B)?> highlight)
    {
        for (int c = 0; c < codes.Count; c++)
        {
            int top = y + c * rowH;
            var colour = highlight(c) ?? Ink;
            FigureText.Draw(img, codes[c], x, top + 3, colour, 1);
            img.FillRect(x + 30, top + 1, SoftmaxBarWidth, rowH - 3, Grid);
            int w = (int)Math.Round(SoftmaxBarWidth * probabilities[c]);
            if (w > 0) img.FillRect(x + 30, top + 1, w, rowH - 3, highlight(c) ?? Bar);
            FigureText.Draw(img, $"{Percent.Of(probabilities[c], 0)}%", x + 34 + SoftmaxBarWidth, top + 3, colour, 1);
        }
    }

    /// <summary>The same gallery as HTML cards (crisp text, scrolls in a notebook): image, true and predicted class,
    /// and the softmax bars.</summary>
    /// <param name="shownClasses">The output columns whose bars are drawn (null: all); a cell's true and called
    /// classes are always drawn. A model of the ten-class network trained on five stages shows those five.</param>
    public static HtmlView GalleryHtml(Predictions p, IReadOnlyList<int> indices, string caption, IReadOnlySet<int>? shownClasses = null)
    {
        var html = new StringBuilder($"<div style=\"font:12px sans-serif\"><div style=\"font-weight:bold;margin:4px 0\">{HtmlView.Encode(caption)}</div>");
        var text = new StringBuilder(caption).AppendLine();
        if (indices.Count == 0) { html.Append("<p>No cell to show.</p>"); text.AppendLine("no cell to show"); }
        foreach (int i in indices)
        {
            var cell = p.Set.CellOf(i);
            string truth = p.Classes[p.Truth[i]].Label(), predicted = p.Classes[p.Predicted[i]].Label();
            html.Append("<div style=\"display:inline-block;vertical-align:top;margin:4px;padding:6px;border:1px solid #ddd;width:360px\">")
                .Append($"<img src=\"{p.Set.Render(i).ToDataUri()}\" width=\"144\" height=\"144\" style=\"float:left;margin-right:8px;image-rendering:pixelated\" title=\"{HtmlView.Encode(cell.Path)}\"/>")
                .Append($"<div><b>{HtmlView.Encode(cell.CellId)}</b><br/>true: <span style=\"color:#1e8c3c\">{HtmlView.Encode(truth)}</span><br/>")
                .Append($"predicted: <span style=\"color:#c82828\">{HtmlView.Encode(predicted)}</span> ({Percent.Of(p.Confidence(i))}%)</div>")
                .Append("<table style=\"clear:both;border-collapse:collapse;width:100%;margin-top:4px\">");
            for (int c = 0; c < p.Classes.Count; c++)
            {
                if (shownClasses is not null && !shownClasses.Contains(c) && c != p.Truth[i] && c != p.Predicted[i]) continue;
                float v = p.Probabilities[i, c];
                string colour = c == p.Truth[i] ? "#1e8c3c" : c == p.Predicted[i] ? "#c82828" : "#96a0b4";
                // The bar is text, not a styled box: viewers that strip styles (GitHub) still show its length, and the
                // row says in words which class is the truth and which the answer.
                string role = c == p.Truth[i] ? " (true)" : c == p.Predicted[i] ? " (called)" : "";
                html.Append($"<tr><td style=\"width:90px;color:{colour}\">{p.Classes[c].Code()}{role}</td><td style=\"color:{colour};letter-spacing:-1px\">{TextBar(v)}</td>")
                    .Append($"<td style=\"width:44px;text-align:right\">{Pct(v)}%</td></tr>");
            }
            html.Append("</table></div>");
            text.AppendLine($"{cell.CellId}: true {truth}, predicted {predicted} ({Percent.Of(p.Confidence(i))}%)");
        }
        return new HtmlView(html.Append("</div>").ToString(), text.ToString());
    }

    private static string Pct(float v) => Percent.Of(v);

    /// <summary>A probability as a bar of up to 20 full blocks (one block 5%), at least a thin one when above zero.</summary>
    internal static string TextBar(float v)
    {
        int blocks = (int)Math.Round(20 * Math.Clamp(v, 0f, 1f), MidpointRounding.AwayFromZero);
        return blocks == 0 ? (v > 0 ? "\u258f" : "") : new string('\u2588', blocks);
    }

    private static string Short(string s, int max) => s.Length <= max ? s : ".." + s[^(max - 2)..];

    /// <summary>A line chart (ScottPlot, 300 dpi): one line with markers per series (a dashed grey line for a
    /// reference such as the diagonal), the legend on the right, framed with title, notes and stamp. <paramref
    /// name="tickLabel"/> names the ticks where x is not what a reader should see (a log scale: x = log₂ n, labelled n).</summary>
    public static RgbImage LineChart(string title, IReadOnlyList<string> notes, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, Provenance provenance,
                                     double yMin = 0, double yMax = 1, IReadOnlyList<double>? xTicks = null, string tickFormat = "0.##", Func<double, string>? tickLabel = null)
    {
        var plot = PaperCharts.NewPlot();
        int colour = 0;
        foreach (var line in series)
        {
            var points = line.Points.Where(q => double.IsFinite(q.Y)).OrderBy(q => q.X).ToList();
            var scatter = plot.Add.Scatter(points.Select(q => q.X).ToArray(), points.Select(q => q.Y).ToArray());
            scatter.LegendText = line.Name;
            scatter.LineWidth = 2;
            if (line.Dashed)
            {
                scatter.Color = PaperCharts.ToColor(PaperCharts.Muted);
                scatter.LinePattern = LinePattern.Dashed;
                scatter.MarkerSize = 0;
            }
            else
            {
                scatter.Color = PaperCharts.ToColor(PaperCharts.OkabeIto[colour++ % PaperCharts.OkabeIto.Length]);
                scatter.MarkerSize = 7;
            }
        }
        double margin = (yMax - yMin) * 0.03;
        plot.Axes.SetLimitsY(yMin - margin, yMax + margin);
        if (xTicks is { Count: > 0 })
            plot.Axes.Bottom.SetTicks([.. xTicks], [.. xTicks.Select(x => tickLabel?.Invoke(x) ?? x.ToString(tickFormat, CultureInfo.InvariantCulture))]);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Edge.Right);
        return PaperCharts.Framed(title, notes, PaperCharts.Render(plot, 820, 380), provenance);
    }

    /// <summary>Fig 5B: the share of shifted crops keeping the centre's prediction, against shift distance, one line
    /// per model, and a dashed line for the share still correct.</summary>
    /// <param name="correct">Plot the share still classified correctly instead of the share keeping the centre's prediction.</param>
    public static RgbImage LocationChart(IReadOnlyList<LocationInvariance> curves, Provenance provenance, string caveat, bool correct = false) =>
        LocationSpec(curves, provenance, caveat, correct).Png();

    /// <summary>Fig 5B specified once (<see cref="LocationChart"/> draws it as a PNG, a notebook also as a Plotly chart).</summary>
    public static LineChartSpec LocationSpec(IReadOnlyList<LocationInvariance> curves, Provenance provenance, string caveat, bool correct = false) =>
        new("Location invariance (Fig 5B): test cells re-cropped off centre",
            [$"{caveat}. {curves[0].Cells} test cells x 8 directions; training re-crops moved at most {curves[0].TrainingShift} px."],
            "shift of the crop centre (px)", correct ? "shifted crops still classified correctly (%)" : "same prediction as the centred crop (%)",
            [.. curves.Select(c => new ChartSeries(c.Model, c.Points.Select(p => ((double)p.Distance, 100 * (correct ? p.Correct : p.SamePrediction))).ToList()))], provenance)
        { YMin = 0, YMax = 100, XTicks = [.. curves[0].Points.Select(p => (double)p.Distance)] };

    /// <summary>Bars in groups (ScottPlot, 300 dpi): one bar per series in each group, coloured by series, the legend
    /// on the right, framed with title, notes and stamp. <paramref name="logScale"/> draws log10 of each value with the
    /// ticks labelled in the values (ScottPlot has no log bar axis); a value below 1 is drawn as 1.</summary>
    public static RgbImage GroupedBars(string title, IReadOnlyList<string> notes, string xLabel, string yLabel, IReadOnlyList<string> groups,
                                       IReadOnlyList<(string Name, IReadOnlyList<double> Values)> series, Provenance provenance, bool logScale = false, double? yMax = null)
    {
        var plot = PaperCharts.NewPlot();
        double width = 0.8 / Math.Max(1, series.Count);
        double top = 0;
        for (int s = 0; s < series.Count; s++)
        {
            var colour = PaperCharts.ToColor(PaperCharts.OkabeIto[s % PaperCharts.OkabeIto.Length]);
            var bars = series[s].Values.Select((v, i) => new Bar
            {
                Position = i - 0.4 + width * (s + 0.5), Size = width, LineWidth = 0, FillColor = colour,
                Value = logScale ? Math.Log10(Math.Max(1, v)) : v,
            }).ToList();
            top = Math.Max(top, bars.Select(b => b.Value).DefaultIfEmpty(0).Max());
            plot.Add.Bars(bars);
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s].Name, FillColor = colour });
        }
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, groups.Count).Select(i => (double)i)], [.. groups]);
        if (logScale)
        {
            int decades = (int)Math.Ceiling(top);
            plot.Axes.Left.SetTicks([.. Enumerable.Range(0, decades + 1).Select(k => (double)k)],
                                    [.. Enumerable.Range(0, decades + 1).Select(k => Math.Pow(10, k).ToString("N0", CultureInfo.InvariantCulture))]);
            plot.Axes.SetLimitsY(0, decades + 0.05);
        }
        else plot.Axes.SetLimitsY(0, yMax ?? top * 1.08);
        plot.Axes.SetLimitsX(-0.6, groups.Count - 0.4);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Edge.Right);
        return PaperCharts.Framed(title, notes, PaperCharts.Render(plot, Math.Max(640, 70 * groups.Count + 260), 380), provenance);
    }

    /// <summary>Reliability diagram: accuracy against mean confidence per bin, one line per model, the diagonal dashed.</summary>
    public static RgbImage ReliabilityChart(IReadOnlyList<Calibration> calibrations, Provenance provenance, string caveat) =>
        ReliabilitySpec(calibrations, provenance, caveat).Png();

    /// <summary>The reliability diagram specified once (<see cref="ReliabilityChart"/> draws it as a PNG).</summary>
    public static LineChartSpec ReliabilitySpec(IReadOnlyList<Calibration> calibrations, Provenance provenance, string caveat)
    {
        // The diagonal first, so the models' lines are drawn over it.
        var series = new List<ChartSeries> { new("perfect calibration", [(0.0, 0.0), (1.0, 1.0)], Dashed: true) };
        foreach (var c in calibrations)
            series.Add(new ChartSeries($"{c.Model} ECE {c.ExpectedCalibrationError:0.000}",
                c.Bins.Where(b => b.Count > 0).Select(b => (b.MeanConfidence, b.Accuracy)).ToList()));
        return new LineChartSpec("Reliability diagram: accuracy against confidence",
            [$"{caveat}. {calibrations[0].Cells} test cells in 10 confidence bins; empty bins left out."],
            "mean top-class probability in the bin", "accuracy in the bin", series, provenance)
        { XTicks = [.. Enumerable.Range(0, 11).Select(i => i / 10.0)], TickFormat = "0.0", Size = (700, 500) };
    }

    /// <summary>Occlusion maps: each wrong cell, and the same cell with the regions whose occlusion lowered the
    /// predicted class's probability most in red.</summary>
    public static RgbImage OcclusionFigure(Predictions p, IReadOnlyList<OcclusionMap> maps, Provenance provenance, string caveat)
    {
        int tile = Patch * Zoom, rowH = tile + 34, top = 64;
        int width = Math.Max(2 * tile + 380, FigureText.Measure(provenance.Stamp, 1) + 20);
        var img = new RgbImage(width, top + Math.Max(1, maps.Count) * rowH + 26);
        img.Fill(White);
        FigureText.Draw(img, "Occlusion sensitivity of wrong cells", 10, 10, Ink, 2);
        FigureText.Draw(img, caveat, 10, 32, Ink, 1);
        FigureText.Draw(img, maps.Count == 0 ? "No wrong cell" : $"Red: where a {maps[0].Window} px grey square lowers the predicted class most (stride {maps[0].Stride} px).", 10, 46, Ink, 1);
        for (int r = 0; r < maps.Count; r++)
        {
            var m = maps[r];
            int y0 = top + r * rowH;
            RgbImage cell = p.Set.Render(m.Index);
            img.Paste(cell.Resize(tile, tile), 10, y0);
            float max = Math.Max(1e-6f, m.MaxDrop);
            var heat = new RgbImage(Patch, Patch);
            for (int y = 0; y < Patch; y++)
                for (int x = 0; x < Patch; x++)
                {
                    var (cr, cg, cb) = cell[x, y];
                    double a = Math.Clamp(m.Drop[y, x] / max, 0, 1) * 0.75;
                    // Grey the cell, then blend towards red by how much hiding this pixel hurt the decision.
                    double grey = 0.3 * cr + 0.59 * cg + 0.11 * cb;
                    heat[x, y] = ((byte)(grey * (1 - a) + 230 * a), (byte)(grey * (1 - a) + 20 * a), (byte)(grey * (1 - a) + 20 * a));
                }
            img.Paste(heat.Resize(tile, tile), 20 + tile, y0);
            int tx = 30 + 2 * tile;
            FigureText.Draw(img, Short(p.Set.CellOf(m.Index).CellId, 40), tx, y0 + 4, Ink, 1);
            FigureText.Draw(img, $"true: {p.Classes[p.Truth[m.Index]].Label()}", tx, y0 + 20, TrueColour, 1);
            FigureText.Draw(img, $"predicted: {m.Class.Label()} {Percent.Of(m.Baseline)}%", tx, y0 + 34, WrongColour, 1);
            FigureText.Draw(img, $"largest drop {Percent.Of(m.MaxDrop)} points", tx, y0 + 48, Ink, 1);
        }
        FigureText.Draw(img, provenance.Stamp, 10, img.Height - 18, Ink, 1);
        return img;
    }
}
