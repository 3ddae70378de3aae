using MarrowDiff.Core;
using MarrowDiff.Counting;
using MarrowDiff.Imaging;

namespace MarrowDiff.Tests.Counting;

public class UnlabelledCellsTests
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
}
