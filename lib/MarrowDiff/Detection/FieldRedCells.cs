using MarrowDiff.Imaging;

namespace MarrowDiff.Detection;

/// <summary>
/// Red cells of a whole field, to measure its pixel pitch: the stained regions that are not chromatin, with their
/// pale centres filled, kept when round and whole (not cut by the border, not overlapping another). Unlike
/// <c>RedCellScale.Find</c>, made for pink-stained single-cell crops, this does not ask red cells to be redder than
/// blue: TXL-PBC's Raabin-like fields show them lavender.
/// </summary>
public static class FieldRedCells
{
    /// <summary>Round blobs smaller than this are dust, pale dots or platelets, not red cells: a red cell is 20 px
    /// across only at 0.375 µm/px, coarser than any field a differential is counted on.</summary>
    public const double MinDiameterPx = 20;

    /// <summary>The typical red-cell diameter of a list of candidates: their median after dropping those under 60% of
    /// a first median (the last small look-alikes), so that a few dust specks cannot halve the estimate.</summary>
    public static double TypicalDiameter(IReadOnlyList<double> diameters)
    {
        if (diameters.Count == 0) throw new ArgumentException("no red cell to measure", nameof(diameters));
        var sorted = diameters.Order().ToList();
        double first = sorted[sorted.Count / 2];
        var kept = sorted.Where(d => d >= 0.6 * first).ToList();
        return kept[kept.Count / 2];
    }

    /// <summary>Diameters in px of the round, whole red cells of <paramref name="field"/> (at its own pitch).</summary>
    public static IReadOnlyList<double> Diameters(RgbImage field)
    {
        int w = field.Width, h = field.Height, n = w * h;
        byte[] p = field.Pixels;
        bool[] nuclear = CellFinder.NuclearMask(field);
        // Stained: green absorbed clearly more than by the glass (its 90th percentile).
        int glass = field.ChannelPercentile(1, 0.90);
        var stained = new bool[n];
        for (int i = 0; i < n; i++) stained[i] = p[3 * i + 1] < glass * 0.9 && !nuclear[i];
        RedCellScale.FillHoles(stained, w, h);

        var diameters = new List<double>();
        foreach (var region in Regions.Of(stained, w, h))
        {
            int x0 = int.MaxValue, y0 = int.MaxValue, x1 = -1, y1 = -1;
            foreach (int i in region.Pixels) { int x = i % w, y = i / w; x0 = Math.Min(x0, x); y0 = Math.Min(y0, y); x1 = Math.Max(x1, x); y1 = Math.Max(y1, y); }
            if (x0 == 0 || y0 == 0 || x1 == w - 1 || y1 == h - 1 || region.Pixels.Length < MinDiameterPx * MinDiameterPx * Math.PI / 4) continue;
            int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
            double aspect = (double)Math.Max(bw, bh) / Math.Min(bw, bh);
            double fill = region.Pixels.Length / (Math.PI / 4 * bw * bh);  // 1 for a disc filling its box
            if (aspect > 1.2 || fill < 0.85 || fill > 1.12) continue;       // clumps, overlaps, fragments
            diameters.Add(2 * Math.Sqrt(region.Pixels.Length / Math.PI));
        }
        return diameters;
    }
}
