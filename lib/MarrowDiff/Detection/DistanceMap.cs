namespace MarrowDiff.Detection;

/// <summary>Exact Euclidean distance transform (Felzenszwalb &amp; Huttenlocher 2012): for every pixel, the distance
/// to the nearest set pixel of a mask, in two separable passes of the lower envelope of parabolas. O(pixels).</summary>
public static class DistanceMap
{
    private const float Far = 1e12f;

    public static float[] ToNearest(bool[] mask, int w, int h)
    {
        var d = new float[w * h];
        for (int i = 0; i < d.Length; i++) d[i] = mask[i] ? 0 : Far;
        var f = new float[Math.Max(w, h)];
        var out1 = new float[Math.Max(w, h)];
        var v = new int[Math.Max(w, h)];
        var z = new float[Math.Max(w, h) + 1];
        for (int x = 0; x < w; x++)
        {
            for (int y = 0; y < h; y++) f[y] = d[y * w + x];
            Transform(f, h, out1, v, z);
            for (int y = 0; y < h; y++) d[y * w + x] = out1[y];
        }
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++) f[x] = d[y * w + x];
            Transform(f, w, out1, v, z);
            for (int x = 0; x < w; x++) d[y * w + x] = out1[x];
        }
        for (int i = 0; i < d.Length; i++) d[i] = MathF.Sqrt(d[i]);
        return d;
    }

    // One dimension: squared distances of f (0 on the mask, Far elsewhere) through the lower envelope of parabolas.
    private static void Transform(float[] f, int n, float[] result, int[] v, float[] z)
    {
        int k = 0;
        v[0] = 0; z[0] = float.NegativeInfinity; z[1] = float.PositiveInfinity;
        for (int q = 1; q < n; q++)
        {
            float s;
            while (true)
            {
                int p = v[k];
                s = ((f[q] + (float)q * q) - (f[p] + (float)p * p)) / (2f * q - 2f * p);
                if (s <= z[k] && k > 0) { k--; continue; }
                break;
            }
            if (s <= z[k]) { v[0] = q; z[0] = float.NegativeInfinity; z[1] = float.PositiveInfinity; k = 0; continue; }
            k++; v[k] = q; z[k] = s; z[k + 1] = float.PositiveInfinity;
        }
        k = 0;
        for (int q = 0; q < n; q++)
        {
            while (z[k + 1] < q) k++;
            float dq = q - v[k];
            result[q] = dq * dq + f[v[k]];
        }
    }
}
