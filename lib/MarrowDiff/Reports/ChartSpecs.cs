using MarrowDiff.Core;
using MarrowDiff.Imaging;
using Plotly.NET;
using Plotly.NET.CSharp;
using Chart = Plotly.NET.CSharp.Chart;

namespace MarrowDiff.Reports;

/// <summary>
/// A line chart specified once — its title, notes, axes and series — and drawn both ways from that one specification:
/// as an interactive Plotly chart for a live notebook (<see cref="Plotly"/>) and as the framed 300-dpi PNG that files,
/// GitHub and an untrusted Jupyter show (<see cref="Png"/>). A line, a label or a note changed here changes both.
/// </summary>
/// <param name="Notes">Sentences under the title (the profile's caveat first).</param>
/// <param name="Series">One line a series; a dashed one is a reference (the calibration diagonal).</param>
public sealed record LineChartSpec(string Title, IReadOnlyList<string> Notes, string XLabel, string YLabel, IReadOnlyList<ChartSeries> Series, Provenance Provenance)
{
    public double YMin { get; init; }
    public double YMax { get; init; } = 1;

    /// <summary>Where the x ticks stand (null: the plotting library's own).</summary>
    public IReadOnlyList<double>? XTicks { get; init; }

    public string TickFormat { get; init; } = "0.##";

    /// <summary>The interactive chart's size in pixels (the PNG's is fixed by <see cref="AnalysisFigures.LineChart"/>).</summary>
    public (int Width, int Height) Size { get; init; } = (900, 420);

    public RgbImage Png() => AnalysisFigures.LineChart(Title, Notes, XLabel, YLabel, Series, Provenance, YMin, YMax, XTicks, TickFormat);

    public GenericChart Plotly()
    {
        var lines = Series.Select(s =>
        {
            var points = s.Points.Where(p => double.IsFinite(p.Y)).OrderBy(p => p.X).ToList();
            return Chart.Line<double, double, string>(x: points.Select(p => p.X).ToArray(), y: points.Select(p => p.Y).ToArray(), Name: s.Name,
                ShowMarkers: !s.Dashed, LineDash: s.Dashed ? StyleParam.DrawingStyle.Dash : StyleParam.DrawingStyle.Solid);
        });
        return Chart.Combine(lines)
            .Titled(ChartSpecs.Title(Title, Notes, Provenance))
            .WithXAxisStyle<double, double, string>(TitleText: XLabel)
            .WithYAxisStyle<double, double, string>(TitleText: YLabel)
            .WithSize(Size.Width, Size.Height);
    }

    /// <summary>Both drawings, for a notebook (<paramref name="text"/>: what a console shows).</summary>
    public ChartView View(string text) => new(Plotly(), Png(), text);
}

/// <summary>
/// Bars in groups specified once (one bar a series in each group), drawn both ways as <see cref="LineChartSpec"/> is.
/// </summary>
/// <param name="LogScale">A log y axis (training images per class, where AG sets are 8× the rest).</param>
/// <param name="YMax">The y axis's top (null: a little above the tallest bar).</param>
public sealed record BarChartSpec(string Title, IReadOnlyList<string> Notes, string XLabel, string YLabel, IReadOnlyList<string> Groups,
                                  IReadOnlyList<(string Name, IReadOnlyList<double> Values)> Series, Provenance Provenance, bool LogScale = false, double? YMax = null)
{
    public (int Width, int Height) Size { get; init; } = (900, 420);

    public RgbImage Png() => AnalysisFigures.GroupedBars(Title, Notes, XLabel, YLabel, Groups, Series, Provenance, LogScale, YMax);

    public GenericChart Plotly()
    {
        var bars = Series.Select(s => Chart.Column<double, string, string>(values: s.Values.ToArray(), Keys: Groups.ToArray(), Name: s.Name));
        return Chart.Combine(bars)
            .Titled(ChartSpecs.Title(Title, Notes, Provenance))
            .WithXAxisStyle<double, double, string>(TitleText: XLabel)
            .WithYAxisStyle<double, double, string>(TitleText: YLabel, AxisType: LogScale ? StyleParam.AxisType.Log : StyleParam.AxisType.Linear)
            .WithSize(Size.Width, Size.Height);
    }

    public ChartView View(string text) => new(Plotly(), Png(), text);
}

internal static class ChartSpecs
{
    /// <summary>Plotly's title: the PNG's title, its notes after a dash, the provenance stamp small below.</summary>
    public static string Title(string title, IReadOnlyList<string> notes, Provenance provenance) =>
        $"{title}{(notes.Count == 0 ? "" : " - " + string.Join(" ", notes))}<br><sub>{provenance.Stamp}</sub>";
}
