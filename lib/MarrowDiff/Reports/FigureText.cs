using MarrowDiff.Imaging;
using SkiaSharp;

namespace MarrowDiff.Reports;

/// <summary>
/// Anti-aliased text (DejaVu Sans, through SkiaSharp, which ScottPlot brings) drawn into an <see cref="RgbImage"/>:
/// titles, captions, labels and the provenance stamp of the figures made of cell images (galleries, re-crops, D4,
/// occlusion, contact sheets). Charts proper are drawn by ScottPlot (<see cref="PaperCharts"/>).
/// </summary>
public static class FigureText
{
    /// <summary>Body text size in px at <c>size</c> 1; titles use 2 (larger, bold).</summary>
    private const float Body = 11.5f, Heading = 15f;

    public const string Family = "DejaVu Sans";

    private static readonly SKTypeface Regular = SKTypeface.FromFamilyName(Family, SKFontStyle.Normal) ?? SKTypeface.Default;
    private static readonly SKTypeface Bold = SKTypeface.FromFamilyName(Family, SKFontStyle.Bold) ?? SKTypeface.Default;

    private static SKFont Font(int size, float zoom) =>
        new(size >= 2 ? Bold : Regular, (size >= 2 ? Heading : Body) * zoom) { Edging = SKFontEdging.Antialias, Subpixel = false };

    /// <summary>Width in px of <paramref name="text"/> at <paramref name="size"/> (1 body, 2 title), magnified by
    /// <paramref name="zoom"/> (a figure rendered for print at 300 dpi is 300/96 larger than on screen).</summary>
    public static int Measure(string text, int size = 1, float zoom = 1)
    {
        using var font = Font(size, zoom);
        return (int)Math.Ceiling(font.MeasureText(text));
    }

    /// <summary>Height in px of a line at <paramref name="size"/>.</summary>
    public static int LineHeight(int size = 1, float zoom = 1)
    {
        using var font = Font(size, zoom);
        return (int)Math.Ceiling(font.Metrics.Descent - font.Metrics.Ascent);
    }

    /// <summary>Draws <paramref name="text"/> with its line box's top-left corner at (x, y), blended into the image.</summary>
    public static void Draw(RgbImage image, string text, int x, int y, (byte R, byte G, byte B) colour, int size = 1, float zoom = 1)
    {
        if (text.Length == 0) return;
        using var font = Font(size, zoom);
        int w = Math.Max(1, (int)Math.Ceiling(font.MeasureText(text)) + 2), h = Math.Max(1, LineHeight(size, zoom) + 2);
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.Transparent);
            using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
            canvas.DrawText(text, 0, -font.Metrics.Ascent, font, paint);
        }
        ReadOnlySpan<byte> rgba = bitmap.GetPixelSpan();
        for (int yy = 0; yy < h; yy++)
        {
            int ty = y + yy;
            if (ty < 0 || ty >= image.Height) continue;
            for (int xx = 0; xx < w; xx++)
            {
                int tx = x + xx;
                if (tx < 0 || tx >= image.Width) continue;
                int a = rgba[(yy * w + xx) * 4 + 3];
                if (a == 0) continue;
                var (r, g, b) = image[tx, ty];
                image[tx, ty] = (Mix(r, colour.R, a), Mix(g, colour.G, a), Mix(b, colour.B, a));
            }
        }
    }

    private static byte Mix(byte under, byte over, int alpha) => (byte)((under * (255 - alpha) + over * alpha + 127) / 255);
}
