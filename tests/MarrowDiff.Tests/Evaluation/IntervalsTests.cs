using MarrowDiff.Evaluation;

namespace MarrowDiff.Tests.Evaluation;

public class IntervalsTests
{
    [Theory]
    [InlineData(0.5, 100, 0.4038, 0.5962)]
    [InlineData(1.0, 39, 0.9103, 1.0)]
    [InlineData(0.0, 10, 0.0, 0.2775)]
    public void Wilson_MatchesHandComputedValues(double p, int n, double low, double high)
    {
        var (l, h) = Intervals.Wilson(p, n);
        Assert.Equal(low, l, 4);
        Assert.Equal(high, h, 4);
    }

    /// <summary>Exact intervals from the beta quantiles, as published tables give them (k = 0: 1 − (α/2)^(1/n)).</summary>
    [Theory]
    [InlineData(0, 10, 0.0, 0.3085)]
    [InlineData(5, 10, 0.1871, 0.8129)]
    [InlineData(10, 10, 0.6915, 1.0)]
    [InlineData(1, 100, 0.0003, 0.0545)]
    [InlineData(50, 100, 0.3983, 0.6017)]
    public void ClopperPearson_MatchesPublishedValues(int k, int n, double low, double high)
    {
        var (l, h) = Intervals.ClopperPearson(k, n);
        Assert.Equal(low, l, 4);
        Assert.Equal(high, h, 4);
    }

    /// <summary>The exact interval's defining property: whatever the true proportion, at least 95% of the counts one
    /// could observe give an interval that contains it (computed exactly over the binomial distribution).</summary>
    [Theory]
    [InlineData(30)]
    [InlineData(200)]
    public void ClopperPearson_CoversTheTruth_AtLeast95PercentOfTheTime(int n)
    {
        var intervals = Enumerable.Range(0, n + 1).Select(k => Intervals.ClopperPearson(k, n)).ToArray();
        foreach (double p in new[] { 0.005, 0.02, 0.1, 0.3, 0.5, 0.77, 0.99 })
        {
            double coverage = 0;
            for (int k = 0; k <= n; k++)
                if (intervals[k].Low <= p && p <= intervals[k].High) coverage += Math.Exp(LogChoose(n, k) + k * Math.Log(p) + (n - k) * Math.Log(1 - p));
            Assert.True(coverage >= 0.95 - 1e-9, $"n {n}, p {p}: coverage {coverage:0.0000}");
        }
    }

    private static double LogChoose(int n, int k)
    {
        double sum = 0;
        for (int i = 1; i <= k; i++) sum += Math.Log(n - k + i) - Math.Log(i);
        return sum;
    }

    [Fact]
    public void BadCounts_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Intervals.ClopperPearson(5, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Intervals.ClopperPearson(-1, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Intervals.Wilson(0.5, 0));
    }
}
