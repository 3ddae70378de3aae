using MarrowDiff.Imaging;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp;

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
        if (!info.Exists)
            throw new CellImageException(path, info.LinkTarget is { } target
                ? $"symbolic link to '{target}' that does not resolve (a missing target or a loop)"
                : Directory.Exists(path) ? "a folder, not an image file" : "file not found");
        // A pipe, socket or device stats as 0 bytes too: refused here, before a read that could block forever.
        if (info.Length == 0) throw new CellImageException(path, "empty file (0 bytes), or not a regular file (a pipe, socket or device)");
        if (info.Length > MaxFileBytes) throw new CellImageException(path, $"file too large ({info.Length:N0} bytes, limit {MaxFileBytes:N0})");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CellImageException(path, info.LinkTarget is { } target
                ? $"symbolic link to '{target}' that does not resolve (a missing target or a loop): {e.Message}"
                : $"cannot be read: {e.Message}");
        }
        return Decode(bytes, path);
    }

    public RgbImage Decode(byte[] bytes, string path)
    {
        IImageFormat? format = Image.DetectFormat(Formats, bytes);
        if (format is null) throw new CellImageException(path, "not an image: no PNG, JPEG, BMP or TIFF signature");

        if (Truncated(format, bytes) is { } cut) throw new CellImageException(path, cut);
        // Identify reads the first frame's size only, and a TIFF's decoder decodes every page: the cap holds for all
        // of them together, counted from the directories before any pixel is decoded.
        if (format.Name == "TIFF")
        {
            var (pages, total) = TiffPages(bytes, path);
            if (total > MaxPixels)
                throw new CellImageException(path, $"too large: {pages} TIFF page(s) of {total:N0} pixels in all, over the cap of {MaxPixels:N0} (every page is decoded)");
        }

        IImageInfo? header;
        try { header = Image.Identify(Formats, bytes, out _); }
        catch (Exception e) when (e is not OutOfMemoryException)
        { throw new CellImageException(path, $"corrupt {format.Name} header ({e.GetType().Name}): {e.Message}"); }
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
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever a decoder throws on a damaged file (its own format exceptions, or an index or arithmetic error
            // of a decoder bug) means this file cannot be used: it is reported with the reason, never let through.
            // The pixel cap above keeps a decode from running out of memory.
            throw new CellImageException(path, $"corrupt or truncated {format.Name} ({e.GetType().Name}): {e.Message}");
        }
    }

    /// <summary>The pages of a TIFF and their pixels in all, from its chain of image file directories (ImageWidth 256,
    /// ImageLength 257 of each); a chain that loops, runs past the file or holds over 10,000 pages is refused.</summary>
    internal static (int Pages, long Pixels) TiffPages(byte[] b, string path)
    {
        if (b.Length < 8) throw new CellImageException(path, "truncated TIFF: no header");
        bool little = b[0] == 'I';
        uint U16(long at) => at + 2 > b.Length ? throw new CellImageException(path, $"corrupt TIFF: a directory runs past the end (byte {at})")
            : little ? System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)at)) : System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan((int)at));
        uint U32(long at) => at + 4 > b.Length ? throw new CellImageException(path, $"corrupt TIFF: a directory runs past the end (byte {at})")
            : little ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)at)) : System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan((int)at));
        if (U16(2) != 42) throw new CellImageException(path, "not a classic TIFF (BigTIFF and others are not read)");
        var seen = new HashSet<uint>();
        long total = 0;
        int pages = 0;
        for (uint ifd = U32(4); ifd != 0; ifd = U32(ifd + 2 + 12L * U16(ifd)))
        {
            if (!seen.Add(ifd)) throw new CellImageException(path, $"corrupt TIFF: its directories loop (back to byte {ifd})");
            if (++pages > 10_000) throw new CellImageException(path, "corrupt TIFF: over 10,000 pages");
            long width = 0, height = 0;
            uint entries = U16(ifd);
            for (uint e = 0; e < entries; e++)
            {
                long at = ifd + 2 + 12L * e;
                uint tag = U16(at), type = U16(at + 2);
                long value = type == 3 ? U16(at + 8) : U32(at + 8); // SHORT or LONG, held in the entry itself
                if (tag == 256) width = value;
                else if (tag == 257) height = value;
            }
            total += width * height;
        }
        return (pages, total);
    }

    /// <summary>
    /// A file cut short (an interrupted copy or download) still decodes in ImageSharp, the missing rows filled with
    /// grey: a half-grey cell would then be trained on as if it were whole. A complete JPEG ends its last scan with the
    /// end-of-image marker FFD9 (which byte stuffing keeps out of the scan data, and which an embedded thumbnail's own
    /// marker, earlier in the file, does not stand in for); a complete PNG has its IEND chunk.
    /// </summary>
    private static string? Truncated(IImageFormat format, byte[] b)
    {
        if (format.Name == "JPEG")
        {
            int scan = LastMarker(b, 0xDA);
            if (scan < 0) return "truncated JPEG: no image data (no start-of-scan marker)";
            if (LastMarker(b, 0xD9) < scan) return "truncated JPEG: no end-of-image marker after the image data (the file was cut short)";
        }
        if (format.Name == "PNG" && b.AsSpan().LastIndexOf("IEND"u8) < 0) return "truncated PNG: no IEND chunk (the file was cut short)";
        return null;
    }

    private static int LastMarker(byte[] b, byte marker)
    {
        for (int i = b.Length - 2; i >= 0; i--)
            if (b[i] == 0xFF && b[i + 1] == marker) return i;
        return -1;
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
