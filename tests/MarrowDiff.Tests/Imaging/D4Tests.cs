using MarrowDiff.Core;
using MarrowDiff.Imaging;

namespace MarrowDiff.Tests.Imaging;

public class D4Tests
{
    private static RgbImage Noise(int n, int seed)
    {
        var rng = new Rng((ulong)seed);
        var img = new RgbImage(n, n);
        for (int i = 0; i < img.Pixels.Length; i++) img.Pixels[i] = (byte)rng.Next(0, 256);
        return img;
    }

    [Fact]
    public void AsymmetricImage_GivesEightDistinctImages_EachInvertible()
    {
        RgbImage img = Noise(96, 1);
        var images = D4.All.Select(g => g.Apply(img)).ToList();
        for (int i = 0; i < 8; i++)
            for (int j = i + 1; j < 8; j++)
                Assert.False(images[i].SamePixels(images[j]), $"{D4.All[i]} and {D4.All[j]} gave the same image");
        foreach (D4 g in D4.All)
            Assert.True(g.Inverse.Apply(g.Apply(img)).SamePixels(img), $"{g.Inverse} does not undo {g}");
        Assert.Equal(8, D4.DistinctFor(img).Count);
    }

    [Fact]
    public void Rotation_IsCounterClockwise_AndMirrorIsHorizontal()
    {
        var img = new RgbImage(3, 3);
        img[2, 0] = (255, 0, 0); // top-right marked
        Assert.Equal((byte)255, new D4(1).Apply(img)[0, 0].R);  // rot90 CCW: top-right → top-left
        Assert.Equal((byte)255, new D4(2).Apply(img)[0, 2].R);  // rot180: top-right → bottom-left
        Assert.Equal((byte)255, new D4(4).Apply(img)[0, 0].R);  // mirror: top-right → top-left
        Assert.Equal((byte)255, new D4(5).Apply(img)[0, 2].R);  // mirror then rot90: top-left → bottom-left
    }

    [Fact]
    public void SymmetricImages_YieldFewer_WithTheRightCount()
    {
        // Constant: all 8 images are the same.
        var flat = new RgbImage(8, 8); flat.Fill((10, 20, 30));
        Assert.Single(D4.DistinctFor(flat));

        // Mirror-symmetric (left half reflected onto the right): stabiliser {id, mirror} → 8 / 2 = 4 distinct.
        RgbImage mirror = Noise(8, 2);
        for (int y = 0; y < 8; y++) for (int x = 4; x < 8; x++) mirror[x, y] = mirror[7 - x, y];
        Assert.Equal(4, D4.DistinctFor(mirror).Count);

        // Symmetric under a half turn only: stabiliser {id, rot180} → 4 distinct.
        RgbImage half = Noise(8, 3);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) if (y >= 4) half[x, y] = half[7 - x, 7 - y];
        Assert.Equal(4, D4.DistinctFor(half).Count);

        // Concentric rings (depends only on max(|dx|,|dy|)): invariant under all of D4 → 1 distinct.
        var rings = new RgbImage(9, 9);
        for (int y = 0; y < 9; y++) for (int x = 0; x < 9; x++) { byte v = (byte)(40 * Math.Max(Math.Abs(x - 4), Math.Abs(y - 4))); rings[x, y] = (v, v, v); }
        Assert.Single(D4.DistinctFor(rings));
    }

    [Fact]
    public void NonSquarePatch_IsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => new D4(1).Apply(new RgbImage(4, 3)));
        Assert.Contains("square", e.Message);
    }
}
