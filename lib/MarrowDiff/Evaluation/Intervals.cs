using MathNet.Numerics.Distributions;

namespace MarrowDiff.Evaluation;

/// <summary>
/// 95% intervals of a proportion (an accuracy over n test cells, a class's share of a differential count). With a few
/// dozen test cells a difference of ten points between two rows can be noise, and every table should say so.
/// </summary>
public static class Intervals
{
    private const double Z95 = 1.959964;

    /// <summary>Wilson score interval of a proportion <paramref name="p"/> observed over <paramref name="n"/> trials.</summary>
    public static (double Low, double High) Wilson(double p, int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"an interval needs at least one trial, got {n}");
        const double z = Z95;
        double centre = (p + z * z / (2 * n)) / (1 + z * z / n);
        double half = z * Math.Sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / (1 + z * z / n);
        return (Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    /// <summary>Exact (Clopper–Pearson) interval of <paramref name="k"/> successes in <paramref name="n"/> trials, at
    /// confidence 1 − <paramref name="alpha"/>: the quantiles of Beta(k, n − k + 1) and Beta(k + 1, n − k). Never
    /// narrower than the truth, as the differential-count tables (Rümke's) assume.</summary>
    public static (double Low, double High) ClopperPearson(int k, int n, double alpha = 0.05)
    {
        if (n <= 0 || k < 0 || k > n) throw new ArgumentOutOfRangeException(nameof(k), $"{k} of {n}: need 0 <= k <= n and n >= 1");
        double low = k == 0 ? 0 : Beta.InvCDF(k, n - k + 1, alpha / 2);
        double high = k == n ? 1 : Beta.InvCDF(k + 1, n - k, 1 - alpha / 2);
        return (low, high);
    }

    /// <summary>
    /// A 95% percentile-bootstrap interval of the macro-F1 of <paramref name="predicted"/> against <paramref name="truth"/>:
    /// the cells resampled with replacement <paramref name="resamples"/> times (drawn from <paramref name="seed"/>, so the
    /// interval is the same on every run). Macro-F1 has no closed-form interval; with ~25 cells a class, one cell more
    /// or less right moves a class's F1 by several points, which this shows.
    /// </summary>
    public static (double Low, double High) BootstrapMacroF1(IReadOnlyList<int> truth, IReadOnlyList<int> predicted, int classes, int seed = 2017, int resamples = 2000)
    {
        if (truth.Count != predicted.Count || truth.Count == 0) throw new ArgumentException($"{truth.Count} labels and {predicted.Count} predictions: need equal, non-zero counts");
        var rng = Core.Rng.For(seed, Core.Rng.Key("bootstrap-macro-f1"));
        var names = Enumerable.Range(0, classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var scores = new double[resamples];
        int n = truth.Count;
        var t = new int[n];
        var q = new int[n];
        for (int r = 0; r < resamples; r++)
        {
            for (int i = 0; i < n; i++) { int j = (int)(rng.NextDouble() * n); t[i] = truth[j]; q[i] = predicted[j]; }
            scores[r] = ClassificationMetrics.From(t, q, names).MacroF1;
        }
        Array.Sort(scores);
        return (scores[(int)Math.Floor(0.025 * (resamples - 1))], scores[(int)Math.Ceiling(0.975 * (resamples - 1))]);
    }
}
