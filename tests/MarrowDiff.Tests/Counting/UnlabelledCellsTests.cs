using MarrowDiff.Core;
using MarrowDiff.Counting;
using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Tests.Counting;

public class UnlabelledCellsTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>A crop at another pitch is brought to the project's (0.16 µm/px) and cut at its centre: a 10-px dark
    /// square at the centre of a 0.08-µm/px image becomes 5 px at the centre of the 96-px patch.</summary>
    [Fact]
    public void Patch_ResamplesToTheProjectsPitch_AndCutsAtTheCentre()
    {
        var image = new RgbImage(300, 200);
        Array.Fill(image.Pixels, (byte)230);
        for (int y = 95; y < 105; y++) for (int x = 145; x < 155; x++) image[x, y] = (20, 20, 20);
        var patch = UnlabelledCells.Patch(image, pitchUm: 0.08);
        Assert.Equal((CellPatch.Size, CellPatch.Size), (patch.Width, patch.Height));
        int dark = 0, sumX = 0, sumY = 0;
        for (int y = 0; y < patch.Height; y++)
            for (int x = 0; x < patch.Width; x++)
                if (patch[x, y].R < 125) { dark++; sumX += x; sumY += y; }
        Assert.InRange(dark, 16, 36); // 5×5 after halving, give or take the bicubic edge
        Assert.InRange((double)sumX / dark, 46.5, 49.5);
        Assert.InRange((double)sumY / dark, 46.5, 49.5);
    }

    /// <summary>Images no model should answer for: a 1×1 image, one smaller than a cell, a blank one, uniform and
    /// coloured noise. Each is named unlike a training crop, with its reason.</summary>
    [Theory]
    [InlineData("one pixel", "smaller than one white cell")]
    [InlineData("small", "smaller than one white cell")]
    [InlineData("blank", "blank")]
    [InlineData("grey noise", "noise")]
    [InlineData("colour noise", "noise")]
    public void JunkImages_AreUnlikeATrainingCrop_NamingWhy(string kind, string reason)
    {
        var rng = new Random(7);
        RgbImage image = kind switch
        {
            "one pixel" => new RgbImage(1, 1),
            "small" => new RgbImage(40, 30),
            "blank" => new RgbImage(200, 200),
            _ => new RgbImage(96, 96),
        };
        if (kind == "blank") Array.Fill(image.Pixels, (byte)231);
        if (kind == "grey noise")
            for (int y = 0; y < image.Height; y++) for (int x = 0; x < image.Width; x++) { byte v = (byte)rng.Next(256); image[x, y] = (v, v, v); }
        if (kind == "colour noise") rng.NextBytes(image.Pixels);
        Assert.StartsWith(reason, CellInputCheck.Unlike(UnlabelledCells.Resampled(image, CellPatch.PitchUm)));
        // At a finer pitch (as PBC's 0.1 µm/px crops are given), the same image is shrunk first: still caught.
        if (kind.EndsWith("noise", StringComparison.Ordinal)) Assert.StartsWith(reason, CellInputCheck.Unlike(UnlabelledCells.Resampled(image, 0.1)));
    }

    /// <summary>No image of the development folder (5,796 real crops of two sources, each at its source's pitch) is
    /// flagged: the rules catch junk, never a cell.</summary>
    [SkippableFact]
    [Trait(Workbook.SharedVariable, "reads")]
    public void NoRealCellOfTheDevelopmentFolder_IsFlagged()
    {
        string folder = Workbook.SharedRealCells;
        Skip.IfNot(Directory.Exists(folder), $"no real cells at {folder} (../shared/real-cells)");
        var dataset = CellDatasetLoader.Load(folder, BadFilePolicy.Stop);
        var scales = SourceScales.ForCrops(dataset, null);
        var reader = new CellImageReader();
        var flagged = new List<string>();
        double lowestSd = double.MaxValue, roughest = 0;
        int smallest = int.MaxValue;
        foreach (var cell in dataset.Cells)
        {
            double pitch = scales.TryGetValue(cell.Source, out var s) ? s.PitchUm : CellPatch.PitchUm;
            var resampled = UnlabelledCells.Resampled(reader.Read(cell.Path), pitch);
            if (CellInputCheck.Unlike(resampled) is { } why) flagged.Add($"{cell.Path}: {why}");
            int side = Math.Min(CellPatch.Size, Math.Min(resampled.Width, resampled.Height));
            var (sd, roughness) = CellInputCheck.Texture(resampled.Crop((resampled.Width - side) / 2, (resampled.Height - side) / 2, side, side));
            (lowestSd, roughest, smallest) = (Math.Min(lowestSd, sd), Math.Max(roughest, roughness), Math.Min(smallest, Math.Min(resampled.Width, resampled.Height)));
        }
        // The spread docs/real-cells.md quotes, from this run's output.
        output.WriteLine($"{dataset.Cells.Count} crops: smallest side {smallest} px at 0.16 um/px, lowest luminance sd {lowestSd:0.0}, highest roughness {roughest:0.000}");
        Assert.True(dataset.Cells.Count > 5000, $"{dataset.Cells.Count} cells read");
        Assert.True(flagged.Count == 0, string.Join("\n", flagged.Take(10)));
    }
}
