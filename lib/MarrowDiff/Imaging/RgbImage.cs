using MarrowDiff.Core;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SixLabors.ImageSharp;

namespace MarrowDiff.Imaging;

/// <summary>An 8-bit RGB image, row-major, interleaved (R, G, B). The in-memory form of a cell patch or a field.</summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, byte[]? pixels = null)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size must be positive, got {width}×{height}");
        Width = width;
        Height = height;
        Pixels = pixels ?? new byte[width * height * 3];
        if (Pixels.Length != width * height * 3) throw new ArgumentException($"expected {width * height * 3} bytes for {width}×{height} RGB, got {Pixels.Length}");
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>(Height, Width, 3) bytes.</summary>
    public byte[] Pixels { get; }

    public (byte R, byte G, byte B) this[int x, int y]
    {
        get { int i = (y * Width + x) * 3; return (Pixels[i], Pixels[i + 1], Pixels[i + 2]); }
        set { int i = (y * Width + x) * 3; Pixels[i] = value.R; Pixels[i + 1] = value.G; Pixels[i + 2] = value.B; }
    }

    /// <summary>The size×size square centred on (cx, cy); pixels outside the image are filled with
    /// <paramref name="fill"/> (the paper's crops were always inside the field, so callers normally stay inside).</summary>
    public RgbImage CropCentred(int cx, int cy, int size, (byte R, byte G, byte B) fill = default)
    {
        var crop = new RgbImage(size, size);
        int x0 = cx - size / 2, y0 = cy - size / 2;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                int sx = x0 + x, sy = y0 + y;
                crop[x, y] = sx >= 0 && sy >= 0 && sx < Width && sy < Height ? this[sx, sy] : fill;
            }
        return crop;
    }

    /// <summary>The w×h rectangle whose top-left corner is (x0, y0); it must lie inside the image.</summary>
    public RgbImage Crop(int x0, int y0, int w, int h)
    {
        if (x0 < 0 || y0 < 0 || x0 + w > Width || y0 + h > Height)
            throw new ArgumentOutOfRangeException(nameof(x0), $"crop {w}x{h} at ({x0},{y0}) leaves the {Width}x{Height} image");
        var crop = new RgbImage(w, h);
        for (int y = 0; y < h; y++)
            Array.Copy(Pixels, ((y0 + y) * Width + x0) * 3, crop.Pixels, y * w * 3, w * 3);
        return crop;
    }

    /// <summary>Resampled to w×h with a bicubic filter (ImageSharp's, deterministic). Used only to bring a whole
    /// source image to the patch scale once; patches themselves are never rescaled, because cell size is a
    /// feature of the maturation stage (the paper rules out scale augmentation for that reason).</summary>
    public RgbImage Resize(int w, int h)
    {
        if (w == Width && h == Height) return new RgbImage(w, h, (byte[])Pixels.Clone());
        using var image = Image.LoadPixelData<Rgb24>(Pixels, Width, Height);
        image.Mutate(c => c.Resize(new ResizeOptions { Size = new Size(w, h), Mode = ResizeMode.Stretch, Sampler = KnownResamplers.Bicubic }));
        var pixels = new byte[w * h * 3];
        image.CopyPixelDataTo(pixels);
        return new RgbImage(w, h, pixels);
    }

    /// <summary>True when both images have the same size and the same bytes.</summary>
    public bool SamePixels(RgbImage other) =>
        Width == other.Width && Height == other.Height && Pixels.AsSpan().SequenceEqual(other.Pixels);

    /// <summary>Copies <paramref name="src"/> into this image with its top-left corner at (x, y), clipped.</summary>
    public void Paste(RgbImage src, int x, int y)
    {
        for (int j = 0; j < src.Height; j++)
        {
            int ty = y + j;
            if (ty < 0 || ty >= Height) continue;
            for (int i = 0; i < src.Width; i++)
            {
                int tx = x + i;
                if (tx >= 0 && tx < Width) this[tx, ty] = src[i, j];
            }
        }
    }

    /// <summary>Dots per inch written into the PNG (pHYs): 96 for a screen image, 300 for a figure meant for print.</summary>
    public int Dpi { get; init; } = 96;

    /// <summary>The <paramref name="q"/>-quantile of one channel (0 red, 1 green, 2 blue) over all pixels: with q = 0.9,
    /// the brightness of the glass in a smear, which covers most of a field.</summary>
    public int ChannelPercentile(int channel, double q)
    {
        var histogram = new long[256];
        for (int i = channel; i < Pixels.Length; i += 3) histogram[Pixels[i]]++;
        long target = (long)Math.Ceiling(q * Width * Height), cumulative = 0;
        for (int v = 0; v < 256; v++)
        {
            cumulative += histogram[v];
            if (cumulative >= target) return v;
        }
        return 255;
    }

    /// <summary>Fills the rectangle (clipped to the image) with <paramref name="colour"/>.</summary>
    public void FillRect(int x, int y, int w, int h, (byte R, byte G, byte B) colour)
    {
        for (int yy = Math.Max(0, y); yy < Math.Min(Height, y + h); yy++)
            for (int xx = Math.Max(0, x); xx < Math.Min(Width, x + w); xx++)
                this[xx, yy] = colour;
    }

    /// <summary>Decodes PNG bytes that this process made (a rendered chart); images from disk go through
    /// <c>Data.CellImageReader</c>, which guards against hostile files.</summary>
    public static RgbImage FromPng(byte[] png, int dpi = 96)
    {
        using var image = Image.Load<Rgb24>(png);
        var pixels = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(pixels);
        return new RgbImage(image.Width, image.Height, pixels) { Dpi = dpi };
    }

    public void Fill((byte R, byte G, byte B) colour)
    {
        for (int i = 0; i < Pixels.Length; i += 3) { Pixels[i] = colour.R; Pixels[i + 1] = colour.G; Pixels[i + 2] = colour.B; }
    }

    /// <summary>PNG bytes. Deterministic: the same pixels always give the same bytes.</summary>
    public byte[] ToPng()
    {
        using var image = Image.LoadPixelData<Rgb24>(Pixels, Width, Height);
        image.Metadata.ResolutionUnits = SixLabors.ImageSharp.Metadata.PixelResolutionUnit.PixelsPerInch;
        image.Metadata.HorizontalResolution = image.Metadata.VerticalResolution = Dpi;
        using var ms = new MemoryStream();
        image.Save(ms, new PngEncoder { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit8, CompressionLevel = PngCompressionLevel.BestCompression });
        return ms.ToArray();
    }

    /// <summary>Writes a PNG atomically (temp file + rename), creating the folder.</summary>
    public void SavePng(string path) => AtomicFile.WriteAllBytes(path, ToPng());

    /// <summary>A data: URI for inline HTML display.</summary>
    public string ToDataUri() => "data:image/png;base64," + Convert.ToBase64String(ToPng());

    /// <summary>JPEG bytes, for photographs shown on screen (never for figures/ files, which stay PNG).</summary>
    public byte[] ToJpeg(int quality = 90)
    {
        using var image = Image.LoadPixelData<Rgb24>(Pixels, Width, Height);
        using var ms = new MemoryStream();
        image.Save(ms, new JpegEncoder { Quality = quality });
        return ms.ToArray();
    }

    /// <summary>A JPEG data: URI (quality 90) for photographs in inline HTML.</summary>
    public string ToJpegDataUri() => "data:image/jpeg;base64," + Convert.ToBase64String(ToJpeg());
}
