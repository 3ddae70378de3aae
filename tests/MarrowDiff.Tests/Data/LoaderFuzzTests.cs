using System.Text.Json;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Tests.Data;

/// <summary>Issue 12: the loader fuzzed (seeded, under a minute) and `marrow audit` on good and bad folders.</summary>
public class LoaderFuzzTests
{
    /// <summary>Real cells as seeds when the development subset is here (CI, these machines), else synthetic ones; the
    /// fuzzer re-encodes each as PNG and JPEG.</summary>
    private static string Shared => Workbook.SharedRealCells;

    private static List<RgbImage> Seeds()
    {
        string shared = Shared;
        var reader = new CellImageReader();
        if (Directory.Exists(shared))
            return CellDatasetLoader.Load(shared, verifyImages: false).Cells.GroupBy(c => c.Source).SelectMany(g => g.Take(2)).Select(c => reader.Read(c.Path)).ToList();
        var rng = new Rng(4);
        return Enumerable.Range(0, 4).Select(_ =>
        {
            var img = new RgbImage(120, 110);
            for (int k = 0; k < img.Pixels.Length; k++) img.Pixels[k] = (byte)rng.Next(0, 256);
            return img;
        }).ToList();
    }

    [Trait(Workbook.SharedVariable, "reads")]
    [SkippableFact]
    public async Task FuzzedFiles_EachLoadsOrIsReportedWithItsReason_NoCrashNoHang()
    {
        string root = Directory.CreateTempSubdirectory("marrow-fuzz-test-").FullName;
        try
        {
            var cases = LoaderFuzzer.Write(root, Seeds(), count: 600, seed: 12);
            var run = Task.Run(() => LoaderFuzzer.Run(root, cases));
            var first = await Task.WhenAny(run, Task.Delay(MarrowProcess.ShortCommand));
            Assert.True(first == run, $"the loader did not finish in {MarrowProcess.ShortCommand}: a hang");
            FuzzReport report = await run;
            Assert.True(report.Crashes == 0 && report.Unaccounted.Count == 0, report.ToString());
            Assert.Equal(report.Tried, report.Loaded + report.Reported);
            Assert.True(report.Tried >= 600);

            // Valid images load whatever their encoding or extension; damaged or unsupported ones are reported.
            foreach (var (kind, (tried, loaded, reported)) in report.ByKind)
            {
                if (kind.StartsWith("original") || kind.StartsWith("palette-png") || kind.StartsWith("png-16-bit") || kind.StartsWith("wrong-extension")
                    || kind.StartsWith("bmp") || kind.StartsWith("tiff"))
                    Assert.True(loaded == tried, $"{kind}: {loaded} of {tried} loaded\n{report}");
                if (new[] { "truncated", "empty", "huge-header", "multi-page-tiff", "gif", "grey-png", "grey-jpeg", "cmyk-jpeg", "symlink-loop", "folder-symlink-loop", "named-pipe", "bit-flips .png", "zeroed-run .png" }
                    .Any(kind.StartsWith))
                    Assert.True(reported == tried, $"{kind}: {reported} of {tried} reported\n{report}");
            }
            Assert.Contains(report.ByKind.Keys, k => k.StartsWith("folder-symlink-loop"));
            foreach (string kind in new[] { "bmp", "tiff", "multi-page-tiff", "gif" }) Assert.Contains(report.ByKind.Keys, k => k.StartsWith(kind));
        }
        finally { Directory.Delete(root, recursive: true); }
        // Noise seeds still fuzz the decoders, but not on real cells' encodings: said, not counted as the whole test.
        Skip.IfNot(Directory.Exists(Shared), $"fuzzed from noise seeds only: the real development subset is not at {Shared}");
    }

    [Fact]
    public void Reader_NamesTheReason_ForEachKindOfBadFile()
    {
        string dir = Directory.CreateTempSubdirectory("marrow-reasons-").FullName;
        try
        {
            var reader = new CellImageReader();
            var img = Seeds()[0];
            string png = Path.Combine(dir, "a.png");
            img.SavePng(png);
            byte[] bytes = File.ReadAllBytes(png);
            string Reason(string name, byte[] content)
            {
                string p = Path.Combine(dir, name);
                File.WriteAllBytes(p, content);
                var e = Assert.Throws<CellImageException>(() => reader.Read(p));
                Assert.Equal(p, e.Path);
                return e.Reason;
            }
            Assert.Contains("truncated PNG", Reason("cut.png", bytes[..(bytes.Length / 2)]));
            Assert.Contains("too large", Reason("huge.png", LoaderFuzzer.PngClaiming(bytes, 100_000, 100_000)));
            // Every page of a TIFF counts: three of 4,000² pass the 40 M cap one by one (Identify sees the first), not together.
            Assert.Contains("3 TIFF page(s) of 48,000,000 pixels in all", Reason("pages.tif", LoaderFuzzer.TiffOfPages(3, 4_000)));
            Assert.Contains("loop", Assert.Throws<CellImageException>(() => CellImageReader.TiffPages([.. "II"u8, 42, 0, 8, 0, 0, 0, 0, 0, 8, 0, 0, 0], "loop.tif")).Reason);
            Assert.Contains("not an image", Reason("noise.png", [1, 2, 3, 4, 5, 6, 7, 8, 9]));
            Assert.Contains("empty file", Reason("empty.png", []));
            string loop = Path.Combine(dir, "loop.png");
            File.CreateSymbolicLink(loop, loop);
            Assert.Contains("does not resolve", Assert.Throws<CellImageException>(() => reader.Read(loop)).Reason);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void AuditCommand_ListsBadFilesAndDuplicates_AndExitsByWhatItFound()
    {
        string dir = Directory.CreateTempSubdirectory("marrow-audit-").FullName;
        try
        {
            string data = Path.Combine(dir, "data"), outDir = Path.Combine(dir, "out");
            var seeds = Seeds();
            seeds[0].SavePng(Path.Combine(data, "band_neutrophil", "a.png"));
            seeds[0].SavePng(Path.Combine(data, "segmented_neutrophil", "a-copy.png")); // a duplicate across classes
            seeds[1].SavePng(Path.Combine(data, "myelocyte", "b.png"));
            var (clean, cleanOut) = MarrowProcess.Run(["audit", "--data", data, "--out", outDir], MarrowProcess.ShortCommand);
            Assert.True(clean == 0, cleanOut);

            File.WriteAllBytes(Path.Combine(data, "myelocyte", "broken.png"), File.ReadAllBytes(Path.Combine(data, "myelocyte", "b.png"))[..200]);
            File.WriteAllText(Path.Combine(data, "myelocyte", "notes.txt"), "not an image");
            var (code, output) = MarrowProcess.Run(["audit", "--data", data, "--out", outDir], MarrowProcess.ShortCommand);
            Assert.True(code == 3, output);
            Assert.Contains("broken.png", output);

            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "audit.json")));
            var root = json.RootElement;
            Assert.False(root.GetProperty("all_readable").GetBoolean());
            Assert.Equal(3, root.GetProperty("images").GetInt32());
            var bad = root.GetProperty("bad_files").EnumerateArray().ToDictionary(b => Path.GetFileName(b.GetProperty("path").GetString()!), b => b.GetProperty("reason").GetString()!);
            Assert.Contains("truncated PNG", bad["broken.png"]);
            Assert.Contains("not an image file", bad["notes.txt"]);
            var dup = Assert.Single(root.GetProperty("duplicates").EnumerateArray());
            Assert.Equal(2, dup.GetProperty("labels").GetArrayLength()); // band and segmented: a labelling error, shown
            Assert.Equal(1, root.GetProperty("per_class").GetProperty("C7 Myelocyte").GetInt32());

            var (usage, usageOut) = MarrowProcess.Run(["audit", "--out", outDir], MarrowProcess.ShortCommand);
            Assert.True(usage == 2, usageOut);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
