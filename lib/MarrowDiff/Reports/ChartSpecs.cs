using System.Globalization;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
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

/// <summary>
/// A confusion matrix (Fig 4B, Fig 7) specified once and drawn both ways: each true class's row shaded by the share of
/// its cells predicted as each class (so the diagonal is the recall), true C1 on top as in the paper.
/// </summary>
/// <param name="Model">The training set or model it shows (its title names it).</param>
/// <param name="Stamp">The provenance stamp (a table rebuilt from its files has no live <see cref="Provenance"/>).</param>
/// <param name="Caveat">The profile's caveat, the first note.</param>
public sealed record ConfusionChartSpec(string Model, ClassificationMetrics Metrics, string Stamp, string Caveat)
{
    /// <summary>Two classes whose 2x2 block gets a red dashed box (Fig 7's dotted boxes).</summary>
    public (int First, int Second)? Highlight { get; init; }

    /// <summary>The paper's figure this regenerates, for the title.</summary>
    public string Figure { get; init; } = "Fig 4B";

    public string Title => $"Confusion matrix of {Model} on the test set ({Figure})";

    public IReadOnlyList<string> Notes =>
        [Caveat, $"Accuracy {Percent.Of(Metrics.Accuracy)}% of {Metrics.PerClass.Sum(p => p.Support)} test cells. Rows: true class; columns: predicted; numbers: cells."];

    private string[] Codes => [.. Metrics.Classes.Select(name => name.Split(' ')[0])];

    /// <summary>Row shares; NaN for a class with no test cell.</summary>
    private double[,] Shares()
    {
        var m = Metrics;
        int k = m.Classes.Count;
        var share = new double[k, k];
        for (int r = 0; r < k; r++)
        {
            int total = Enumerable.Range(0, k).Sum(c => m.Confusion[r, c]);
            for (int c = 0; c < k; c++) share[r, c] = total == 0 ? double.NaN : (double)m.Confusion[r, c] / total;
        }
        return share;
    }

    /// <summary>At 300 dpi (ScottPlot), the number of cells written in every non-empty square, framed with the notes
    /// and the stamp.</summary>
    public RgbImage Png()
    {
        var m = Metrics;
        int k = m.Classes.Count;
        var share = Shares();
        var plot = PaperCharts.NewPlot();
        // The heatmap draws row 0 at the top (true C1 first, as the paper), column 0 at the left; cell (r, c) is
        // centred on x = c, y = k - 1 - r.
        var heatmap = plot.Add.Heatmap(share);
        // Light for few cells, dark blue for many (Blues runs dark to light, hence reversed).
        heatmap.Colormap = new ScottPlot.Colormaps.Reversed(new ScottPlot.Colormaps.Blues());
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        heatmap.NaNCellColor = new ScottPlot.Color(245, 245, 245);
        for (int r = 0; r < k; r++)
            for (int c = 0; c < k; c++)
            {
                if (m.Confusion[r, c] == 0) continue;
                var text = plot.Add.Text(m.Confusion[r, c].ToString(CultureInfo.InvariantCulture), c, k - 1 - r);
                text.LabelAlignment = ScottPlot.Alignment.MiddleCenter;
                text.LabelFontSize = 13;
                text.LabelBold = r == c;
                text.LabelFontColor = share[r, c] > 0.6 ? ScottPlot.Colors.White : PaperCharts.ToColor(PaperCharts.Ink);
            }
        if (Highlight is var (f, s2))
        {
            int a = Math.Min(f, s2), b = Math.Max(f, s2);
            var box = plot.Add.Rectangle(a - 0.5, b + 0.5, k - 1 - b - 0.5, k - 1 - a + 0.5);
            box.FillColor = ScottPlot.Colors.Transparent;
            box.LineColor = PaperCharts.ToColor(PaperCharts.OkabeIto[1]);
            box.LineWidth = 3;
            box.LinePattern = ScottPlot.LinePattern.Dashed;
        }
        string[] codes = Codes;
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, k).Select(c => (double)c)], codes);
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, k).Select(r => (double)(k - 1 - r))], codes);
        plot.Axes.SetLimits(-0.5, k - 0.5, -0.5, k - 0.5);
        plot.XLabel("predicted class");
        plot.YLabel("true class");
        plot.Grid.IsVisible = false;
        var bar = plot.Add.ColorBar(heatmap);
        bar.Label = "share of the true class";
        bar.Axis.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(0.2);
        return PaperCharts.Framed(Title, Notes, PaperCharts.Render(plot, 560, 500), Stamp);
    }

    /// <summary>The same shares as percentages; a class with no test cell is a row of zeros (JSON has no NaN).</summary>
    public GenericChart Plotly()
    {
        int k = Metrics.Classes.Count;
        var share = Shares();
        // Plotly draws the first row at the bottom; reverse so C1 is on top as in the paper.
        var z = Enumerable.Range(0, k).Reverse()
            .Select(r => Enumerable.Range(0, k).Select(c => double.IsNaN(share[r, c]) ? 0.0 : Math.Round(100 * share[r, c], 1)).ToArray()).ToArray();
        return Chart.Heatmap<double, string, string, string>(zData: z, X: Codes, Y: Codes.Reverse().ToArray(), Name: "% of true class")
            .Titled(ChartSpecs.Title(Title, Notes, Stamp))
            .WithXAxisStyle<double, double, string>(TitleText: "predicted class")
            .WithYAxisStyle<double, double, string>(TitleText: "true class")
            .WithSize(640, 560);
    }

    public ChartView View(string text) => new(Plotly(), Png(), text);
}

/// <summary>
/// Images per class, coloured by series (erythroid vermillion, myeloid blue, cells outside the ten stages grey:
/// Okabe–Ito), the count on every bar, specified once and drawn both ways.
/// </summary>
public sealed record ClassDistributionSpec(CellDataset Dataset, Provenance Provenance)
{
    private static readonly (byte R, byte G, byte B) Erythroid = PaperCharts.OkabeIto[1], Myeloid = PaperCharts.OkabeIto[0], Other = (150, 150, 150);

    /// <summary>The legend's series, in order, with their colours.</summary>
    private static readonly (string Name, (byte R, byte G, byte B) Colour)[] Legend =
        [("erythroid C1-C4", Erythroid), ("myeloid C5-C10", Myeloid), ("other (not in the 10-class task)", Other)];

    public string Title => $"Images per class: {Dataset.Cells.Count} in all";

    public IReadOnlyList<string> Notes => [Provenance.Synthetic ? "Synthetic phantom." : "Real images."];

    /// <summary>Every bar, C1…C10 then the other codes, with the index of its legend series.</summary>
    private List<(string Label, int Count, int Series)> Bars() =>
        [.. CellTaxonomy.All.Select(c => (c.Code(), Dataset.ClassCounts[c], c.Series() == Series.Erythroid ? 0 : 1)),
         .. Dataset.OtherCounts.Select(kv => (kv.Key, kv.Value, 2))];

    /// <summary>At 300 dpi (ScottPlot), framed with the provenance.</summary>
    public RgbImage Png()
    {
        var bars = Bars();
        var plot = PaperCharts.NewPlot();
        var plotted = plot.Add.Bars(bars.Select((b, i) => new ScottPlot.Bar
        {
            Position = i, Value = b.Count, FillColor = PaperCharts.ToColor(Legend[b.Series].Colour), LineWidth = 0,
            Label = b.Count.ToString(CultureInfo.InvariantCulture),
        }).ToList());
        plotted.ValueLabelStyle.FontSize = 12;
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, bars.Count).Select(i => (double)i)], [.. bars.Select(b => b.Label)]);
        plot.Axes.Margins(bottom: 0, top: 0.3);
        plot.XLabel("class");
        plot.YLabel("images");
        foreach (var (name, colour) in Legend.Take(Dataset.OtherCounts.Count > 0 ? 3 : 2))
            plot.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = name, FillColor = PaperCharts.ToColor(colour) });
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        return PaperCharts.Framed(Title, Notes, PaperCharts.Render(plot, Math.Max(560, 60 * bars.Count + 120), 380), Provenance);
    }

    /// <summary>One bar trace a legend series, so the interactive legend toggles a series.</summary>
    public GenericChart Plotly()
    {
        var bars = Bars();
        var traces = Legend.Select((l, s) => (l, Bars: bars.Where(b => b.Series == s).ToList())).Where(t => t.Bars.Count > 0)
            .Select(t => Chart.Column<int, string, string>(values: t.Bars.Select(b => b.Count).ToArray(), Keys: t.Bars.Select(b => b.Label).ToArray(),
                Name: t.l.Name, MarkerColor: Color.fromString($"#{t.l.Colour.R:x2}{t.l.Colour.G:x2}{t.l.Colour.B:x2}"),
                MultiText: t.Bars.Select(b => b.Count.ToString(CultureInfo.InvariantCulture)).ToArray()));
        return Chart.Combine(traces)
            .Titled(ChartSpecs.Title(Title, Notes, Provenance))
            .WithXAxisStyle<double, double, string>(TitleText: "class")
            .WithYAxisStyle<double, double, string>(TitleText: "images")
            .WithSize(900, 480);
    }

    public ChartView View(string text) => new(Plotly(), Png(), text);
}

internal static class ChartSpecs
{
    /// <summary>Plotly's title: the PNG's title, its notes after a dash, the provenance stamp small below.</summary>
    public static string Title(string title, IReadOnlyList<string> notes, Provenance provenance) => Title(title, notes, provenance.Stamp);

    public static string Title(string title, IReadOnlyList<string> notes, string stamp) =>
        $"{title}{(notes.Count == 0 ? "" : " - " + string.Join(" ", notes))}<br><sub>{stamp}</sub>";
}
