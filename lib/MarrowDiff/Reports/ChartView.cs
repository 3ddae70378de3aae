using System.Text.Encodings.Web;
using MarrowDiff.Imaging;
using Microsoft.AspNetCore.Html;
using Microsoft.FSharp.Core;
using Plotly.NET;

namespace MarrowDiff.Reports;

/// <summary>
/// An interactive Plotly chart and its static twin, the same data drawn as a PNG. A notebook shows the chart; the PNG
/// rides along hidden, marked as a <see cref="Figures.StaticTwinClass"/>, so that the headless runner can write it as
/// an image output beside the chart: GitHub and an untrusted Jupyter run no JavaScript and would show nothing else.
/// </summary>
public sealed class ChartView(GenericChart chart, RgbImage twin, string text) : IHtmlContent
{
    /// <summary>The interactive chart (for an HTML file of its own: <c>GenericChart.toEmbeddedHTML</c>).</summary>
    public GenericChart Chart { get; } = chart;

    /// <summary>The same chart as a framed PNG with the provenance stamp.</summary>
    public RgbImage Static { get; } = twin;

    public void WriteTo(TextWriter writer, HtmlEncoder encoder)
    {
        writer.Write(InteractiveHtml(Chart));
        writer.Write(Figures.Tagged(Static, text, Figures.StaticTwinClass, hidden: true));
    }

    public override string ToString() => text;

    /// <summary>What Plotly.NET.Interactive's own formatter writes (plotly.js through require.js, as notebook front
    /// ends load it), so the chart looks the same whether or not that extension is loaded.</summary>
    public static string InteractiveHtml(GenericChart chart)
    {
        var reference = PlotlyJSReference.NewRequire($"https://cdn.plot.ly/plotly-{Globals.PLOTLYJS_VERSION}.min");
        var styled = Plotly.NET.Chart.withDisplayOptionsStyle(null, null, null, null, null, null, FSharpOption<PlotlyJSReference>.Some(reference)).Invoke(chart);
        return GenericChart.toChartHTML(styled);
    }
}
