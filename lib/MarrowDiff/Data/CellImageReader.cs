using MarrowDiff.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.PixelFormats;

namespace MarrowDiff.Data;

/// <summary>A file that could not be used as a cell image, and why. Thrown by <see cref="CellImageReader"/>.</summary>
public sealed class CellImageException(string path, string reason) : Exception($"{path}: {reason}")
{
    public string Path { get; } = path;
    public string Reason { get; } = reason;
}

/// <summary>
/// Decodes PNG, JPEG, BMP and TIFF into <see cref="RgbImage"/> through SixLabors.ImageSharp 2.1.13.
/// ImageSharp 2.x has had flaws with crafted images, so only these four decoders are registered, the header is
/// read first (Identify) and anything over <see cref="MaxPixels"/> is refused before any pixel is decoded.
/// Every refusal names the file and the reason.
/// </summary>
public sealed class CellImageReader
{
    /// <summary>Extensions read as images; other files inside a dataset tree are reported, not read.</summary>
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        { ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff" };

    private static readonly Configuration Formats = new(
        new PngConfigurationModule(), new JpegConfigurationModule(), new BmpConfigurationModule(), new TiffConfigurationModule());

    /// <summary>Largest image decoded, in pixels. A 1080×1330 field is 1.4 M; the default leaves room for
    /// whole-slide tiles while keeping one decode under ~200 MB.</summary>
    public long MaxPixels { get; init; } = 40_000_000;

    /// <summary>Largest file read, in bytes.</summary>
    public long MaxFileBytes { get; init; } = 256L * 1024 * 1024;

    public RgbImage Read(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new CellImageException(path, "file not found");
        if (info.Length == 0) throw new CellImageException(path, "empty file (0 bytes)");
        if (info.Length > MaxFileBytes) throw new CellImageException(path, $"file too large ({info.Length:N0} bytes, limit {MaxFileBytes:N0})");
        byte[] bytes = File.ReadAllBytes(path);
        return Decode(bytes, path);
    }

    public RgbImage Decode(byte[] bytes, string path)
    {
        IImageFormat? format = Image.DetectFormat(Formats, bytes);
        if (format is null) throw new CellImageException(path, "not an image: no PNG, JPEG, BMP or TIFF signature");

        IImageInfo? header;
        try { header = Image.Identify(Formats, bytes, out _); }
        catch (Exception e) when (e is ImageFormatException or NotSupportedException or InvalidOperationException or ArgumentException)
        { throw new CellImageException(path, $"corrupt {format.Name} header: {e.Message}"); }
        if (header is null) throw new CellImageException(path, $"corrupt {format.Name} header");
        long pixels = (long)header.Width * header.Height;
        if (header.Width <= 0 || header.Height <= 0) throw new CellImageException(path, $"invalid size {header.Width}×{header.Height}");
        if (pixels > MaxPixels)
            throw new CellImageException(path, $"too large: {header.Width}×{header.Height} = {pixels:N0} pixels, over the cap of {MaxPixels:N0} (raise CellImageReader.MaxPixels if the image is genuine)");
        if (UnsupportedColour(header) is { } why) throw new CellImageException(path, $"unsupported pixel format: {why}");

        try
        {
            using Image<Rgb24> image = Image.Load<Rgb24>(Formats, bytes);
            var rgb = new byte[image.Width * image.Height * 3];
            image.CopyPixelDataTo(rgb);
            return new RgbImage(image.Width, image.Height, rgb);
        }
        catch (Exception e) when (e is ImageFormatException or NotSupportedException or InvalidOperationException or ArgumentException or IndexOutOfRangeException or EndOfStreamException)
        {
            throw new CellImageException(path, $"corrupt or truncated {format.Name}: {e.Message}");
        }
    }

    /// <summary>Wright-Giemsa morphology is read from colour; a grey-scale file is almost certainly a
    /// mask or a converted image, so it is refused rather than silently turned into grey RGB.</summary>
    private static string? UnsupportedColour(IImageInfo header)
    {
        PngMetadata png = header.Metadata.GetPngMetadata();
        if (header.Metadata.GetFormatMetadata(PngFormat.Instance) is not null && png.ColorType is PngColorType.Grayscale or PngColorType.GrayscaleWithAlpha)
            return "grey-scale PNG (colour RGB needed)";
        JpegMetadata jpeg = header.Metadata.GetJpegMetadata();
        if (jpeg.ColorType is JpegColorType.Luminance) return "grey-scale JPEG (colour RGB needed)";
        if (jpeg.ColorType is JpegColorType.Cmyk) return "CMYK JPEG (a print format, not a microscope image)";
        if (header.PixelType is { BitsPerPixel: > 0 and < 8 }) return $"{header.PixelType.BitsPerPixel}-bit image";
        return null;
    }
}
