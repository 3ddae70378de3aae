using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Tests.Data;

public sealed class CellDatasetLoaderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("marrow-loader-test-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Write(string rel, byte[] bytes)
    {
        string path = Path.Combine(_root, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Png(int w = 8, int h = 8)
    {
        var img = new RgbImage(w, h);
        img.Fill((200, 120, 180));
        return img.ToPng();
    }

    [Fact]
    public void Load_FolderPerClass_ParsesLabelsAndKeepsOther()
    {
        Write("band_neutrophil/a.png", Png());
        Write("C10/b.png", Png());
        Write("BLA/0001-1000/BLA_00014.png", Png()); // Matek's nested layout
        Write("LYT/c.png", Png());
        Write("README.md", "about"u8.ToArray());

        CellDataset ds = CellDatasetLoader.Load(_root);

        Assert.Equal("folder-per-class", ds.Layout);
        Assert.Equal(4, ds.Cells.Count);
        Assert.Equal(1, ds.ClassCounts[CellClass.BandNeutrophil]);
        Assert.Equal(1, ds.ClassCounts[CellClass.SegmentedNeutrophil]);
        Assert.Equal(1, ds.ClassCounts[CellClass.Myeloblast]);
        Assert.Equal(new Dictionary<string, int> { ["LYT"] = 1 }, ds.OtherCounts);
        Assert.Empty(ds.Skipped);
    }

    [Fact]
    public void Load_PbcLayout_LabelsByFilePrefix_NotByGroupFolder()
    {
        // The PBC download: group folders, the stage in the file name (ig/ holds three stages).
        string root = Path.Combine(_root, "PBC_dataset_normal_DIB");
        foreach (string rel in new[] { "ig/PMY_1.jpg", "ig/MY_2.jpg", "ig/MMY_3.jpg", "neutrophil/BNE_4.jpg", "neutrophil/SNE_5.jpg",
                                       "erythroblast/ERB_6.jpg", "lymphocyte/LY_7.jpg", "platelet/PLATELET_8.jpg" })
            Write(Path.Combine("PBC_dataset_normal_DIB", rel), Png());
        CellDataset ds = CellDatasetLoader.Load(root);
        Assert.Equal([CellClass.Promyelocyte, CellClass.Myelocyte, CellClass.Metamyelocyte, CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil],
                     ds.PaperCells.Select(c => c.Label.Class!.Value).Order());
        Assert.Equal(new Dictionary<string, int> { ["ERB"] = 1, ["LY"] = 1, ["PLATELET"] = 1 }, ds.OtherCounts);
        Assert.All(ds.Cells, c => { Assert.Equal("PBC", c.Source); Assert.Equal("peripheral_blood", c.Specimen); });
        Assert.Contains(ds.Notes, n => n.Contains("Acevedo", StringComparison.Ordinal)); // what to cite

        // Detected by its group folders too, under any root name; a file without its prefix is named, not guessed.
        string renamed = Path.Combine(_root, "my-pbc");
        Write("my-pbc/neutrophil/SNE_9.jpg", Png());
        string bad = Write("my-pbc/neutrophil/IMG0001.jpg", Png());
        var e = Assert.Throws<CellImageException>(() => CellDatasetLoader.Load(renamed));
        Assert.Equal(bad, e.Path);
        Assert.Contains("prefix", e.Reason);
    }

    [Fact]
    public void Load_MatekLayout_LabelsByFolderCode_AndKeepsItsSource()
    {
        string root = Path.Combine(_root, "BM_cytomorphology_data");
        foreach (string code in new[] { "BLA", "PMO", "NGS", "EBO", "NIF" })
            Write(Path.Combine("BM_cytomorphology_data", code, "0001-1000", $"{code}_00001.jpg"), Png());
        CellDataset ds = CellDatasetLoader.Load(root);
        Assert.Equal([CellClass.Myeloblast, CellClass.Promyelocyte, CellClass.SegmentedNeutrophil], ds.PaperCells.Select(c => c.Label.Class!.Value).Order());
        Assert.Equal(new Dictionary<string, int> { ["EBO"] = 1, ["NIF"] = 1 }, ds.OtherCounts);
        Assert.All(ds.Cells, c => { Assert.Equal("Matek", c.Source); Assert.Equal("bone_marrow", c.Specimen); });
    }

    [Fact]
    public void EveryCodeOfBothLayouts_MapsToAPaperClassOrADescribedOther()
    {
        var expected = new Dictionary<string, CellClass?>
        {
            // Matek et al. 2021
            ["PEB"] = CellClass.Pronormoblast, ["BLA"] = CellClass.Myeloblast, ["PMO"] = CellClass.Promyelocyte, ["MYB"] = CellClass.Myelocyte,
            ["MMZ"] = CellClass.Metamyelocyte, ["NGB"] = CellClass.BandNeutrophil, ["NGS"] = CellClass.SegmentedNeutrophil,
            ["ABE"] = null, ["ART"] = null, ["BAS"] = null, ["EBO"] = null, ["EOS"] = null, ["FGC"] = null, ["HAC"] = null, ["KSC"] = null,
            ["LYI"] = null, ["LYT"] = null, ["MON"] = null, ["NIF"] = null, ["OTH"] = null, ["PLM"] = null,
            // PBC prefixes
            ["PMY"] = CellClass.Promyelocyte, ["MY"] = CellClass.Myelocyte, ["MMY"] = CellClass.Metamyelocyte, ["BNE"] = CellClass.BandNeutrophil,
            ["SNE"] = CellClass.SegmentedNeutrophil, ["ERB"] = null, ["BA"] = null, ["EO"] = null, ["LY"] = null, ["MO"] = null,
            ["PLATELET"] = null, ["IG"] = null, ["NEUTROPHIL"] = null,
        };
        Assert.True(PublicLayout.MatekCodes.All(expected.ContainsKey), "a Matek code is missing from the table");
        foreach (var (code, cls) in expected)
        {
            CellLabel label = CellLabel.Parse(code);
            Assert.Equal(cls, label.Class);
            if (cls is null) Assert.False(string.IsNullOrEmpty(label.OtherDescription), $"{code}: an Other code without a description");
        }
        Assert.Equal("Matek", PublicLayout.SourceName("Matek et al. 2021 bone marrow cytomorphology (TCIA …)"));
        Assert.Equal("PBC", PublicLayout.SourceName("Acevedo et al. 2020 peripheral blood cells (Mendeley …)"));
    }

    [Fact]
    public void Load_CorruptFile_StopNamesTheFileAndReason()
    {
        Write("C1/good.png", Png());
        byte[] truncated = Png(64, 64)[..60];
        string bad = Write("C1/truncated.png", truncated);

        var e = Assert.Throws<CellImageException>(() => CellDatasetLoader.Load(_root, BadFilePolicy.Stop));
        Assert.Equal(bad, e.Path);
        Assert.Contains("truncated.png", e.Message);
        Assert.Contains("truncated PNG", e.Reason);
    }

    [Fact]
    public void Load_BadFiles_SkipListsEveryOneWithItsReason()
    {
        Write("C1/good.png", Png());
        string notImage = Write("C1/notes.png", "this is text, not a picture"u8.ToArray());
        string empty = Write("C2/empty.jpg", []);
        string wrongExt = Write("C2/table.csv", "a,b"u8.ToArray());
        string tooBig = Write("C3/huge.png", Png(300, 300));
        var grey = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.L8>(8, 8);
        using var ms = new MemoryStream();
        grey.Save(ms, new SixLabors.ImageSharp.Formats.Png.PngEncoder { ColorType = SixLabors.ImageSharp.Formats.Png.PngColorType.Grayscale });
        string greyPath = Write("C4/grey.png", ms.ToArray());

        CellDataset ds = CellDatasetLoader.Load(_root, BadFilePolicy.Skip, new CellImageReader { MaxPixels = 200 * 200 });

        Assert.Single(ds.Cells);
        string Reason(string path) => Assert.Single(ds.Skipped, s => s.Path == path).Reason;
        Assert.Contains("not an image", Reason(notImage));
        Assert.Contains("empty", Reason(empty));
        Assert.Contains("not an image file", Reason(wrongExt));
        Assert.Contains("too large", Reason(tooBig));
        Assert.Contains("grey-scale", Reason(greyPath));
        Assert.Equal(5, ds.Skipped.Count);
    }

    [Fact]
    public void Load_Manifest_ReportsListedButMissingFiles()
    {
        Write("p/a.png", Png());
        File.WriteAllText(Path.Combine(_root, "manifest.csv"), "path,mapped_class,dataset\np/a.png,myelocyte,X\np/gone.png,myelocyte,X\nq/b.png,other:ERB,X\n");
        Write("q/b.png", Png());

        CellDataset ds = CellDatasetLoader.Load(_root, BadFilePolicy.Skip);

        Assert.Equal(2, ds.Cells.Count);
        Assert.Equal(1, ds.ClassCounts[CellClass.Myelocyte]);
        Assert.Equal(1, ds.OtherCounts["ERB"]);
        BadFile missing = Assert.Single(ds.Skipped);
        Assert.EndsWith("gone.png", missing.Path);
        Assert.Contains("listed in manifest.csv", missing.Reason);
        Assert.Throws<CellImageException>(() => CellDatasetLoader.Load(_root, BadFilePolicy.Stop));
    }

    [Fact]
    public void Load_EmptyFolder_SaysWhatWasExpected()
    {
        var e = Assert.Throws<InvalidDataException>(() => CellDatasetLoader.Load(_root));
        Assert.Contains(_root, e.Message);
        Assert.Contains("no images", e.Message);
    }

    [Fact]
    public void Load_Manifest_RefusesPathsThatLeaveTheDataset_BeforeLookingAtThem()
    {
        Write("p/a.png", Png());
        // A real image outside the dataset: were it read, it would become a cell.
        string outside = Path.Combine(Path.GetDirectoryName(_root)!, $"outside-{Path.GetFileName(_root)}.png");
        File.WriteAllBytes(outside, Png());
        try
        {
            File.WriteAllText(Path.Combine(_root, "manifest.csv"),
                $"path,mapped_class,dataset,field_path\np/a.png,myelocyte,X,\n../{Path.GetFileName(outside)},myelocyte,X,\n{outside},band_neutrophil,X,\n" +
                "p/../../etc/passwd,myelocyte,X,\np/a.png,myelocyte,X,../../elsewhere.png\n");
            CellDataset ds = CellDatasetLoader.Load(_root, BadFilePolicy.Skip);
            Assert.Single(ds.Cells);
            Assert.Equal(4, ds.Skipped.Count);
            string manifest = Path.Combine(_root, "manifest.csv");
            Assert.Equal([$"{manifest}:3", $"{manifest}:4", $"{manifest}:5", $"{manifest}:6"], ds.Skipped.Select(b => b.Path));
            Assert.Contains("leaves the dataset's folder", ds.Skipped[0].Reason);
            Assert.Contains("is absolute", ds.Skipped[1].Reason);
            Assert.Contains("'p/../../etc/passwd' leaves", ds.Skipped[2].Reason); // said the same whether the file exists or not
            Assert.Contains("field_path '../../elsewhere.png' leaves", ds.Skipped[3].Reason);
            Assert.Throws<CellImageException>(() => CellDatasetLoader.Load(_root, BadFilePolicy.Stop));
        }
        finally { File.Delete(outside); }
    }

    [Fact]
    public void Load_Manifest_RefusesAnUnterminatedQuote_NamingItsLine()
    {
        Write("p/a.png", Png());
        string manifest = Path.Combine(_root, "manifest.csv");
        File.WriteAllText(manifest, "path,mapped_class,dataset\np/a.png,myelocyte,X\n\"p/b.png,myelocyte,X\np/a.png,band_neutrophil,X\n");
        var e = Assert.Throws<InvalidDataException>(() => CellDatasetLoader.Load(_root, BadFilePolicy.Skip));
        Assert.Contains($"{manifest}:3", e.Message);
        Assert.Contains("never closed", e.Message);
    }

    [Trait(Workbook.SharedVariable, "reads")]
    [SkippableFact]
    public void Load_SharedRealCells_WhenPresent_MapsEveryImage()
    {
        string shared = Workbook.SharedRealCells;
        // The development subset sits beside the checkout on the developers' machines and in CI; elsewhere: skipped, said.
        Skip.IfNot(Directory.Exists(shared), $"the real development subset is not at {shared}");
        CellDataset ds = CellDatasetLoader.Load(shared, BadFilePolicy.Stop, verifyImages: false);
        // The folder's own manifest says what each file is (it grew from 1,360 to 4,046 images; it may grow again): the
        // loader must find every listed file and map it to the manifest's class, whatever the counts are.
        var manifest = Csv.Parse(File.ReadAllText(Path.Combine(shared, "manifest.csv")));
        int column = Array.IndexOf(manifest[0], "mapped_class");
        var listed = manifest.Skip(1).Where(r => r.Length > column).Select(r => r[column]).ToList();
        Assert.Equal(listed.Count, ds.Cells.Count);
        foreach (var c in CellTaxonomy.All)
            Assert.Equal(listed.Count(m => m == c.SnakeName()), ds.ClassCounts[c]);
        Assert.Equal(listed.Where(m => m.StartsWith("other:", StringComparison.Ordinal)).GroupBy(m => m["other:".Length..]).ToDictionary(g => g.Key, g => g.Count()),
                     ds.OtherCounts);
        Assert.True(ds.Cells.Count >= 4046, $"{ds.Cells.Count} cells: the folder of 2026-12-04 has 4,046");
        Assert.Equal(600, ds.ClassCounts[CellClass.BandNeutrophil]);
        Assert.Equal(189 + 297, ds.ClassCounts[CellClass.Promyelocyte]); // PBC's PMY and Matek's PMO
        Assert.All(CellTaxonomy.All.Take(4), c => Assert.Equal(0, ds.ClassCounts[c])); // no staged erythroid cells in either source
    }
}
