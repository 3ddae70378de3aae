using System.Globalization;
using System.Security.Cryptography;
using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Phantom;

namespace MarrowDiff.Tests.Phantom;

public class MarrowPhantomTests(SmokePhantomFixture phantom) : IClassFixture<SmokePhantomFixture>
{
    [Fact]
    public void Write_SameSeed_GivesIdenticalBytes()
    {
        var a = Hashes(phantom.First);
        var b = Hashes(phantom.Second);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        Assert.True(a.Count > 200, $"expected the smoke phantom's patches, fields and manifest, found {a.Count} files");
        foreach (var (file, hash) in a) Assert.True(hash == b[file], $"{file} differs between two renders with the same seed");
    }

    [Fact]
    public void Write_OtherSeed_GivesOtherImages()
    {
        var plan7 = MarrowPhantom.Plan(PhantomSize.Smoke, 7);
        var plan8 = MarrowPhantom.Plan(PhantomSize.Smoke, 8);
        Assert.NotEqual(plan7.SelectMany(p => p.Classes), plan8.SelectMany(p => p.Classes));
    }

    [Fact]
    public void Write_Structure_MirrorsThePaper()
    {
        CellDataset ds = CellDatasetLoader.Load(phantom.First);
        Assert.Equal(CellDatasetLoader.ManifestName, ds.Layout);
        Assert.Equal(PhantomSize.Smoke.Cells, ds.Cells.Count);
        Assert.Equal(PhantomSize.Smoke.Fields, ds.Fields.Count);
        foreach (CellClass c in CellTaxonomy.All) Assert.Equal(PhantomSize.Smoke.ClassCounts[c], ds.ClassCounts[c]);
        Assert.Equal(PhantomSize.Smoke.Subjects, ds.Cells.Select(c => c.Subject).Distinct().Count());
        Assert.Equal(PhantomSize.Smoke.Subjects * PhantomSize.Smoke.SlidesPerSubject, ds.Cells.Select(c => c.Slide).Distinct().Count());
        Assert.Empty(ds.Skipped);

        var reader = new CellImageReader();
        CellImage cell = ds.Cells[0];
        RgbImage patch = reader.Read(cell.Path);
        Assert.Equal((96, 96), (patch.Width, patch.Height));
        RgbImage field = reader.Read(cell.FieldPath!);
        Assert.Equal((FieldRenderer.Width, FieldRenderer.Height), (field.Width, field.Height));
        // The patch is the field cropped at the cell's true centre.
        Assert.Equal(field.CropCentred(cell.CentreX!.Value, cell.CentreY!.Value, 96).Pixels, patch.Pixels);
        // Patches sit in a folder per class, so the tree also loads without the manifest.
        Assert.Equal(cell.Label.Class!.Value.SnakeName(), Path.GetFileName(Path.GetDirectoryName(cell.Path)));
    }

    [Fact]
    public void Cells_MorphologyFollowsMaturation()
    {
        var rows = File.ReadAllLines(Path.Combine(phantom.First, "manifest.csv")).Skip(1)
            .Select(l => l.Split(','))
            .Where(f => f[0] == "patch")
            .Select(f => (Class: CellLabel.Parse(f[3]).Class!.Value, Cell: double.Parse(f[11], CultureInfo.InvariantCulture), Nucleus: double.Parse(f[12], CultureInfo.InvariantCulture)))
            .ToList();
        double Cell(CellClass c) => rows.Where(r => r.Class == c).Average(r => r.Cell);
        double Nucleus(CellClass c) => rows.Where(r => r.Class == c).Average(r => r.Nucleus);
        double NC(CellClass c) => rows.Where(r => r.Class == c).Average(r => r.Nucleus / r.Cell);

        // Erythroid: the cell shrinks, the nucleus shrinks and condenses, N:C falls.
        AssertDescending(Cell, CellClass.Pronormoblast, CellClass.BasophilicNormoblast, CellClass.PolychromaticNormoblast, CellClass.OrthochromaticNormoblast);
        AssertDescending(Nucleus, CellClass.Pronormoblast, CellClass.BasophilicNormoblast, CellClass.PolychromaticNormoblast, CellClass.OrthochromaticNormoblast);
        AssertDescending(NC, CellClass.Pronormoblast, CellClass.BasophilicNormoblast, CellClass.PolychromaticNormoblast, CellClass.OrthochromaticNormoblast);
        // Myeloid: the promyelocyte is the largest; then cells shrink towards band and segmented forms.
        AssertDescending(Cell, CellClass.Promyelocyte, CellClass.Myeloblast, CellClass.Myelocyte, CellClass.Metamyelocyte);
        Assert.True(Cell(CellClass.Myelocyte) > Cell(CellClass.BandNeutrophil));
        Assert.True(Cell(CellClass.Myelocyte) > Cell(CellClass.SegmentedNeutrophil));
        AssertDescending(NC, CellClass.Myeloblast, CellClass.Promyelocyte, CellClass.Myelocyte, CellClass.Metamyelocyte, CellClass.BandNeutrophil);
        AssertDescending(Nucleus, CellClass.Myelocyte, CellClass.Metamyelocyte, CellClass.BandNeutrophil);
        Assert.True(Nucleus(CellClass.Metamyelocyte) > Nucleus(CellClass.SegmentedNeutrophil));
    }

    [Fact]
    public void Ensure_ReusesAnExistingPhantom()
    {
        string dataRoot = Path.Combine(phantom.Root, "data");
        string dir = MarrowPhantom.FolderFor(dataRoot, PhantomSize.Smoke, 7);
        Directory.CreateDirectory(dataRoot);
        CopyTree(phantom.First, dir);
        DateTime before = File.GetLastWriteTimeUtc(Path.Combine(dir, "manifest.csv"));
        Assert.Equal(dir, MarrowPhantom.Ensure(dataRoot, PhantomSize.Smoke, 7));
        Assert.Equal(before, File.GetLastWriteTimeUtc(Path.Combine(dir, "manifest.csv")));
    }

    private static void AssertDescending(Func<CellClass, double> measure, params CellClass[] order)
    {
        for (int i = 1; i < order.Length; i++)
            Assert.True(measure(order[i - 1]) > measure(order[i]),
                $"{order[i - 1]} ({measure(order[i - 1]):0.0}) should exceed {order[i]} ({measure(order[i]):0.0})");
    }

    private static Dictionary<string, string> Hashes(string root) =>
        Directory.GetFiles(root, "*", SearchOption.AllDirectories)
                 .ToDictionary(f => Path.GetRelativePath(root, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    private static void CopyTree(string from, string to)
    {
        foreach (string f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, f));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(f, target);
        }
    }
}
