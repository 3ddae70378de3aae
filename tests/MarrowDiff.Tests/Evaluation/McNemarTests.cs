using MarrowDiff.Evaluation;

namespace MarrowDiff.Tests.Evaluation;

public class McNemarTests
{
    private static (bool[], bool[]) Pairs(int both, int firstOnly, int secondOnly, int neither)
    {
        var a = new List<bool>(); var b = new List<bool>();
        void Add(int n, bool x, bool y) { for (int i = 0; i < n; i++) { a.Add(x); b.Add(y); } }
        Add(both, true, true); Add(firstOnly, true, false); Add(secondOnly, false, true); Add(neither, false, false);
        return (a.ToArray(), b.ToArray());
    }

    [Fact]
    public void SmallCounts_UseTheExactBinomialTest()
    {
        // b = 1, c = 6: p = 2 · (C(7,0) + C(7,1)) / 2^7 = 16 / 128 = 0.125
        var (a, b) = Pairs(30, 1, 6, 2);
        var r = McNemarResult.Test(a, b);
        Assert.True(r.Exact);
        Assert.Equal(1, r.FirstOnlyCorrect); Assert.Equal(6, r.SecondOnlyCorrect);
        Assert.Equal(0.125, r.PValue, 12);
    }

    [Fact]
    public void LargeCounts_UseChiSquareWithContinuityCorrection()
    {
        // b = 10, c = 30: chi² = (|10 − 30| − 1)² / 40 = 9.025, p = erfc(√4.5125) ≈ 0.0026631
        var (a, b) = Pairs(100, 10, 30, 5);
        var r = McNemarResult.Test(a, b);
        Assert.False(r.Exact);
        Assert.Equal(9.025, r.Statistic, 9);
        Assert.Equal(0.0026631, r.PValue, 6);
    }

    [Fact]
    public void TheExactTest_IsCappedAtOne_AndRunsBelow25DiscordantCells()
    {
        // b = c = 3: the two tails overlap at the middle, 2 · P(X ≤ 3 | n = 6) = 2 · 42/64 > 1, so p is capped at 1.
        var (a, b) = Pairs(5, 3, 3, 0);
        Assert.Equal(1, McNemarResult.Test(a, b).PValue);
        // 24 discordant cells: exact; 25: the chi-square, unless the exact test is asked for.
        var (a24, b24) = Pairs(0, 10, 14, 0);
        Assert.True(McNemarResult.Test(a24, b24).Exact);
        var (a25, b25) = Pairs(0, 10, 15, 0);
        Assert.False(McNemarResult.Test(a25, b25).Exact);
        var exact = McNemarResult.Test(a25, b25, exact: true);
        Assert.True(exact.Exact);
        // 2 · P(X ≤ 10 | n = 25, p = 1/2) = 2 · 7,119,516 / 2^25
        Assert.Equal(2.0 * 7_119_516 / (1 << 25), exact.PValue, 12);
    }

    [Fact]
    public void NoDiscordantCells_MeansNoEvidence()
    {
        var (a, b) = Pairs(10, 0, 0, 3);
        Assert.Equal(1.0, McNemarResult.Test(a, b).PValue);
        Assert.Throws<ArgumentException>(() => McNemarResult.Test([true], [true, false]));
    }
}
