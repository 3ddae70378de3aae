namespace MarrowDiff.Imaging;

/// <summary>
/// RGB → YUV as in the paper's framework: Torch7's <c>image.rgb2yuv</c>, the analogue BT.601 matrix
/// (Y = 0.299 R + 0.587 G + 0.114 B; U and V scaled colour differences). RGB is taken in [0, 1].
/// The inverse is the exact matrix inverse (Torch7's <c>yuv2rgb</c> rounds its coefficients to 5 digits,
/// which would leave a round-trip error near 1e-5 by itself).
/// </summary>
public static class Yuv
{
    public static readonly double[,] FromRgbMatrix =
    {
        { 0.299, 0.587, 0.114 },
        { -0.14713, -0.28886, 0.436 },
        { 0.615, -0.51499, -0.10001 },
    };

    public static readonly double[,] ToRgbMatrix = Invert(FromRgbMatrix);

    private static readonly float[] F = Flatten(FromRgbMatrix), B = Flatten(ToRgbMatrix);

    public static (float Y, float U, float V) FromRgb(float r, float g, float b) =>
        (F[0] * r + F[1] * g + F[2] * b, F[3] * r + F[4] * g + F[5] * b, F[6] * r + F[7] * g + F[8] * b);

    public static (float R, float G, float B) ToRgb(float y, float u, float v) =>
        (B[0] * y + B[1] * u + B[2] * v, B[3] * y + B[4] * u + B[5] * v, B[6] * y + B[7] * u + B[8] * v);

    /// <summary>Writes the image as three YUV planes (channel-first, as the network takes it) into
    /// <paramref name="chw"/>, which holds 3·W·H floats.</summary>
    public static void ToPlanes(RgbImage image, Span<float> chw)
    {
        int n = image.Width * image.Height;
        if (chw.Length < 3 * n) throw new ArgumentException($"need {3 * n} floats, got {chw.Length}", nameof(chw));
        byte[] p = image.Pixels;
        const float scale = 1f / 255f;
        for (int i = 0; i < n; i++)
        {
            var (y, u, v) = FromRgb(p[3 * i] * scale, p[3 * i + 1] * scale, p[3 * i + 2] * scale);
            chw[i] = y; chw[n + i] = u; chw[2 * n + i] = v;
        }
    }

    private static float[] Flatten(double[,] m) => [.. m.Cast<double>().Select(d => (float)d)];

    private static double[,] Invert(double[,] m)
    {
        double a = m[0, 0], b = m[0, 1], c = m[0, 2], d = m[1, 0], e = m[1, 1], f = m[1, 2], g = m[2, 0], h = m[2, 1], i = m[2, 2];
        double det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
        return new double[,]
        {
            { (e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det },
            { (f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det },
            { (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det },
        };
    }
}
