using System.Globalization;
using MarrowDiff.Core;
using MarrowDiff.Imaging;

namespace MarrowDiff.Counting;

/// <summary>
/// Whether an image can be the kind of single-cell crop a model was trained on, before any model answers: an image
/// smaller than one white cell at the project's pitch, a blank one, or pixel noise gets a softmax like any other image
/// (a 96×96 noise image was called C4 at p = 0.91), so it is flagged for review with its reason instead of being
/// counted. The thresholds sit far outside every image of the development folder (docs/real-cells.md gives the spread
/// measured there; a test reads the whole folder), so a real crop is never flagged by them. What they cannot see
/// (debris, a cut cell, a cell of a type outside the ten stages) needs a learned check, not a rule on pixels.
/// </summary>
public static class CellInputCheck
{
    /// <summary>Shorter side, in pixels at the project's 0.16 µm/px, below which the image cannot hold a white cell
    /// (the smallest, a lymphocyte, is about 7 µm: 44 px).</summary>
    public const int MinimumSidePx = CellPatch.Size / 2;

    /// <summary>Luminance standard deviation (0–255) below which the image is blank: a stained cell on its background
    /// is never this flat.</summary>
    public const double BlankBelowSd = 4;

    /// <summary>Mean absolute difference between neighbouring pixels over the standard deviation, above which the
    /// image is noise: a micrograph is smooth at the pixel scale, independent pixel noise is near 1.1 at the project's
    /// pitch or finer. Noise enlarged more than about twice by the resampling is smoothed below it and not caught.</summary>
    public const double NoiseAboveRoughness = 0.6;

    /// <summary>Why <paramref name="resampled"/> (the image at the project's pitch) is unlike a training crop, or null.</summary>
    public static string? Unlike(RgbImage resampled)
    {
        if (Math.Min(resampled.Width, resampled.Height) < MinimumSidePx)
            return $"smaller than one white cell: {resampled.Width}x{resampled.Height} px at 0.16 um/px (a cell needs at least {MinimumSidePx})";
        // The part the network sees: the central patch, or the whole image where it is smaller.
        int side = Math.Min(CellPatch.Size, Math.Min(resampled.Width, resampled.Height));
        var seen = resampled.Crop((resampled.Width - side) / 2, (resampled.Height - side) / 2, side, side);
        var (sd, roughness) = Texture(seen);
        if (sd < BlankBelowSd) return $"blank: luminance varies by {F(sd)} (sd), a stained cell by far more";
        if (roughness > NoiseAboveRoughness) return $"noise: neighbouring pixels differ by {F(roughness)} of the image's spread, a micrograph's by far less";
        return null;
    }

    /// <summary>The luminance's standard deviation and its roughness (mean |difference| of neighbouring pixels, both
    /// directions, over that deviation).</summary>
    public static (double Sd, double Roughness) Texture(RgbImage image)
    {
        int w = image.Width, h = image.Height;
        var lum = new double[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                var (r, g, b) = image[x, y];
                lum[y * w + x] = 0.299 * r + 0.587 * g + 0.114 * b;
            }
        double mean = lum.Average();
        double sd = Math.Sqrt(lum.Sum(v => (v - mean) * (v - mean)) / lum.Length);
        double across = 0, down = 0;
        int nx = 0, ny = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                if (x + 1 < w) { across += Math.Abs(lum[y * w + x + 1] - lum[y * w + x]); nx++; }
                if (y + 1 < h) { down += Math.Abs(lum[(y + 1) * w + x] - lum[y * w + x]); ny++; }
            }
        double difference = ((nx == 0 ? 0 : across / nx) + (ny == 0 ? 0 : down / ny)) / 2;
        return (sd, sd < 1e-9 ? 0 : difference / sd);
    }

    private static string F(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);
}
