using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Core;

namespace MarrowDiff.Reports;

/// <summary>PNG figures that carry their own provenance stamp, so a picture copied out of context still says
/// what it shows.</summary>
public static class Figures
{
    private static readonly (byte, byte, byte) Ink = (30, 30, 40), Paper = (255, 255, 255), Band = (236, 236, 242);
    private static readonly (byte, byte, byte) ErythroidColour = (196, 64, 84), MyeloidColour = (88, 72, 168), OtherColour = (150, 150, 150);

    /// <summary>A contact sheet of one class: up to <paramref name="max"/> patches (chosen by a seeded shuffle),
    /// in a grid with a header naming the class and a footer stamp with the provenance.</summary>
    public static RgbImage ContactSheet(IReadOnlyList<CellImage> cells, string title, Provenance provenance, int max = 48, int columns = 8, CellImageReader? reader = null)
    {
        reader ??= new CellImageReader();
        const int tile = CellPatch.Size, gap = 4, header = 34, footer = 26;
        var chosen = Sample(cells, max, provenance.Seed);
        int rows = Math.Max(1, (chosen.Count + columns - 1) / columns);
        int width = columns * (tile + gap) + gap;
        var sheet = new RgbImage(Math.Max(width, StampFont.Measure(provenance.Stamp, 1) + 2 * gap), header + rows * (tile + gap) + gap + footer);
        sheet.Fill(Paper);
        StampFont.FillRect(sheet, 0, 0, sheet.Width, header - 4, Band);
        StampFont.Draw(sheet, $"{title} - {chosen.Count} OF {cells.Count}", gap + 2, 8, Ink, 2);
        for (int i = 0; i < chosen.Count; i++)
        {
            RgbImage img = reader.Read(chosen[i].Path);
            // Patches larger or smaller than 96 px are shown centre-cropped / padded at their own scale.
            RgbImage view = img.Width == tile && img.Height == tile ? img : img.CropCentred(img.Width / 2, img.Height / 2, tile, Paper);
            sheet.Paste(view, gap + (i % columns) * (tile + gap), header + (i / columns) * (tile + gap));
        }
        StampFont.Draw(sheet, provenance.Stamp, gap, sheet.Height - footer + 8, Ink, 1);
        return sheet;
    }

    /// <summary>Bar chart of images per class, coloured by series (erythroid red, myeloid violet, Other grey),
    /// stamped with the provenance. The notebook shows the interactive Plotly version; this is the PNG for figures/.</summary>
    public static RgbImage ClassDistributionPng(CellDataset dataset, Provenance provenance)
    {
        var bars = CellTaxonomy.All.Select(c => (c.Code(), dataset.ClassCounts[c], c.Series() == Series.Erythroid ? ErythroidColour : MyeloidColour))
                                   .Concat(dataset.OtherCounts.Select(kv => (kv.Key, kv.Value, OtherColour))).ToList();
        const int barW = 56, gap = 14, left = 60, top = 70, plotH = 360, bottom = 70;
        int width = Math.Max(left + bars.Count * (barW + gap) + 40, StampFont.Measure(provenance.Stamp, 1) + 20);
        var img = new RgbImage(width, top + plotH + bottom);
        img.Fill(Paper);
        StampFont.Draw(img, $"IMAGES PER CLASS - {dataset.Cells.Count} IN ALL", left, 16, Ink, 2);
        StampFont.Draw(img, "ERYTHROID C1-C4", left, 44, ErythroidColour, 1);
        StampFont.Draw(img, "MYELOID C5-C10", left + 110, 44, MyeloidColour, 1);
        if (dataset.OtherCounts.Count > 0) StampFont.Draw(img, "OTHER (NOT IN THE 10-CLASS TASK)", left + 210, 44, OtherColour, 1);
        int maxCount = Math.Max(1, bars.Max(b => b.Item2));
        StampFont.FillRect(img, left - 2, top, 2, plotH + 1, Ink);
        StampFont.FillRect(img, left - 2, top + plotH, bars.Count * (barW + gap) + gap, 2, Ink);
        for (int i = 0; i < bars.Count; i++)
        {
            var (label, count, colour) = bars[i];
            int h = (int)Math.Round((double)count / maxCount * (plotH - 20));
            int x = left + gap + i * (barW + gap);
            StampFont.FillRect(img, x, top + plotH - h, barW, h, colour);
            string n = count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            StampFont.Draw(img, n, x + (barW - StampFont.Measure(n, 2)) / 2, top + plotH - h - 18, Ink, 2);
            StampFont.Draw(img, label, x + (barW - StampFont.Measure(label, 2)) / 2, top + plotH + 10, Ink, 2);
        }
        StampFont.Draw(img, provenance.Stamp, 10, img.Height - 20, Ink, 1);
        return img;
    }

    /// <summary>Seeded choice of up to <paramref name="max"/> items, in a stable order.</summary>
    internal static List<CellImage> Sample(IReadOnlyList<CellImage> cells, int max, int seed)
    {
        var list = cells.OrderBy(c => c.Path, StringComparer.Ordinal).ToList();
        if (list.Count <= max) return list;
        new Rng((ulong)seed ^ 0xC0FFEEUL).Shuffle(list);
        return list.Take(max).OrderBy(c => c.Path, StringComparer.Ordinal).ToList();
    }

    /// <summary>A PNG for inline display in a notebook or an HTML page (a data URI: the page stays one file).</summary>
    public static HtmlView Inline(RgbImage image, string text) =>
        new($"<img src=\"{image.ToDataUri()}\" alt=\"{HtmlView.Encode(text)}\" style=\"max-width:100%\"/>", $"[{image.Width}x{image.Height} image: {text}]");
}
