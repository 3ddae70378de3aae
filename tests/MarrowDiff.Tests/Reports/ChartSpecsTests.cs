using MarrowDiff.Core;
using MarrowDiff.Reports;
using Plotly.NET;

namespace MarrowDiff.Tests.Reports;

/// <summary>A chart is specified once and drawn both ways: the interactive chart and its PNG twin carry the same
/// title, axes and series, because both are made from the one specification.</summary>
public class ChartSpecsTests
{
    private static readonly Provenance Stamp = new("smoke", "phantom", 7, "abc", true);

    [Fact]
    public void ALineChart_DrawsTheSameTitleAxesAndSeries_BothWays()
    {
        var spec = new LineChartSpec("Training loss per epoch (Fig 4A)", ["smoke profile."], "epoch", "cross-entropy",
            [new ChartSeries("OG", [(1, 2.0), (2, 1.5), (3, double.NaN)]), new ChartSeries("diagonal", [(0, 0), (3, 3)], Dashed: true)], Stamp) { YMax = 3 };
        string json = GenericChart.toChartHTML(spec.Plotly());
        foreach (string s in new[] { "Training loss per epoch (Fig 4A) - smoke profile.", Stamp.Stamp, "\"epoch\"", "\"cross-entropy\"", "\"OG\"", "\"diagonal\"", "\"dash\"" })
            Assert.Contains(s, json);
        Assert.DoesNotContain("NaN", json); // a missing point is left out, as the PNG leaves it out
        var view = spec.View("[chart]");
        Assert.Equal("[chart]", view.ToString());
        Assert.Equal(spec.Png().Width, view.Static.Width);
    }

    [Fact]
    public void BarsInGroups_DrawTheSameGroupsAndSeries_BothWays_OnALogAxisWhenAsked()
    {
        var spec = new BarChartSpec("Training images per class", ["Synthetic phantom."], "class", "training images", ["C9", "C10"],
            [("OG (30)", [10.0, 20.0]), ("AG (240)", [80.0, 160.0])], Stamp, LogScale: true);
        string json = GenericChart.toChartHTML(spec.Plotly());
        foreach (string s in new[] { "Training images per class - Synthetic phantom.", "\"C9\"", "\"C10\"", "OG (30)", "AG (240)", "\"log\"" })
            Assert.Contains(s, json);
        Assert.True(spec.Png().Width >= 640);
    }
}
