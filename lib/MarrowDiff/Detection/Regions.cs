namespace MarrowDiff.Detection;

/// <summary>A connected region of a mask (8-connected), as the indices of its pixels in row-major order.</summary>
public sealed record Region(int[] Pixels);

public static class Regions
{
    /// <summary>The 8-connected regions of <paramref name="mask"/>, in the order of their first pixel (row-major).</summary>
    public static IEnumerable<Region> Of(bool[] mask, int w, int h)
    {
        var seen = new bool[mask.Length];
        var stack = new Stack<int>();
        for (int start = 0; start < mask.Length; start++)
        {
            if (!mask[start] || seen[start]) continue;
            var pixels = new List<int>();
            seen[start] = true;
            stack.Push(start);
            while (stack.Count > 0)
            {
                int i = stack.Pop();
                pixels.Add(i);
                int x = i % w, y = i / w;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int xx = x + dx, yy = y + dy;
                        if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
                        int j = yy * w + xx;
                        if (mask[j] && !seen[j]) { seen[j] = true; stack.Push(j); }
                    }
            }
            pixels.Sort();
            yield return new Region([.. pixels]);
        }
    }
}
