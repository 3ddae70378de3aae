using System.Diagnostics;
using MarrowDiff.Core;
using MarrowDiff.Imaging;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp;

namespace MarrowDiff.Data;

/// <summary>One file (or folder, or link) the fuzzer made, and how it was made.</summary>
public sealed record FuzzCase(string Kind, string Path);

/// <summary>What the loader did with the fuzzer's files.</summary>
/// <param name="Tried">Files and links made (folders named like images included).</param>
/// <param name="Loaded">Read as a cell image.</param>
/// <param name="Reported">Refused with the path and a reason (<see cref="CellImageException"/>, or listed by the
/// dataset loader as skipped).</param>
/// <param name="Crashes">Anything else: an exception other than a report, from the reader or the whole-dataset load.</param>
/// <param name="Unaccounted">Files the whole-dataset load neither read nor listed as skipped (must be none).</param>
/// <param name="SlowestFile">The longest a single file took to read or refuse (a hang would show here first).</param>
public sealed record FuzzReport(int Tried, int Loaded, int Reported, int Crashes, IReadOnlyDictionary<string, (int Tried, int Loaded, int Reported)> ByKind,
                                IReadOnlyList<string> CrashDetails, IReadOnlyList<string> Unaccounted, TimeSpan SlowestFile, string SlowestPath,
                                long PeakResidentBytes, TimeSpan Elapsed)
{
    public override string ToString()
    {
        var t = new System.Text.StringBuilder();
        t.AppendLine($"{Tried} fuzzed files tried: {Loaded} loaded, {Reported} reported with path and reason, {Crashes} crashes, " +
                     $"{Unaccounted.Count} unaccounted; slowest file {SlowestFile.TotalMilliseconds:0} ms; peak resident memory {PeakResidentBytes / 1048576.0:0} MB; {Elapsed.TotalSeconds:0.0} s");
        foreach (var (kind, (tried, loaded, reported)) in ByKind)
            t.AppendLine($"  {kind,-28} {tried,6} tried {loaded,6} loaded {reported,6} reported");
        foreach (string c in CrashDetails.Take(20)) t.AppendLine($"  CRASH {c}");
        foreach (string u in Unaccounted.Take(20)) t.AppendLine($"  UNACCOUNTED {u}");
        return t.ToString();
    }
}

/// <summary>
/// Fuzzes the image loader with what a lab's folders and an attacker's files can hold: real cell images (PNG and
/// JPEG) truncated at random offsets, with bits flipped or runs zeroed, random bytes named like images, headers that
/// claim 100,000 × 100,000 pixels, grey-scale, 16-bit, palette PNGs, grey and CMYK JPEGs, the wrong extension, an
/// empty file, and, once each, a folder named like an image, an unreadable file, a symbolic-link loop between two
/// files and between folders, and a named pipe. Every file must load or be reported with its path and a reason; no
/// other exception, no hang. Seeded: the same seed makes the same files.
/// </summary>
public static class LoaderFuzzer
{
    /// <summary>The folder (a class of the folder-per-class layout) the fuzzed files are written into.</summary>
    public const string ClassFolder = "promyelocyte";

    /// <summary>Writes <paramref name="count"/> mutated files made from <paramref name="seedImages"/> (decoded, then
    /// re-encoded as PNG and JPEG) plus the special cases, into <paramref name="root"/>/<see cref="ClassFolder"/>.</summary>
    public static IReadOnlyList<FuzzCase> Write(string root, IReadOnlyList<RgbImage> seedImages, int count, int seed)
    {
        if (seedImages.Count == 0) throw new ArgumentException("the fuzzer needs at least one seed image", nameof(seedImages));
        string dir = Path.Combine(root, ClassFolder);
        Directory.CreateDirectory(dir);
        var rng = new Rng((ulong)seed);
        var png = seedImages.Select(i => Encode(i, new PngEncoder())).ToList();
        var jpeg = seedImages.Select(i => Encode(i, new JpegEncoder { Quality = 90 })).ToList();
        var cases = new List<FuzzCase>();
        string Add(string kind, string ext, byte[] bytes)
        {
            string path = Path.Combine(dir, $"{cases.Count:D5}-{kind}{ext}");
            File.WriteAllBytes(path, bytes);
            cases.Add(new FuzzCase(kind, path));
            return path;
        }

        string[] kinds = ["original", "truncated", "bit-flips", "zeroed-run", "random-bytes", "huge-header", "grey-png", "png-16-bit",
                          "palette-png", "grey-jpeg", "cmyk-jpeg", "wrong-extension", "empty", "bmp", "tiff", "multi-page-tiff", "gif"];
        for (int i = 0; i < count; i++)
        {
            int s = rng.Next(0, seedImages.Count);
            bool asPng = rng.Chance(0.5);
            byte[] source = asPng ? png[s] : jpeg[s];
            string ext = asPng ? ".png" : ".jpg";
            string kind = kinds[i % kinds.Length];
            switch (kind)
            {
                case "original": Add(kind, ext, source); break;
                case "truncated": Add(kind, ext, source[..rng.Next(1, source.Length)]); break;
                case "bit-flips":
                {
                    byte[] b = (byte[])source.Clone();
                    for (int k = rng.Next(1, 33); k > 0; k--) b[rng.Next(0, b.Length)] ^= (byte)(1 << rng.Next(0, 8));
                    Add(kind, ext, b);
                    break;
                }
                case "zeroed-run":
                {
                    byte[] b = (byte[])source.Clone();
                    int at = rng.Next(0, b.Length), n = Math.Min(rng.Next(1, 513), b.Length - at);
                    Array.Clear(b, at, n);
                    Add(kind, ext, b);
                    break;
                }
                case "random-bytes":
                {
                    byte[] b = new byte[rng.Next(1, 65536)];
                    for (int k = 0; k < b.Length; k++) b[k] = (byte)rng.Next(0, 256);
                    // Half of them start with a real signature, so the decoder (not only the sniffer) meets them.
                    if (rng.Chance(0.5)) source.AsSpan(0, Math.Min(asPng ? 33 : 20, b.Length)).CopyTo(b);
                    Add(kind, ext, b);
                    break;
                }
                case "huge-header": Add(kind, ext, asPng ? PngClaiming(png[s], 100_000, 100_000) : JpegClaiming(jpeg[s], 65_535, 65_535)); break;
                case "grey-png": Add(kind, ".png", Encode(seedImages[s], new PngEncoder { ColorType = PngColorType.Grayscale })); break;
                case "png-16-bit": Add(kind, ".png", Encode(seedImages[s], new PngEncoder { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit16 })); break;
                case "palette-png": Add(kind, ".png", Encode(seedImages[s], new PngEncoder { ColorType = PngColorType.Palette })); break;
                case "grey-jpeg": Add(kind, ".jpg", Encode(seedImages[s], new JpegEncoder { ColorType = JpegColorType.Luminance })); break;
                case "cmyk-jpeg": Add(kind, ".jpg", JpegClaimingCmyk(jpeg[s])); break;
                case "wrong-extension": Add(kind, asPng ? ".jpg" : ".png", source); break;
                case "empty": Add(kind, ext, []); break;
                case "bmp": Add(kind, ".bmp", Encode(seedImages[s], new SixLabors.ImageSharp.Formats.Bmp.BmpEncoder())); break;
                case "tiff": Add(kind, ".tif", Encode(seedImages[s], new SixLabors.ImageSharp.Formats.Tiff.TiffEncoder())); break;
                // Pages that each pass the cap but not together (Identify sees only the first): refused before decoding.
                case "multi-page-tiff": Add(kind, ".tif", TiffOfPages(pages: 2 + rng.Next(0, 4), side: 5_000)); break;
                // Not one of the four decoders registered: refused by its extension, and by its signature if renamed.
                case "gif": Add(kind, rng.Chance(0.5) ? ".gif" : ".png", Encode(seedImages[s], new SixLabors.ImageSharp.Formats.Gif.GifEncoder())); break;
            }
        }

        // The special cases, once each.
        string folder = Path.Combine(dir, "folder-named-like-an-image.png");
        Directory.CreateDirectory(folder);
        cases.Add(new FuzzCase("folder-like-image", folder));
        string locked = Add("unreadable", ".png", png[0]);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(locked, UnixFileMode.None); // still readable when run as root
        if (!OperatingSystem.IsWindows())
        {
            string a = Path.Combine(dir, "link-loop-a.png"), b = Path.Combine(dir, "link-loop-b.png");
            File.CreateSymbolicLink(a, b);
            File.CreateSymbolicLink(b, a);
            cases.Add(new FuzzCase("symlink-loop", a));
            cases.Add(new FuzzCase("symlink-loop", b));
            string up = Path.Combine(dir, "link-to-parent");
            Directory.CreateSymbolicLink(up, dir);
            cases.Add(new FuzzCase("folder-symlink-loop", up));
            string pipe = Path.Combine(dir, "named-pipe.png");
            if (MakeFifo(pipe)) cases.Add(new FuzzCase("named-pipe", pipe));
        }
        return cases;
    }

    /// <summary>Reads every case with the reader, then the whole folder with the dataset loader (bad files listed, not
    /// thrown), and accounts for every file.</summary>
    public static FuzzReport Run(string root, IReadOnlyList<FuzzCase> cases, CellImageReader? reader = null)
    {
        reader ??= new CellImageReader();
        var clock = Stopwatch.StartNew();
        var byKind = new SortedDictionary<string, (int Tried, int Loaded, int Reported)>(StringComparer.Ordinal);
        var crashes = new List<string>();
        int loaded = 0, reported = 0;
        TimeSpan slowest = TimeSpan.Zero;
        string slowestPath = "";
        foreach (var c in cases)
        {
            string key = $"{c.Kind} {Path.GetExtension(c.Path)}".TrimEnd();
            var (t, l, r) = byKind.GetValueOrDefault(key);
            t++;
            var fileClock = Stopwatch.StartNew();
            try
            {
                // A folder, not a file for the reader: counted as reported below only if the dataset load lists it.
                if (c.Kind != "folder-symlink-loop") { reader.Read(c.Path); loaded++; l++; }
            }
            catch (CellImageException e) when (e.Path == c.Path && e.Reason.Length > 0) { reported++; r++; }
            catch (Exception e) { crashes.Add($"{c.Kind} {c.Path}: {e.GetType().Name}: {e.Message}"); }
            if (fileClock.Elapsed > slowest) { slowest = fileClock.Elapsed; slowestPath = c.Path; }
            byKind[key] = (t, l, r);
        }

        // The whole folder as a dataset: nothing thrown, every file either a cell or a listed bad file.
        var unaccounted = new List<string>();
        try
        {
            CellDataset ds = CellDatasetLoader.Load(root, BadFilePolicy.Skip, reader);
            var seen = new HashSet<string>(ds.Cells.Select(x => x.Path).Concat(ds.Skipped.Select(b => b.Path)), StringComparer.Ordinal);
            foreach (var c in cases)
                if (c.Kind != "folder-like-image" && !seen.Contains(Path.GetFullPath(c.Path))) unaccounted.Add($"{c.Kind} {c.Path}");
            foreach (var c in cases.Where(c => c.Kind == "folder-symlink-loop"))
                if (ds.Skipped.Any(b => b.Path == Path.GetFullPath(c.Path) && b.Reason.Length > 0))
                {
                    string key = $"{c.Kind} {Path.GetExtension(c.Path)}".TrimEnd();
                    var (t, l, r) = byKind[key];
                    byKind[key] = (t, l, r + 1);
                    reported++;
                }
            if (ds.Skipped.FirstOrDefault(b => b.Reason.Length == 0) is { } silent) unaccounted.Add($"listed without a reason: {silent.Path}");
        }
        catch (Exception e) { crashes.Add($"dataset load of {root}: {e.GetType().Name}: {e.Message}"); }

        using var me = Process.GetCurrentProcess();
        return new FuzzReport(cases.Count, loaded, reported, crashes.Count, byKind.ToDictionary(kv => kv.Key, kv => kv.Value), crashes, unaccounted,
                              slowest, slowestPath, me.PeakWorkingSet64, clock.Elapsed);
    }

    /// <summary>A little-endian TIFF of <paramref name="pages"/> directories, each a <paramref name="side"/>² RGB page
    /// whose strip is not there: only the directories are meant to be read.</summary>
    internal static byte[] TiffOfPages(int pages, int side)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        w.Write("II"u8); w.Write((ushort)42); w.Write(8u);
        for (int p = 0; p < pages; p++)
        {
            long start = ms.Position;
            (ushort Tag, ushort Type, uint Value)[] entries = [(256, 4, (uint)side), (257, 4, (uint)side), (258, 3, 8), (262, 3, 2), (277, 3, 3), (273, 4, 8), (279, 4, 0)];
            w.Write((ushort)entries.Length);
            foreach (var (tag, type, value) in entries) { w.Write(tag); w.Write(type); w.Write(1u); w.Write(value); }
            w.Write(p == pages - 1 ? 0u : (uint)(start + 2 + 12 * entries.Length + 4));
        }
        return ms.ToArray();
    }

    private static byte[] Encode(RgbImage image, SixLabors.ImageSharp.Formats.IImageEncoder encoder)
    {
        using var img = Image.LoadPixelData<Rgb24>(image.Pixels, image.Width, image.Height);
        using var ms = new MemoryStream();
        img.Save(ms, encoder);
        return ms.ToArray();
    }

    /// <summary>A PNG whose IHDR claims another size (its CRC recomputed, so only the size is wrong).</summary>
    internal static byte[] PngClaiming(byte[] png, int width, int height)
    {
        byte[] b = (byte[])png.Clone();
        // Signature (8), IHDR length (4), "IHDR" (4), then width and height, big-endian; the CRC covers type and data.
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(16), width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(20), height);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(29), Crc32(b.AsSpan(12, 17)));
        return b;
    }

    /// <summary>A JPEG whose frame header (SOF) claims another size.</summary>
    internal static byte[] JpegClaiming(byte[] jpeg, int width, int height)
    {
        byte[] b = (byte[])jpeg.Clone();
        int sof = FindSof(b);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(sof + 5), (ushort)height);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(sof + 7), (ushort)width);
        return b;
    }

    /// <summary>A JPEG whose headers say CMYK: an Adobe APP14 segment (transform 0) and a fourth frame component. Its
    /// scan is still the three-component one, so a decoder that gets past the header meets a mismatch.</summary>
    internal static byte[] JpegClaimingCmyk(byte[] jpeg)
    {
        int sof = FindSof(jpeg);
        int length = (jpeg[sof + 2] << 8) | jpeg[sof + 3];
        byte[] adobe = [0xFF, 0xEE, 0x00, 0x0E, (byte)'A', (byte)'d', (byte)'o', (byte)'b', (byte)'e', 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00];
        var b = new List<byte>(jpeg.Length + 32);
        b.AddRange(jpeg.AsSpan(0, 2).ToArray());          // SOI
        b.AddRange(adobe);
        b.AddRange(jpeg.AsSpan(2, sof - 2).ToArray());    // everything up to the frame header
        b.AddRange([0xFF, jpeg[sof + 1], (byte)((length + 3) >> 8), (byte)(length + 3)]);
        b.AddRange(jpeg.AsSpan(sof + 4, 5).ToArray());    // precision, height, width
        b.Add(4);                                          // four components
        b.AddRange(jpeg.AsSpan(sof + 10, length - 8).ToArray());
        b.AddRange([4, 0x11, 0]);                          // the fourth: id 4, 1x1 sampling, table 0
        b.AddRange(jpeg.AsSpan(sof + 2 + length).ToArray());
        return [.. b];
    }

    private static int FindSof(byte[] b)
    {
        for (int i = 2; i + 9 < b.Length; i++)
            if (b[i] == 0xFF && b[i + 1] is 0xC0 or 0xC1 or 0xC2) return i;
        throw new InvalidDataException("no JPEG frame header (SOF) found");
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte x in data)
        {
            crc ^= x;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int mkfifo(string path, uint mode);

    private static bool MakeFifo(string path)
    {
        try { return OperatingSystem.IsLinux() && mkfifo(path, 0x1A4 /* 0644 */) == 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }
}
