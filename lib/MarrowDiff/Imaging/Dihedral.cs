using System.Numerics;

namespace MarrowDiff.Imaging;

/// <summary>
/// One element of the dihedral group D4, the symmetries of a square: a horizontal mirror (or not) followed by a
/// counter-clockwise rotation of 0°, 90°, 180° or 270°. The paper's augmentation, "four angles of rotation × two
/// flips (horizontal and vertical)", spans exactly these 8 elements: a vertical flip is a horizontal flip turned
/// by 180°, so listing both flips adds no image that is not already here.
/// </summary>
public readonly record struct D4(int Index)
{
    /// <summary>The 8 elements in a fixed order: rotations first (index 0 is the identity), then mirrored rotations.</summary>
    public static IReadOnlyList<D4> All { get; } = Enumerable.Range(0, 8).Select(i => new D4(i)).ToArray();

    public static D4 Identity => new(0);

    /// <summary>Quarter turns counter-clockwise, 0…3.</summary>
    public int QuarterTurns => Index & 3;

    /// <summary>Whether a horizontal mirror is applied before the rotation.</summary>
    public bool Mirrored => Index >= 4;

    public string Name => (Mirrored ? "flip+" : "") + $"rot{90 * QuarterTurns}";

    /// <summary>The element that undoes this one. A rotation is undone by the opposite rotation; every mirrored
    /// element is its own inverse (mirror·rotate·mirror = rotate backwards).</summary>
    public D4 Inverse => Mirrored ? this : new D4((4 - QuarterTurns) & 3);

    /// <summary>The source pixel that lands on (x, y) of an n×n output: whole pixels (ints), or a point between them
    /// (doubles: a patch turned by any angle is sampled there).</summary>
    public (T X, T Y) SourceOf<T>(T x, T y, int n) where T : INumber<T>
    {
        T last = T.CreateChecked(n - 1);
        // Undo the rotation first (it was applied last), then the mirror.
        (T sx, T sy) = QuarterTurns switch
        {
            0 => (x, y),
            1 => (last - y, x),
            2 => (last - x, last - y),
            _ => (y, last - x),
        };
        return Mirrored ? (last - sx, sy) : (sx, sy);
    }

    /// <summary>The transformed image. Patches are square; a non-square image is refused rather than cropped.</summary>
    public RgbImage Apply(RgbImage image)
    {
        if (image.Width != image.Height)
            throw new ArgumentException($"D4 augmentation needs a square patch, got {image.Width}x{image.Height}");
        int n = image.Width;
        if (Index == 0) return new RgbImage(n, n, (byte[])image.Pixels.Clone());
        var output = new RgbImage(n, n);
        byte[] src = image.Pixels, dst = output.Pixels;
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
            {
                (int sx, int sy) = SourceOf(x, y, n);
                int s = (sy * n + sx) * 3, d = (y * n + x) * 3;
                dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2];
            }
        return output;
    }

    /// <summary>
    /// The elements that give pairwise different images of <paramref name="image"/>, in order, keeping the first of
    /// each set of identical results. A cell that is symmetric under some element (a perfectly round cell, a blank
    /// patch) yields identical pixels for two elements; the paper "ensured that no duplication existed", so those
    /// are dropped. An asymmetric image keeps all 8.
    /// </summary>
    public static IReadOnlyList<D4> DistinctFor(RgbImage image)
    {
        var kept = new List<D4>(8);
        var images = new List<RgbImage>(8);
        foreach (D4 g in All)
        {
            RgbImage t = g.Apply(image);
            if (images.Any(k => k.SamePixels(t))) continue;
            kept.Add(g); images.Add(t);
        }
        return kept;
    }

    public override string ToString() => Name;
}
