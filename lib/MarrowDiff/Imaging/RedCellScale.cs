using System.Globalization;

namespace MarrowDiff.Imaging;

/// <summary>One red cell found in an image: its equivalent-circle diameter and where it is.</summary>
public readonly record struct RedCell(double DiameterPx, int X0, int Y0, int X1, int Y1);

/// <summary>A source's pixel pitch and how it was obtained (given, or estimated from its red cells).</summary>
/// <param name="PitchUm">µm per pixel.</param>
/// <param name="RedCells">How many red cells the estimate rests on (0 when given).</param>
/// <param name="DiameterIqrPx">Interquartile range of their diameters in px (spread of the estimate).</param>
public sealed record SourceScale(string Source, double PitchUm, string How, int RedCells = 0, int Images = 0, double MedianDiameterPx = 0, (double Low, double High) DiameterIqrPx = default)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Source}: {PitchUm:0.###} µm/px ({How})");
}

/// <summary>
/// Estimates a source's pixel pitch from the red cells in its images: a normal red cell is about 7.5 µm across, so
/// pitch ≈ 7.5 µm / (median red-cell diameter in px). Red cells are found as reddish (R &gt; B), stained (darker than
/// the background), roughly round blobs that do not touch the image border, with the central pallor filled; blobs
/// that enclose nucleus-coloured pixels (a white cell's cytoplasm around its nucleus) are rejected. The median over
/// many images is robust to clumps and cut cells; the interquartile range is reported with it.
/// </summary>
public static class RedCellScale
{
    /// <summary>Typical diameter of a normal red cell (7.2–7.9 µm in smears; 7.5 is the usual mid value).</summary>
    public const double RedCellDiameterUm = 7.5;

    /// <summary>Red cells of one image. Red cells stained pink (R &gt; B), as Wright-Giemsa and the PBC images show
    /// them, are found; the grey red cells of Matek's May-Grünwald-Giemsa crops, mostly cut by the crop border, are
    /// not (that source's pitch must be given).</summary>
    public static IReadOnlyList<RedCell> Find(RgbImage image)
    {
        int w = image.Width, h = image.Height, n = w * h;
        byte[] p = image.Pixels;
        // Background brightness: the 90th percentile of green (cells absorb green; the glass does not).
        int bright = image.ChannelPercentile(1, 0.90);
        var red = new bool[n];
        var nucleus = new bool[n];
        for (int i = 0; i < n; i++)
        {
            int r = p[3 * i], g = p[3 * i + 1], b = p[3 * i + 2];
            bool stained = g < bright - 18;
            red[i] = stained && r - b > 8 && r > 120;
            nucleus[i] = stained && b - r > 10 && g < bright - 60;
        }
        FillHoles(red, w, h);

        var cells = new List<RedCell>();
        foreach (var blob in Blobs(red, w, h, nucleus))
        {
            int bw = blob.X1 - blob.X0 + 1, bh = blob.Y1 - blob.Y0 + 1;
            if (blob.TouchesBorder || blob.Area < 60) continue;
            double aspect = (double)Math.Max(bw, bh) / Math.Min(bw, bh);
            double fill = blob.Area / (Math.PI / 4 * bw * bh);      // 1 for a disc filling its box
            if (aspect > 1.25 || fill < 0.8 || fill > 1.15) continue; // clumps, fragments and cut cells
            if (blob.Marked > 0.03 * blob.Area) continue;             // a white cell (nucleus inside)
            cells.Add(new RedCell(2 * Math.Sqrt(blob.Area / Math.PI), blob.X0, blob.Y0, blob.X1, blob.Y1));
        }
        return cells;
    }

    /// <summary>The pitch of <paramref name="source"/> from the red cells of <paramref name="images"/> (a sample of its
    /// images). Null when fewer than <paramref name="minimum"/> red cells were found: then the pitch must be given.</summary>
    public static SourceScale? Estimate(string source, IEnumerable<RgbImage> images, int minimum = 20)
    {
        var diameters = new List<double>();
        int count = 0;
        foreach (var image in images)
        {
            count++;
            diameters.AddRange(Find(image).Select(c => c.DiameterPx));
        }
        if (diameters.Count < minimum) return null;
        diameters.Sort();
        double Q(double q) => diameters[(int)Math.Round(q * (diameters.Count - 1))];
        double median = Q(0.5);
        return new SourceScale(source, RedCellDiameterUm / median,
            string.Create(CultureInfo.InvariantCulture, $"estimated: median diameter {median:0.0} px of {diameters.Count} red cells in {count} images, taken as {RedCellDiameterUm} µm"),
            diameters.Count, count, median, (Q(0.25), Q(0.75)));
    }

    /// <summary>The image with each red cell found boxed in green: to check by eye what the estimate rests on.</summary>
    public static RgbImage Overlay(RgbImage image)
    {
        var copy = new RgbImage(image.Width, image.Height, (byte[])image.Pixels.Clone());
        foreach (var c in Find(image))
        {
            copy.FillRect(c.X0, c.Y0, c.X1 - c.X0 + 1, 2, (0, 200, 0));
            copy.FillRect(c.X0, c.Y1 - 1, c.X1 - c.X0 + 1, 2, (0, 200, 0));
            copy.FillRect(c.X0, c.Y0, 2, c.Y1 - c.Y0 + 1, (0, 200, 0));
            copy.FillRect(c.X1 - 1, c.Y0, 2, c.Y1 - c.Y0 + 1, (0, 200, 0));
        }
        return copy;
    }

    /// <summary>
    /// Nucleus area (px) of the cell at the centre of a single-cell crop: dark purple pixels (G &lt; 110, B &gt; G + 40)
    /// in connected pieces of at least 0.1% of the image whose centroid lies within a quarter of the image size of the
    /// centre (a segmented nucleus is several lobes; neighbours and platelets are left out).
    /// </summary>
    public static int CentralNucleusArea(RgbImage image)
    {
        int w = image.Width, h = image.Height, n = w * h;
        byte[] p = image.Pixels;
        var nucleus = new bool[n];
        for (int i = 0; i < n; i++) nucleus[i] = p[3 * i + 1] < 110 && p[3 * i + 2] > p[3 * i + 1] + 40;
        int total = 0, minimum = Math.Max(10, n / 1000);
        double radius = 0.25 * Math.Min(w, h);
        foreach (var blob in Blobs(nucleus, w, h))
        {
            double cx = (double)blob.SumX / blob.Area - w / 2.0, cy = (double)blob.SumY / blob.Area - h / 2.0;
            if (blob.Area >= minimum && cx * cx + cy * cy <= radius * radius) total += blob.Area;
        }
        return total;
    }

    /// <summary>
    /// The pitch of a source whose red cells cannot be measured, from a cell type both it and a measured reference
    /// source hold (segmented neutrophils, whose size does not depend on where they were sampled): areas scale with the
    /// square of the pitch, so pitch = reference pitch × √(median reference nucleus area / median nucleus area).
    /// </summary>
    public static SourceScale? FromSharedCellType(string source, IEnumerable<RgbImage> images, SourceScale reference, IEnumerable<RgbImage> referenceImages, string cellType, int minimum = 20)
    {
        var areas = images.Select(CentralNucleusArea).Where(a => a > 0).Order().ToList();
        var referenceAreas = referenceImages.Select(CentralNucleusArea).Where(a => a > 0).Order().ToList();
        if (areas.Count < minimum || referenceAreas.Count < minimum) return null;
        double median = areas[areas.Count / 2], referenceMedian = referenceAreas[referenceAreas.Count / 2];
        double pitch = reference.PitchUm * Math.Sqrt(referenceMedian / median);
        return new SourceScale(source, pitch, string.Create(CultureInfo.InvariantCulture,
            $"estimated from {cellType}: median nucleus area {median:0} px in {areas.Count} images against {referenceMedian:0} px in {referenceAreas.Count} images of {reference.Source} ({reference.PitchUm:0.###} µm/px from its red cells)"),
            0, areas.Count, 0, default);
    }

    /// <summary>A 4-connected piece of a mask: area, bounding box, coordinate sums (for the centroid), whether it
    /// touches the image border, and how many of its pixels are set in a second mask.</summary>
    private readonly record struct Blob(int Area, int X0, int Y0, int X1, int Y1, long SumX, long SumY, bool TouchesBorder, int Marked);

    // Both the red-cell and the nucleus measurement label the connected pieces of a mask the same way.
    private static IEnumerable<Blob> Blobs(bool[] mask, int w, int h, bool[]? marked = null)
    {
        var seen = new bool[mask.Length];
        var queue = new Queue<int>();
        for (int start = 0; start < mask.Length; start++)
        {
            if (!mask[start] || seen[start]) continue;
            int area = 0, count = 0, x0 = w, y0 = h, x1 = -1, y1 = -1;
            long sx = 0, sy = 0;
            bool border = false;
            seen[start] = true;
            queue.Enqueue(start);
            while (queue.Count > 0)
            {
                int i = queue.Dequeue(), x = i % w, y = i / w;
                area++; sx += x; sy += y;
                if (marked is not null && marked[i]) count++;
                if (x == 0 || y == 0 || x == w - 1 || y == h - 1) border = true;
                x0 = Math.Min(x0, x); x1 = Math.Max(x1, x); y0 = Math.Min(y0, y); y1 = Math.Max(y1, y);
                if (x > 0) Visit(i - 1); if (x < w - 1) Visit(i + 1); if (y > 0) Visit(i - w); if (y < h - 1) Visit(i + w);
            }
            yield return new Blob(area, x0, y0, x1, y1, sx, sy, border, count);

            void Visit(int j) { if (mask[j] && !seen[j]) { seen[j] = true; queue.Enqueue(j); } }
        }
    }

    /// <summary>Sets every unset pixel the border cannot reach through unset pixels: the pale central pallor of a red
    /// cell (or a nucleus inside a cell's outline) becomes part of it.</summary>
    public static void FillHoles(bool[] mask, int w, int h)
    {
        var outside = new bool[mask.Length];
        var queue = new Queue<int>();
        void Seed(int i) { if (!mask[i] && !outside[i]) { outside[i] = true; queue.Enqueue(i); } }
        for (int x = 0; x < w; x++) { Seed(x); Seed((h - 1) * w + x); }
        for (int y = 0; y < h; y++) { Seed(y * w); Seed(y * w + w - 1); }
        while (queue.Count > 0)
        {
            int i = queue.Dequeue(), x = i % w, y = i / w;
            if (x > 0) Seed(i - 1); if (x < w - 1) Seed(i + 1); if (y > 0) Seed(i - w); if (y < h - 1) Seed(i + w);
        }
        for (int i = 0; i < mask.Length; i++) if (!outside[i]) mask[i] = true;
    }
}
