using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Tests.Preparation;

namespace MarrowDiff.Tests.Data;

public class SourceScaleTests(PreparedPhantomFixture fx) : IClassFixture<PreparedPhantomFixture>
{
    private IReadOnlyList<RgbImage> Fields()
    {
        var reader = new CellImageReader();
        return fx.Dataset.Fields.Select(f => reader.Read(f.Path)).ToList();
    }

    [Fact]
    public void Estimate_OnPhantomFields_LandsWithin10PercentOfTheirPitch()
    {
        var scale = RedCellScale.Estimate("phantom", Fields());
        Assert.NotNull(scale);
        Assert.InRange(scale!.PitchUm, 0.9 * CellPatch.PitchUm, 1.1 * CellPatch.PitchUm);
        Assert.True(scale.RedCells >= 100, $"only {scale.RedCells} red cells found");
        Assert.Contains("median diameter", scale.How);
    }

    [Fact]
    public void Estimate_FollowsTheScale_OfResampledFields()
    {
        // The same fields at 5/8 of the size: the true pitch is 0.16 / 0.625 = 0.256 µm/px.
        var smaller = Fields().Select(f => f.Resize(f.Width * 5 / 8, f.Height * 5 / 8)).ToList();
        var scale = RedCellScale.Estimate("phantom at 5/8", smaller);
        Assert.NotNull(scale);
        double truth = CellPatch.PitchUm * 8 / 5;
        Assert.InRange(scale!.PitchUm, 0.9 * truth, 1.1 * truth);
    }

    [Fact]
    public void Tiles_ResampleEachSourceToTheProjectPitch_AndRefuseCropsTooSmallForAPatch()
    {
        string root = Directory.CreateTempSubdirectory("marrow-scale-test-").FullName;
        try
        {
            var img = new RgbImage(200, 200);
            img.Fill((220, 200, 210));
            img.FillRect(90, 90, 20, 20, (80, 40, 140)); // a 20-px "nucleus" at the centre
            Directory.CreateDirectory(Path.Combine(root, "C9"));
            img.SavePng(Path.Combine(root, "C9", "a.png"));
            var cells = CellDatasetLoader.Load(root).Cells;
            string source = cells[0].Source;
            var settings = new MarrowDiff.Preparation.OversamplingSettings();
            SourceScale At(double pitch) => new(source, pitch, "given");

            // 0.32 µm/px → twice the project's pitch: the crop doubles to 400 px, the nucleus to 40 px.
            var big = MarrowDiff.Preparation.CellTiles.Build(cells, settings, scales: new Dictionary<string, SourceScale> { [source] = At(0.32) });
            var tile = big.Tiles[0];
            Assert.Equal(12, tile.Reach);
            var patch = tile.Patch(0, 0);
            int dark = 0;
            for (int y = 0; y < patch.Height; y++) for (int x = 0; x < patch.Width; x++) if (patch[x, y].G < 100) dark++;
            Assert.InRange(dark, 1400, 1800); // ≈ 40 × 40
            Assert.Contains(big.Notes, n => n.Contains("resampled from 0.32 to 0.16", StringComparison.Ordinal));

            // 0.08 µm/px → half: 100 px, room for a shift of 2 px only.
            var small = MarrowDiff.Preparation.CellTiles.Build(cells, settings, scales: new Dictionary<string, SourceScale> { [source] = At(0.08) });
            Assert.Equal(2, small.Tiles[0].Reach);
            Assert.True(small.Tiles[0].MaxShift <= 2);

            // 0.06 µm/px → 75 px: no 96-px patch fits, and the file is named.
            var e = Assert.Throws<InvalidDataException>(() => MarrowDiff.Preparation.CellTiles.Build(cells, settings, scales: new Dictionary<string, SourceScale> { [source] = At(0.06) }));
            Assert.Contains("a.png", e.Message);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void Estimate_WithoutRedCells_ReturnsNull_AndSourceScalesSaysToGiveThePitch()
    {
        var blank = new RgbImage(200, 200);
        blank.Fill((235, 230, 235));
        Assert.Null(RedCellScale.Estimate("blank", [blank, blank]));
        Assert.Equal(new Dictionary<string, double> { ["PBC"] = 0.1, ["Matek"] = 0.12 }, SourceScales.Parse("PBC=0.1; Matek=0.12"));
        Assert.Throws<ArgumentException>(() => SourceScales.Parse("PBC:0.1"));
        Assert.Throws<ArgumentException>(() => SourceScales.Parse("PBC=-1"));
        var given = SourceScales.Estimate(fx.Dataset, 4, given: new Dictionary<string, double> { [fx.Dataset.Cells[0].Source] = 0.2 });
        Assert.Equal("given", Assert.Single(given).How);
    }
}
