using MarrowDiff.Reports;

namespace MarrowDiff.Tests.Reports;

public class Table1ViewsTests
{
    [Theory]
    [InlineData(0.5, 100, "40.38-59.62")]
    [InlineData(1.0, 39, "91.03-100.00")]
    public void WilsonInterval_MatchesHandComputedValues(double p, int n, string expected) =>
        Assert.Equal(expected, Table1Views.WilsonText(p, n));
}
