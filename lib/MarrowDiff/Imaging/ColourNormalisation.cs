using System.Text.Json;
using MarrowDiff.Core;

namespace MarrowDiff.Imaging;

/// <summary>
/// The paper's input normalisation: every image is converted RGB → YUV, then each channel has the training set's
/// mean subtracted and is divided by its standard deviation. The statistics come from the training images alone,
/// are saved with the model, and are applied unchanged to validation and test images: computing them on the test
/// set, even partly, would let the test set shape the input.
/// </summary>
/// <param name="Mean">Per-channel mean of Y, U, V over every pixel of the training images.</param>
/// <param name="Std">Per-channel population standard deviation of Y, U, V.</param>
/// <param name="Images">How many images the statistics were computed on.</param>
/// <param name="ComputedOn">What those images were (variant, split side, data), so a saved file says where it came from.</param>
public sealed record ColourNormalisation(string Space, double[] Mean, double[] Std, long Images, string ComputedOn)
{
    public const string YuvBt601 = "YUV (BT.601, Torch7 rgb2yuv), RGB in [0,1]";

    /// <summary>Statistics of <paramref name="images"/> (all pixels weigh the same).</summary>
    public static ColourNormalisation Compute(IEnumerable<RgbImage> images, string computedOn) =>
        Compute(images.Select(i => (i, 1)), computedOn);

    /// <summary>Statistics of images each counted <c>Weight</c> times (a crop that stands for several of its D4
    /// images: rotations and mirrors move pixels, never change them).</summary>
    public static ColourNormalisation Compute(IEnumerable<(RgbImage Image, int Weight)> images, string computedOn)
    {
        // Sums in double: 48,000 patches × 9,216 pixels is 4.4e8 values per channel, far inside double's exact range
        // for these magnitudes, and a running float sum would drift.
        double[] sum = new double[3], sumSq = new double[3];
        long pixels = 0, count = 0;
        float[] planes = [];
        foreach (var (image, weight) in images)
        {
            int n = image.Width * image.Height;
            if (planes.Length < 3 * n) planes = new float[3 * n];
            Yuv.ToPlanes(image, planes);
            for (int c = 0; c < 3; c++)
            {
                double s = 0, q = 0;
                for (int i = c * n, end = c * n + n; i < end; i++) { double v = planes[i]; s += v; q += v * v; }
                sum[c] += weight * s; sumSq[c] += weight * q;
            }
            pixels += (long)n * weight; count += weight;
        }
        if (count == 0) throw new InvalidOperationException($"no training images to compute normalisation statistics on ({computedOn})");
        double[] mean = sum.Select(s => s / pixels).ToArray();
        double[] std = sumSq.Select((q, c) => Math.Sqrt(Math.Max(0, q / pixels - mean[c] * mean[c]))).ToArray();
        if (std.Any(s => s < 1e-6))
            throw new InvalidOperationException($"a YUV channel is constant over the training images ({computedOn}): std {string.Join(", ", std)}");
        return new ColourNormalisation(YuvBt601, mean, std, count, computedOn);
    }

    /// <summary>Normalises YUV planes in place: (x − mean) / std per channel.</summary>
    public void Apply(Span<float> chw)
    {
        int n = chw.Length / 3;
        for (int c = 0; c < 3; c++)
        {
            float m = (float)Mean[c], inv = (float)(1.0 / Std[c]);
            Span<float> plane = chw.Slice(c * n, n);
            for (int i = 0; i < plane.Length; i++) plane[i] = (plane[i] - m) * inv;
        }
    }

    /// <summary>An RGB patch as normalised network input (3 planes, channel-first).</summary>
    public void ToInput(RgbImage image, Span<float> chw)
    {
        Yuv.ToPlanes(image, chw);
        Apply(chw[..(3 * image.Width * image.Height)]);
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Writes the statistics as JSON, atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    public static ColourNormalisation Load(string path)
    {
        var n = JsonSerializer.Deserialize<ColourNormalisation>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"{path}: empty normalisation file");
        if (n.Mean is not { Length: 3 } || n.Std is not { Length: 3 } || n.Std.Any(s => !(s > 0)))
            throw new InvalidDataException($"{path}: needs 3 means and 3 positive standard deviations");
        return n;
    }
}
