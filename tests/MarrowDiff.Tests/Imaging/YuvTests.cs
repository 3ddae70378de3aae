using MarrowDiff.Core;
using MarrowDiff.Imaging;

namespace MarrowDiff.Tests.Imaging;

public class YuvTests
{
    [Fact]
    public void RoundTrip_ErrorBelow1e5()
    {
        var rng = new Rng(5);
        double worst = 0;
        var points = Enumerable.Range(0, 100_000).Select(_ => ((float)rng.NextDouble(), (float)rng.NextDouble(), (float)rng.NextDouble()))
            .Concat(from r in new[] { 0f, 1f } from g in new[] { 0f, 1f } from b in new[] { 0f, 1f } select (r, g, b));
        foreach (var (r, g, b) in points)
        {
            var (y, u, v) = Yuv.FromRgb(r, g, b);
            var (r2, g2, b2) = Yuv.ToRgb(y, u, v);
            worst = Math.Max(worst, Math.Max(Math.Abs(r - r2), Math.Max(Math.Abs(g - g2), Math.Abs(b - b2))));
        }
        Assert.True(worst < 1e-5, $"worst round-trip error {worst}");
    }

    [Fact]
    public void Bt601_KnownValues()
    {
        // Torch7's 5-digit coefficients leave grey with U = 1e-5 (−0.14713 − 0.28886 + 0.436); we keep them, as the paper's framework did.
        var (y, u, v) = Yuv.FromRgb(1, 1, 1);
        Assert.Equal(1.0, y, 5); Assert.Equal(0.0, u, 4); Assert.Equal(0.0, v, 4);
        (y, _, _) = Yuv.FromRgb(0, 1, 0);
        Assert.Equal(0.587, y, 6);
        (_, u, v) = Yuv.FromRgb(0, 0, 1);
        Assert.Equal(0.436, u, 6); Assert.Equal(-0.10001, v, 6);
    }

    [Fact]
    public void Planes_AreChannelFirst()
    {
        var img = new RgbImage(2, 1);
        img[1, 0] = (255, 255, 255);
        var planes = new float[6];
        Yuv.ToPlanes(img, planes);
        Assert.Equal(0f, planes[0]); Assert.Equal(1f, planes[1], 5); // Y plane: black then white
        Assert.Equal(0f, planes[3], 4);                               // U of white is 0 (to Torch7's rounding)
    }
}
