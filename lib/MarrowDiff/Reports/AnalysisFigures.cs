using System.Globalization;
using System.Text;
using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Evaluation;
using MarrowDiff.Core;
using MarrowDiff.Analysis;

namespace MarrowDiff.Reports;

/// <summary>A named line of a chart.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, bool Dashed = false);

/// <summary>
/// The error-analysis pictures as PNG (for figures/ and for the self-contained HTML page of <c>marrow errors</c>),
/// drawn with the stamp font because ImageSharp 2.x has no text without ImageSharp.Drawing. Every picture carries
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
        int k = p.Classes.Count, barArea = 150, rowH = Math.Max(14, Math.Min(18, (Patch * Zoom) / Math.Max(1, k)));
        int cardW = Patch * Zoom + 16 + 48 + barArea + 56, cardH = Math.Max(Patch * Zoom, k * rowH) + 40;
        int rows = Math.Max(1, (indices.Count + columns - 1) / columns);
        int width = Math.Max(columns * cardW + 20, StampFont.Measure(provenance.Stamp, 1) + 20), top = 64;
        var img = new RgbImage(width, top + rows * cardH + 30);
        img.Fill(White);
        StampFont.Draw(img, title, 10, 10, Ink, 2);
        StampFont.Draw(img, caveat, 10, 32, Ink, 1);
        StampFont.Draw(img, "GREEN: TRUE CLASS - RED: PREDICTED CLASS - BARS: SOFTMAX PROBABILITY", 10, 46, Ink, 1);
        if (indices.Count == 0) StampFont.Draw(img, "NO CELL TO SHOW", 10, top + 10, Ink, 2);
        for (int n = 0; n < indices.Count; n++)
        {
            int i = indices[n], x0 = 10 + n % columns * cardW, y0 = top + n / columns * cardH;
            img.Paste(p.Set.Render(i).Resize(Patch * Zoom, Patch * Zoom), x0, y0);
            var cell = p.Set.CellOf(i);
            StampFont.Draw(img, Short(cell.CellId, 30), x0, y0 + Patch * Zoom + 6, Ink, 1);
            StampFont.Draw(img, $"CONFIDENCE {100 * p.Confidence(i):0.0}%", x0, y0 + Patch * Zoom + 18, Ink, 1);
            int bx = x0 + Patch * Zoom + 16;
            for (int c = 0; c < k; c++)
            {
                int y = y0 + c * rowH;
                var colour = c == p.Truth[i] ? TrueColour : c == p.Predicted[i] ? WrongColour : Ink;
                StampFont.Draw(img, p.Classes[c].Code(), bx, y + 3, colour, 1);
                StampFont.FillRect(img, bx + 30, y + 1, barArea, rowH - 3, Grid);
                int w = (int)Math.Round(barArea * p.Probabilities[i, c]);
                if (w > 0) StampFont.FillRect(img, bx + 30, y + 1, w, rowH - 3, c == p.Truth[i] ? TrueColour : c == p.Predicted[i] ? WrongColour : Bar);
                StampFont.Draw(img, $"{100 * p.Probabilities[i, c]:0}%", bx + 34 + barArea, y + 3, colour, 1);
            }
        }
        StampFont.Draw(img, provenance.Stamp, 10, img.Height - 20, Ink, 1);
        return img;
    }

    /// <summary>The same gallery as HTML cards (crisp text, scrolls in a notebook): image, true and predicted class,
    /// and the softmax bars.</summary>
    public static HtmlView GalleryHtml(Predictions p, IReadOnlyList<int> indices, string caption)
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
                .Append($"predicted: <span style=\"color:#c82828\">{HtmlView.Encode(predicted)}</span> ({100 * p.Confidence(i):0.0}%)</div>")
                .Append("<table style=\"clear:both;border-collapse:collapse;width:100%;margin-top:4px\">");
            for (int c = 0; c < p.Classes.Count; c++)
            {
                float v = p.Probabilities[i, c];
                string colour = c == p.Truth[i] ? "#1e8c3c" : c == p.Predicted[i] ? "#c82828" : "#96a0b4";
                html.Append($"<tr><td style=\"width:40px;color:{colour}\">{p.Classes[c].Code()}</td><td><div style=\"background:{colour};height:9px;width:{Pct(v)}%\"></div></td>")
                    .Append($"<td style=\"width:44px;text-align:right\">{Pct(v)}%</td></tr>");
            }
            html.Append("</table></div>");
            text.AppendLine($"{cell.CellId}: true {truth}, predicted {predicted} ({100 * p.Confidence(i):0.0}%)");
        }
        return new HtmlView(html.Append("</div>").ToString(), text.ToString());
    }

    private static string Pct(float v) => (100 * v).ToString("0.0", CultureInfo.InvariantCulture);

    private static string Short(string s, int max) => s.Length <= max ? s : ".." + s[^(max - 2)..];

    /// <summary>A line chart with axes, grid, legend and stamp; y from 0 to 1 unless given.</summary>
    public static RgbImage LineChart(string title, string subtitle, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, Provenance provenance,
                                     double yMin = 0, double yMax = 1, int plotW = 560, int plotH = 300, IReadOnlyList<double>? xTicks = null)
    {
        const int left = 60, top = 70;
        int width = Math.Max(left + plotW + 220, StampFont.Measure(provenance.Stamp, 1) + 20);
        var img = new RgbImage(width, top + plotH + 70);
        img.Fill(White);
        StampFont.Draw(img, title, 10, 10, Ink, 2);
        StampFont.Draw(img, subtitle, 10, 32, Ink, 1);
        var xs = series.SelectMany(s => s.Points).Select(q => q.X).ToList();
        xTicks ??= xs.Distinct().Order().ToList();
        var span = xs.Concat(xTicks).ToList();
        double xMin = span.Count == 0 ? 0 : span.Min(), xMax = span.Count == 0 ? 1 : Math.Max(span.Max(), xMin + 1e-9);
        int X(double x) => left + (int)Math.Round((x - xMin) / (xMax - xMin) * plotW);
        int Y(double y) => top + plotH - (int)Math.Round((Math.Clamp(y, yMin, yMax) - yMin) / (yMax - yMin) * plotH);
        for (int t = 0; t <= 5; t++)
        {
            double y = yMin + t * (yMax - yMin) / 5;
            StampFont.FillRect(img, left, Y(y), plotW, 1, Grid);
            string label = y.ToString("0.0", CultureInfo.InvariantCulture);
            StampFont.Draw(img, label, left - StampFont.Measure(label, 1) - 6, Y(y) - 3, Ink, 1);
        }
        foreach (double x in xTicks)
        {
            StampFont.FillRect(img, X(x), top + plotH, 1, 5, Ink);
            string label = x.ToString("0.##", CultureInfo.InvariantCulture);
            StampFont.Draw(img, label, X(x) - StampFont.Measure(label, 1) / 2, top + plotH + 9, Ink, 1);
        }
        StampFont.FillRect(img, left, top, 1, plotH + 1, Ink);
        StampFont.FillRect(img, left, top + plotH, plotW + 1, 1, Ink);
        StampFont.Draw(img, xLabel, left + (plotW - StampFont.Measure(xLabel, 1)) / 2, top + plotH + 24, Ink, 1);
        StampFont.Draw(img, yLabel, 10, top - 16, Ink, 1);
        for (int s = 0; s < series.Count; s++)
        {
            var colour = series[s].Dashed ? ((byte)120, (byte)120, (byte)120) : Palette[s % Palette.Length];
            var pts = series[s].Points.Where(q => double.IsFinite(q.Y)).OrderBy(q => q.X).ToList();
            for (int j = 1; j < pts.Count; j++) Line(img, X(pts[j - 1].X), Y(pts[j - 1].Y), X(pts[j].X), Y(pts[j].Y), colour, series[s].Dashed);
            foreach (var q in pts) StampFont.FillRect(img, X(q.X) - 3, Y(q.Y) - 3, 7, 7, colour);
            int ly = top + 10 + s * 16;
            StampFont.FillRect(img, left + plotW + 16, ly, 18, 7, colour);
            StampFont.Draw(img, Short(series[s].Name, 30), left + plotW + 40, ly, Ink, 1);
        }
        StampFont.Draw(img, provenance.Stamp, 10, img.Height - 18, Ink, 1);
        return img;
    }

    /// <summary>A 2-px line (dashed: 6 on, 4 off).</summary>
    public static void Line(RgbImage img, int x0, int y0, int x1, int y1, (byte, byte, byte) colour, bool dashed = false)
    {
        int steps = Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0));
        for (int t = 0; t <= steps; t++)
        {
            if (dashed && t % 10 >= 6) continue;
            int x = steps == 0 ? x0 : x0 + (x1 - x0) * t / steps, y = steps == 0 ? y0 : y0 + (y1 - y0) * t / steps;
            StampFont.FillRect(img, x, y, 2, 2, colour);
        }
    }

    /// <summary>Fig 5B: the share of shifted crops keeping the centre's prediction, against shift distance, one line
    /// per model, and a dashed line for the share still correct.</summary>
    public static RgbImage LocationChart(IReadOnlyList<LocationInvariance> curves, Provenance provenance, string caveat)
    {
        var series = curves.Select(c => new ChartSeries(c.Model, c.Points.Select(p => ((double)p.Distance, p.SamePrediction)).ToList())).ToList();
        return LineChart("LOCATION INVARIANCE (FIG 5B): TEST CELLS RE-CROPPED OFF CENTRE",
            $"{caveat}. {curves[0].Cells} TEST CELLS X 8 DIRECTIONS - TRAINING RE-CROPS MOVED AT MOST {curves[0].TrainingShift} PX",
            "SHIFT OF THE CROP CENTRE (PX)", "SHARE OF CROPS WITH THE SAME PREDICTION AS THE CENTRED CROP", series, provenance);
    }

    /// <summary>Reliability diagram: accuracy against mean confidence per bin, one line per model, the diagonal dashed.</summary>
    public static RgbImage ReliabilityChart(IReadOnlyList<Calibration> calibrations, Provenance provenance, string caveat)
    {
        // The diagonal first, so the models' lines are drawn over it.
        var series = new List<ChartSeries> { new("PERFECT CALIBRATION", [(0.0, 0.0), (1.0, 1.0)], Dashed: true) };
        foreach (var c in calibrations)
            series.Add(new ChartSeries($"{c.Model} ECE {c.ExpectedCalibrationError:0.000}",
                c.Bins.Where(b => b.Count > 0).Select(b => (b.MeanConfidence, b.Accuracy)).ToList()));
        return LineChart("RELIABILITY DIAGRAM: ACCURACY AGAINST CONFIDENCE",
            $"{caveat}. {calibrations[0].Cells} TEST CELLS, 10 BINS - EMPTY BINS LEFT OUT",
            "MEAN TOP-CLASS PROBABILITY IN THE BIN", "ACCURACY IN THE BIN", series, provenance,
            xTicks: Enumerable.Range(0, 11).Select(i => i / 10.0).ToList());
    }

    /// <summary>Occlusion maps: each wrong cell, and the same cell with the regions whose occlusion lowered the
    /// predicted class's probability most in red.</summary>
    public static RgbImage OcclusionFigure(Predictions p, IReadOnlyList<OcclusionMap> maps, Provenance provenance, string caveat)
    {
        int tile = Patch * Zoom, rowH = tile + 34, top = 64;
        int width = Math.Max(2 * tile + 380, StampFont.Measure(provenance.Stamp, 1) + 20);
        var img = new RgbImage(width, top + Math.Max(1, maps.Count) * rowH + 26);
        img.Fill(White);
        StampFont.Draw(img, "OCCLUSION SENSITIVITY OF WRONG CELLS", 10, 10, Ink, 2);
        StampFont.Draw(img, caveat, 10, 32, Ink, 1);
        StampFont.Draw(img, maps.Count == 0 ? "NO WRONG CELL" : $"RED: WHERE A {maps[0].Window} PX GREY SQUARE LOWERS THE PREDICTED CLASS MOST (STRIDE {maps[0].Stride} PX)", 10, 46, Ink, 1);
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
            StampFont.Draw(img, Short(p.Set.CellOf(m.Index).CellId, 40), tx, y0 + 4, Ink, 1);
            StampFont.Draw(img, $"TRUE {p.Classes[p.Truth[m.Index]].Label()}", tx, y0 + 20, TrueColour, 1);
            StampFont.Draw(img, $"PREDICTED {m.Class.Label()} {100 * m.Baseline:0.0}%", tx, y0 + 34, WrongColour, 1);
            StampFont.Draw(img, $"LARGEST DROP {100 * m.MaxDrop:0.0} POINTS", tx, y0 + 48, Ink, 1);
        }
        StampFont.Draw(img, provenance.Stamp, 10, img.Height - 18, Ink, 1);
        return img;
    }
}
