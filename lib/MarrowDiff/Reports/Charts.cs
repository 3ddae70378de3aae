using Plotly.NET;

namespace MarrowDiff.Reports;

/// <summary>Small C# helpers over Plotly.NET's F# API (curried functions, F# options) that Plotly.NET.CSharp 0.14 does not wrap.</summary>
public static class Charts
{
    /// <summary>Sets the chart title (HTML allowed: a <c>&lt;sub&gt;</c> line carries the provenance).</summary>
    public static GenericChart Titled(this GenericChart chart, string title) =>
        Plotly.NET.Chart.withTitle(title, null).Invoke(chart);
}
