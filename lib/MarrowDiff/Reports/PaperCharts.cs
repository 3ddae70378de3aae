using MarrowDiff.Core;
using MarrowDiff.Imaging;
using ScottPlot;

namespace MarrowDiff.Reports;

/// <summary>
/// Charts fit for a paper, drawn by ScottPlot: anti-aliased DejaVu Sans, axes with their units, the Okabe–Ito palette
/// (distinguishable with every common colour-vision deficiency), rendered at 300 dpi. Each figure is framed the same
/// way: a title, the caveat and notes above, the chart, and the provenance stamp below, so a picture copied out of
/// context still says what it shows and where it came from.
/// </summary>
public static class PaperCharts
{
    public const int PrintDpi = 300;

    /// <summary>Magnification from screen (96 dpi) to print (300 dpi).</summary>
    public const float Zoom = PrintDpi / 96f;

    /// <summary>Okabe &amp; Ito (2008): blue, vermillion, bluish green, orange, sky blue, reddish purple, yellow, black.</summary>
    public static readonly (byte R, byte G, byte B)[] OkabeIto =
        [(0, 114, 178), (213, 94, 0), (0, 158, 115), (230, 159, 0), (86, 180, 233), (204, 121, 167), (240, 228, 66), (0, 0, 0)];

    public static readonly (byte R, byte G, byte B) Ink = (30, 30, 40), Muted = (110, 110, 120), Paper = (255, 255, 255);

    public static Color ToColor((byte R, byte G, byte B) c) => new(c.R, c.G, c.B);

    /// <summary>A plot with the project's style: DejaVu Sans, light grid, no frame clutter.</summary>
    public static Plot NewPlot()
    {
        var plot = new Plot();
        plot.Font.Set(FigureText.Family);
        plot.Grid.MajorLineColor = new Color(225, 225, 230);
        plot.Legend.FontName = FigureText.Family;
        return plot;
    }

    /// <summary>Renders <paramref name="plot"/> at print resolution: <paramref name="width"/> × <paramref name="height"/>
    /// screen pixels become 300-dpi pixels (×3.125), text and lines scaled alike.</summary>
    public static RgbImage Render(Plot plot, int width, int height)
    {
        plot.ScaleFactor = Zoom;
        var image = plot.GetImage((int)Math.Round(width * Zoom), (int)Math.Round(height * Zoom));
        return RgbImage.FromPng(image.GetImageBytes(ImageFormat.Png), PrintDpi);
    }

    /// <summary>The chart with its title, the lines of <paramref name="notes"/> (caveat, how to read it) above and the
    /// provenance stamp below, all at print resolution.</summary>
    public static RgbImage Framed(string title, IReadOnlyList<string> notes, RgbImage chart, Provenance provenance) => Framed(title, notes, chart, provenance.Stamp);

    /// <summary><see cref="Framed(string, IReadOnlyList{string}, RgbImage, Provenance)"/> for a stamp read back from a
    /// saved result (a table rebuilt from its files has no live provenance).</summary>
    public static RgbImage Framed(string title, IReadOnlyList<string> notes, RgbImage chart, string stamp)
    {
        int pad = (int)(10 * Zoom), line = FigureText.LineHeight(1, Zoom) + (int)(3 * Zoom), titleLine = FigureText.LineHeight(2, Zoom) + (int)(6 * Zoom);
        // Notes and the stamp wrap at the chart's width: a long provenance line would otherwise widen the figure and
        // leave the chart in a corner of it, small wherever the figure is shown scaled to a page.
        var noteLines = notes.SelectMany(n => Wrap(n, chart.Width)).ToList();
        var stampLines = Wrap(stamp, chart.Width);
        int width = new[] { chart.Width + 2 * pad, FigureText.Measure(title, 2, Zoom) + 2 * pad }
                    .Concat(noteLines.Concat(stampLines).Select(n => FigureText.Measure(n, 1, Zoom) + 2 * pad)).Max();
        int header = pad + titleLine + noteLines.Count * line + pad / 2;
        var image = new RgbImage(width, header + chart.Height + stampLines.Count * line + 2 * pad) { Dpi = PrintDpi };
        image.Fill(Paper);
        FigureText.Draw(image, title, pad, pad, Ink, 2, Zoom);
        for (int i = 0; i < noteLines.Count; i++) FigureText.Draw(image, noteLines[i], pad, pad + titleLine + i * line, Muted, 1, Zoom);
        image.Paste(chart, pad, header);
        for (int i = 0; i < stampLines.Count; i++) FigureText.Draw(image, stampLines[i], pad, header + chart.Height + pad + i * line, Muted, 1, Zoom);
        return image;
    }

    /// <summary><paramref name="text"/> broken at spaces into lines no wider than <paramref name="width"/> pixels of
    /// small text (a word wider than that keeps a line of its own).</summary>
    public static IReadOnlyList<string> Wrap(string text, int width)
    {
        var lines = new List<string>();
        string current = "";
        foreach (string word in text.Split(' '))
        {
            string longer = current.Length == 0 ? word : current + " " + word;
            if (current.Length > 0 && FigureText.Measure(longer, 1, Zoom) > width) { lines.Add(current); current = word; }
            else current = longer;
        }
        lines.Add(current);
        return lines;
    }

}
