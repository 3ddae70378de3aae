using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Imaging;

namespace MarrowDiff.Reports;

/// <summary>PNG figures that carry their own provenance stamp, so a picture copied out of context still says
/// what it shows.</summary>
public static class Figures
{
    private static readonly (byte, byte, byte) Ink = (30, 30, 40), Paper = (255, 255, 255), Band = (236, 236, 242);

    /// <summary>A contact sheet of one class: up to <paramref name="max"/> patches (chosen by a seeded shuffle),
    /// in a grid with a header naming the class and a footer stamp with the provenance.</summary>
    public static RgbImage ContactSheet(IReadOnlyList<CellImage> cells, string title, Provenance provenance, int max = 48, int columns = 8, CellImageReader? reader = null)
    {
        reader ??= new CellImageReader();
        const int tile = CellPatch.Size, gap = 4, header = 34, footer = 26;
        var chosen = Sample(cells, max, provenance.Seed);
        int rows = Math.Max(1, (chosen.Count + columns - 1) / columns);
        int width = columns * (tile + gap) + gap;
        var sheet = new RgbImage(Math.Max(width, FigureText.Measure(provenance.Stamp, 1) + 2 * gap), header + rows * (tile + gap) + gap + footer);
        sheet.Fill(Paper);
        sheet.FillRect(0, 0, sheet.Width, header - 4, Band);
        FigureText.Draw(sheet, $"{title}: {chosen.Count} of {cells.Count}", gap + 2, 8, Ink, 2);
        for (int i = 0; i < chosen.Count; i++)
        {
            RgbImage img = reader.Read(chosen[i].Path);
            // Patches larger or smaller than 96 px are shown centre-cropped / padded at their own scale.
            RgbImage view = img.Width == tile && img.Height == tile ? img : img.CropCentred(img.Width / 2, img.Height / 2, tile, Paper);
            sheet.Paste(view, gap + (i % columns) * (tile + gap), header + (i / columns) * (tile + gap));
        }
        FigureText.Draw(sheet, provenance.Stamp, gap, sheet.Height - footer + 8, Ink, 1);
        return sheet;
    }

    /// <summary>Seeded choice of up to <paramref name="max"/> items, in a stable order.</summary>
    internal static List<CellImage> Sample(IReadOnlyList<CellImage> cells, int max, int seed)
    {
        var list = cells.OrderBy(c => c.Path, StringComparer.Ordinal).ToList();
        if (list.Count <= max) return list;
        new Rng((ulong)seed ^ 0xC0FFEEUL).Shuffle(list);
        return list.Take(max).OrderBy(c => c.Path, StringComparer.Ordinal).ToList();
    }

    /// <summary>The class of a figure's &lt;img&gt; in a notebook output: the headless runner writes each as an image
    /// output of its own (every notebook viewer shows those; not all show a data URI inside HTML).</summary>
    public const string FigureClass = "marrow-figure";

    /// <summary>The class of a chart's hidden static twin (<see cref="ChartView"/>): the runner writes it beside the chart.</summary>
    public const string StaticTwinClass = "marrow-static-twin";

    /// <summary>A PNG for inline display in a notebook or an HTML page (a data URI: the page stays one file).</summary>
    public static HtmlView Inline(RgbImage image, string text) =>
        new(Tagged(image, text, FigureClass, hidden: false), $"[{image.Width}x{image.Height} image: {text}]");

    /// <summary>A photograph (cells, a field) for inline display: JPEG at quality 90, which a reader cannot tell from the
    /// PNG at screen size and which is several times smaller, so notebooks with their outputs stay small enough to commit.</summary>
    public static HtmlView InlinePhoto(RgbImage image, string text) =>
        new(Tagged(image, text, FigureClass, hidden: false, photo: true), $"[{image.Width}x{image.Height} image: {text}]");

    internal static string Tagged(RgbImage image, string text, string cssClass, bool hidden, bool photo = false) =>
        $"<img class=\"{cssClass}\" src=\"{(photo ? image.ToJpegDataUri() : image.ToDataUri())}\" alt=\"{HtmlView.Encode(text)}\" style=\"{(hidden ? "display:none" : "max-width:100%")}\"/>";
}
