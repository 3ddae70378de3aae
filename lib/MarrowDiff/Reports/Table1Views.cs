using System.Globalization;
using System.Text;
using MarrowDiff.Core;
using MarrowDiff.Evaluation;
using MarrowDiff.Experiments;
using MarrowDiff.Preparation;

namespace MarrowDiff.Reports;

/// <summary>Table 1 as a person reads it: an HTML table in a notebook, CSV and Markdown files, and Fig 4B beside them.</summary>
public static class Table1Views
{
    /// <summary>"60.40-76.70": the Wilson 95% interval of an accuracy over <paramref name="n"/> cells, in percent.</summary>
    public static string WilsonText(double p, int n)
    {
        var (low, high) = Intervals.Wilson(p, n);
        return $"{Percent.Of(low, 2)}-{Percent.Of(high, 2)}";
    }

    // The columns, once: the HTML, the CSV and the Markdown are all rendered from them.
    private static Columns<Table1Row> ColumnsOf(Table1 table) => new(
    [
        new("training set", r => r.Variant),
        new("training images", r => r.TrainingImages.ToString(CultureInfo.InvariantCulture)),
        new("accuracy %", r => Percent.Of(r.Metrics.Accuracy, 2)),
        new("accuracy 95% CI", r => WilsonText(r.Metrics.Accuracy, r.Predictions.Count)),
        new("precision % (weighted)", r => Percent.Of(r.Metrics.WeightedPrecision, 2)),
        new("recall % (weighted)", r => Percent.Of(r.Metrics.WeightedRecall, 2)),
        new("F1 % (weighted)", r => Percent.Of(r.Metrics.WeightedF1, 2)),
        new("F1 % (macro)", r => Percent.Of(r.Metrics.MacroF1, 2)),
        new("paper's set (images)", r => $"{table.PaperRowOf(r).Name} ({table.PaperRowOf(r).Images:N0})"),
        new("paper's accuracy %", r => Percent.Of(table.PaperRowOf(r).Accuracy, 2)),
    ]);

    public static HtmlView Html(this Table1 table) => ColumnsOf(table).Html(table.Caption, table.Rows);

    public static string Csv(this Table1 table) => ColumnsOf(table).Csv(table.Caption, table.Rows);

    public static string Markdown(this Table1 table)
    {
        var md = new StringBuilder($"{table.Caption}\n\n").Append(ColumnsOf(table).Markdown(table.Rows));
        md.Append("\nThe paper's precision, recall and F1 per training set are in its Table 1 image, not in its text; only accuracies are quoted here.\n");
        if (!table.Profile.ComparableToPaper) md.Append($"\n**{table.Profile.Caveat}.** The paper's column is shown for orientation only.\n");
        return md.ToString();
    }

    /// <summary>Saves to <paramref name="folder"/> as <c>table1.*</c> for the phantom, <c>table1-&lt;data folder&gt;.*</c>
    /// for other data (so a run on real images never overwrites the phantom's table), and lists what was written.</summary>
    public static HtmlView SaveFor(this Table1 table, string folder, string datasetRoot)
    {
        string name = table.Provenance.Synthetic ? "table1" : $"table1-{Path.GetFileName(Path.TrimEndingDirectorySeparator(datasetRoot))}";
        var files = table.Save(folder, name).ToList();
        // Fig 4B of the largest training set as a PNG beside the table (numbers only: no image of a cell).
        var largest = table.Of(Table1Role.AGOSHigh);
        string png = Path.Combine(folder, $"{name}-confusion-{largest.Variant}.png");
        new ConfusionChartSpec(largest.Variant, largest.Metrics, table.Provenance.Stamp, table.Profile.Caveat).Png().SavePng(png);
        files.Add(png);
        return HtmlView.Table($"Saved - {table.Provenance.Stamp}", ["file"], files.Select(f => (IReadOnlyList<object?>)[Path.GetFileName(f)]));
    }

    /// <summary>Writes <c>name.csv</c>, <c>name.md</c> and <c>name-profile.json</c> (the resolved profile) atomically.</summary>
    public static IReadOnlyList<string> Save(this Table1 table, string folder, string name = "table1")
    {
        string csv = Path.Combine(folder, name + ".csv"), md = Path.Combine(folder, name + ".md"), profile = Path.Combine(folder, name + "-profile.json");
        AtomicFile.WriteAllText(csv, table.Csv());
        AtomicFile.WriteAllText(md, table.Markdown());
        AtomicFile.WriteAllText(profile, table.Profile.ToJson());
        return [csv, md, profile];
    }
}
