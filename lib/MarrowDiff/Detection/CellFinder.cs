using MarrowDiff.Core;
using MarrowDiff.Imaging;

namespace MarrowDiff.Detection;

/// <summary>
/// How nucleated cells are told apart from everything else in a Wright-Giemsa field at the project's pitch
/// (<see cref="CellPatch.PitchUm"/>). Lengths are in µm, so one setting serves every source once it is resampled.
/// Chosen on the phantom's fields and the TXL-PBC <i>train</i> split (never on the validation split that is reported).
/// </summary>
/// <param name="LobeGapUm">Stained regions closer than this are one cell: the lobes of a segmented neutrophil, a band
/// nucleus broken by a pale crease, a nucleus and its basophilic cytoplasm.</param>
/// <param name="MinNucleusAreaUm2">Smaller stained regions are platelets or debris (a platelet is 2-3 µm across,
/// 3-7 µm²; the smallest nucleated cell here, an orthochromatic normoblast, has a nucleus of about 4 µm, 12 µm²).</param>
/// <param name="SingleCellAreaUm2">A merged region larger than this is taken for touching cells and split.</param>
/// <param name="MinSeparationUm">Two cells of a split region have centres at least this far apart.</param>
public sealed record FinderSettings(double LobeGapUm = 2.0, double MinNucleusAreaUm2 = 9, double SingleCellAreaUm2 = 250, double MinSeparationUm = 9)
{
    public static FinderSettings Default { get; } = new();
}

/// <summary>One nucleated cell found in a field, in the coordinates of the image it was found in.</summary>
/// <param name="DiameterPx">The cell's estimated extent: its stained region's equivalent diameter plus a rim of cytoplasm.</param>
/// <param name="NucleusAreaUm2">Area of the strongly stained (nuclear) pixels assigned to it.</param>
public sealed record FoundCell(double X, double Y, double DiameterPx, double NucleusAreaUm2);

/// <summary>
/// Finds the nucleated cells (white cells and erythroid precursors) in a field, classically: a stain test marks the
/// nuclear pixels (blue over red, much darker than the glass in green: the red cells are red over blue, the glass
/// bright), stained pixels within a lobe gap of each other are joined, regions too small for a nucleus are dropped,
/// and regions too large for one cell are split at the peaks of their distance map (a marker watershed by nearest
/// marker). Deterministic, O(pixels); no learning, so nothing to overfit on a few hundred fields.
/// </summary>
public static class CellFinder
{
    /// <summary>The nucleated cells of <paramref name="field"/>, which must be at the project's pitch.</summary>
    public static IReadOnlyList<FoundCell> Find(RgbImage field, FinderSettings? settings = null)
    {
        settings ??= FinderSettings.Default;
        int w = field.Width, h = field.Height, n = w * h;
        double pitch = CellPatch.PitchUm, pixelUm2 = pitch * pitch;
        bool[] nucleus = NuclearMask(field);

        // Join lobes: every pixel within half a lobe gap of a nuclear pixel.
        float[] toNucleus = DistanceMap.ToNearest(nucleus, w, h);
        float joinPx = (float)(settings.LobeGapUm / 2 / pitch);
        var joined = new bool[n];
        for (int i = 0; i < n; i++) joined[i] = toNucleus[i] <= joinPx;

        var cells = new List<FoundCell>();
        foreach (var region in Regions.Of(joined, w, h))
        {
            int nuclear = region.Pixels.Count(i => nucleus[i]);
            if (nuclear * pixelUm2 < settings.MinNucleusAreaUm2) continue;
            var parts = region.Pixels.Length * pixelUm2 > settings.SingleCellAreaUm2
                ? Split(region.Pixels, joined, w, h, settings.MinSeparationUm / pitch)
                : [region.Pixels];
            foreach (int[] part in parts)
            {
                var own = part.Where(i => nucleus[i]).ToArray();
                if (own.Length * pixelUm2 < settings.MinNucleusAreaUm2) continue;
                double x = own.Average(i => (double)(i % w)), y = own.Average(i => (double)(i / w));
                // The joined region reaches half a lobe gap past the stain; a cell's cytoplasm reaches about 2 µm
                // past its nucleus in the stages counted here.
                double diameter = 2 * Math.Sqrt(part.Length / Math.PI) + 2 * (2.0 / pitch - joinPx);
                cells.Add(new FoundCell(x, y, diameter, own.Length * pixelUm2));
            }
        }
        return cells.OrderBy(c => c.Y).ThenBy(c => c.X).ToList();
    }

    /// <summary>
    /// Nuclear pixels. Romanowsky stains colour chromatin purple: it absorbs green far more than red and blue, whatever
    /// the source's tint (pink red cells in PBC and the phantom, lavender ones in Raabin-like fields). So the test is
    /// the purple excess P = (R + B) / 2 − G: near 0 on glass, 20-40 on red cells and cytoplasm, 70 and more on
    /// nuclei; and chromatin is purple to blue (blue at most <see cref="BlueBelowRed"/> below red), where red cells
    /// stained pink are red well over blue. The cut is Otsu's between the field's stained pixels (P above <see cref="StainedExcess"/>), kept within
    /// [<see cref="MinNuclearExcess"/>, <see cref="MaxNuclearExcess"/>] so that a field without nuclei, or one where
    /// nuclei dominate, is still cut sensibly.
    /// </summary>
    public static bool[] NuclearMask(RgbImage field) => NuclearMask(field, out _);

    public const int StainedExcess = 10, MinNuclearExcess = 35, MaxNuclearExcess = 90, BlueBelowRed = 35;

    public static bool[] NuclearMask(RgbImage field, out int threshold)
    {
        int n = field.Width * field.Height;
        byte[] p = field.Pixels;
        // Optical density against the glass (each channel's 90th percentile): dark chromatin and pale chromatin of
        // another source then differ in strength, not in kind.
        double[] glass = [.. Enumerable.Range(0, 3).Select(c => Math.Max(1, field.ChannelPercentile(c, 0.90)))];
        double[][] od = [.. Enumerable.Range(0, 3).Select(c => Enumerable.Range(0, 256).Select(v => Math.Max(0, Math.Log(glass[c] / Math.Max(1, v)))).ToArray())];
        var excess = new int[n];
        var histogram = new long[256];
        for (int i = 0; i < n; i++)
        {
            int r = p[3 * i], g = p[3 * i + 1], b = p[3 * i + 2];
            // Red cells stained pink are red over blue; chromatin is purple to blue. Only the latter can be nuclear.
            int e = b - r < -BlueBelowRed ? 0 : Math.Clamp((int)Math.Round(100 * (od[1][g] - (od[0][r] + od[2][b]) / 2)), 0, 255);
            excess[i] = e;
            if (e > StainedExcess) histogram[e]++;
        }
        threshold = Math.Clamp(Otsu(histogram), MinNuclearExcess, MaxNuclearExcess);
        var mask = new bool[n];
        for (int i = 0; i < n; i++) mask[i] = excess[i] > threshold;
        return mask;
    }

    /// <summary>Otsu's threshold of a histogram: the cut that maximises the between-class variance.</summary>
    private static int Otsu(long[] histogram)
    {
        long total = histogram.Sum();
        if (total == 0) return 0;
        double sum = 0;
        for (int v = 0; v < histogram.Length; v++) sum += v * (double)histogram[v];
        double sumBelow = 0, best = -1;
        long below = 0;
        int cut = 0;
        for (int v = 0; v < histogram.Length; v++)
        {
            below += histogram[v];
            if (below == 0) continue;
            long above = total - below;
            if (above == 0) break;
            sumBelow += v * (double)histogram[v];
            double meanBelow = sumBelow / below, meanAbove = (sum - sumBelow) / above;
            double between = (double)below * above * (meanBelow - meanAbove) * (meanBelow - meanAbove);
            if (between > best) { best = between; cut = v; }
        }
        return cut;
    }

    /// <summary>Splits a region of touching cells: markers at the peaks of the distance to the region's edge, at
    /// least <paramref name="separationPx"/> apart (highest first), and every pixel to its nearest marker.</summary>
    private static List<int[]> Split(int[] pixels, bool[] inside, int w, int h, double separationPx)
    {
        float[] depth = DistanceMap.ToNearest(Invert(inside), w, h);
        double minDepth = 0.25 * pixels.Max(i => depth[i]);
        var markers = new List<int>();
        foreach (int i in pixels.Where(i => depth[i] >= minDepth && IsLocalMaximum(depth, i, w, h)).OrderByDescending(i => depth[i]).ThenBy(i => i))
            if (markers.All(m => Distance(m, i, w) >= separationPx)) markers.Add(i);
        if (markers.Count <= 1) return [pixels];
        var groups = markers.Select(_ => new List<int>()).ToArray();
        foreach (int i in pixels)
        {
            int best = 0;
            for (int m = 1; m < markers.Count; m++)
                if (Distance(markers[m], i, w) < Distance(markers[best], i, w)) best = m;
            groups[best].Add(i);
        }
        return groups.Where(g => g.Count > 0).Select(g => g.ToArray()).ToList();
    }

    private static bool IsLocalMaximum(float[] d, int i, int w, int h)
    {
        int x = i % w, y = i / w;
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++)
            {
                int xx = x + dx, yy = y + dy;
                if ((dx != 0 || dy != 0) && xx >= 0 && yy >= 0 && xx < w && yy < h && d[yy * w + xx] > d[i]) return false;
            }
        return true;
    }

    private static double Distance(int a, int b, int w)
    {
        double dx = a % w - b % w, dy = a / w - b / w;
        return Math.Sqrt(dx * dx + dy * dy);
    }

    private static bool[] Invert(bool[] mask) => mask.Select(m => !m).ToArray();
}
