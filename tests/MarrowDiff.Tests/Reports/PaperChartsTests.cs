using MarrowDiff.Imaging;
using MarrowDiff.Reports;

namespace MarrowDiff.Tests.Reports;

public class PaperChartsTests
{
    [Fact]
    public void ALongStampOrNote_WrapsAtTheChartsWidth_SoTheFigureIsAsWideAsItsChart()
    {
        var chart = new RgbImage(600, 300);
        string stamp = string.Join(" | ", Enumerable.Range(1, 40).Select(i => $"part {i}"));
        var figure = PaperCharts.Framed("title", [stamp], chart, stamp);
        int pad = (int)(10 * PaperCharts.Zoom);
        Assert.Equal(chart.Width + 2 * pad, figure.Width);
        var lines = PaperCharts.Wrap(stamp, chart.Width);
        Assert.True(lines.Count > 1);
        Assert.Equal(stamp, string.Join(" ", lines)); // every word kept, in order
        Assert.All(lines, l => Assert.True(FigureText.Measure(l, 1, PaperCharts.Zoom) <= chart.Width, l));
        // A short stamp stays one line; the figure grows by each wrapped line.
        var shortOne = PaperCharts.Framed("title", ["a note"], chart, "seed 2017");
        Assert.Equal(2 * (lines.Count - 1) * (FigureText.LineHeight(1, PaperCharts.Zoom) + (int)(3 * PaperCharts.Zoom)), figure.Height - shortOne.Height);
    }
}
