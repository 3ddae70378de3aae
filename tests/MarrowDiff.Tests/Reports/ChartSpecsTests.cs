using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
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

    [Fact]
    public void AConfusionMatrix_DrawsTheSameTitleClassesAndShares_BothWays_WithC1OnTop()
    {
        // Three true C1 cells (two right, one called C2), one true C2 cell called C1; no C3 cell at all.
        var metrics = ClassificationMetrics.From([0, 0, 0, 1], [0, 0, 1, 0], ["C1 pronormoblast", "C2 basophilic normoblast", "C3 polychromatic normoblast"]);
        var spec = new ConfusionChartSpec("AG+OS60", metrics, Stamp.Stamp, "smoke profile.") { Figure = "Fig 7", Highlight = (0, 1) };
        Assert.Equal("Confusion matrix of AG+OS60 on the test set (Fig 7)", spec.Title);
        Assert.Contains("Accuracy 50.0% of 4 test cells.", spec.Notes[1]);
        string html = GenericChart.toChartHTML(spec.Plotly());
        foreach (string s in new[] { spec.Title + " - smoke profile.", Stamp.Stamp, "\"predicted class\"", "\"true class\"", "\"C3\"" })
            Assert.Contains(s, html);
        // Plotly's first row is drawn at the bottom, so the rows arrive C3, C2, C1: the empty class as zeros (JSON has
        // no NaN), then C2 (100% called C1), then C1 (66.7% right).
        Assert.Contains("[[0.0,0.0,0.0],[100.0,0.0,0.0],[66.7,33.3,0.0]]", html.Replace(" ", ""));
        Assert.DoesNotContain("NaN", html);
        Assert.True(spec.Png().Width >= 560);
    }

    [Fact]
    public void TheClassDistribution_DrawsEveryStageAndEveryOtherCode_BothWays()
    {
        var cells = new List<CellImage>
        {
            new("/x/a.png", CellLabel.Of(CellClass.Pronormoblast), "a", "t"),
            new("/x/b.png", CellLabel.Of(CellClass.SegmentedNeutrophil), "b", "t"),
            new("/x/c.png", CellLabel.Of(CellClass.SegmentedNeutrophil), "c", "t"),
            new("/x/d.png", CellLabel.Other("LY"), "d", "t"),
        };
        var spec = new ClassDistributionSpec(new CellDataset("/x", "test", cells, [], [], []), Stamp);
        Assert.Equal("Images per class: 4 in all", spec.Title);
        string html = GenericChart.toChartHTML(spec.Plotly());
        foreach (string s in new[] { spec.Title + " - Synthetic phantom.", "\"C1\"", "\"C10\"", "\"LY\"", "erythroid C1-C4", "myeloid C5-C10", "other (not in the 10-class task)" })
            Assert.Contains(s, html);
        Assert.True(spec.Png().Width >= 560);
    }
}
