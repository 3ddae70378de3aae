namespace MarrowDiff.Phantom;

/// <summary>Deterministic value noise from an integer hash: the texture of chromatin, cytoplasm and
/// background. Pure functions of (x, y, seed), so rendering order and threads never change a pixel.</summary>
internal static class Noise
{
    private static double Lattice(int x, int y, uint seed)
    {
        uint h = (uint)x * 0x8DA6B343u ^ (uint)y * 0xD8163841u ^ seed * 0xCB1AB31Fu;
        h ^= h >> 13; h *= 0x5BD1E995u; h ^= h >> 15;
        return (h & 0xFFFFFF) / (double)0x1000000;
    }

    /// <summary>Smoothly interpolated lattice noise in [0, 1).</summary>
    public static double Value(double x, double y, uint seed)
    {
        int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y);
        double fx = x - x0, fy = y - y0;
        double sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy);
        double a = Lattice(x0, y0, seed), b = Lattice(x0 + 1, y0, seed), c = Lattice(x0, y0 + 1, seed), d = Lattice(x0 + 1, y0 + 1, seed);
        return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
    }

    /// <summary>Fractal sum of <paramref name="octaves"/> octaves, normalised to about [0, 1).</summary>
    public static double Fbm(double x, double y, uint seed, int octaves)
    {
        double sum = 0, amp = 1, norm = 0;
        for (int o = 0; o < octaves; o++)
        {
            sum += amp * Value(x, y, seed + (uint)o * 7919u);
            norm += amp; amp *= 0.5; x *= 2.03; y *= 2.03;
        }
        return sum / norm;
    }

    public static double SmoothStep(double edge0, double edge1, double x)
    {
        double t = Math.Clamp((x - edge0) / (edge1 - edge0), 0, 1);
        return t * t * (3 - 2 * t);
    }
}
