using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Imaging;
using Plotly.NET;

namespace MarrowDiff.Reports;

/// <summary>
/// The data audit of notebook 01 (the paper's Fig 1 and what a careful reader checks before training): example
/// cells per class, class balance per series, image sizes and colour statistics per slide, duplicate files and
/// unreadable files. Works on the phantom and on any folder the loaders accept.
/// </summary>
public sealed class DataAudit
{
    private readonly CellImageReader _reader;

    public DataAudit(CellDataset dataset, Provenance provenance, CellImageReader? reader = null)
    {
        Dataset = dataset; Provenance = provenance; _reader = reader ?? new CellImageReader();
    }

    public CellDataset Dataset { get; }
    public Provenance Provenance { get; }

    /// <summary>Summary of what was read.</summary>
    public HtmlView Summary()
    {
        string others = string.Join(", ", Dataset.OtherCounts.Select(kv => $"{kv.Key} {kv.Value}"));
        var rows = new List<IReadOnlyList<object?>>
        {
            Row("folder", Dataset.Root),
            Row("layout", Dataset.Layout),
            Row("images", Dataset.Cells.Count),
            Row("in the paper's 10 classes", Dataset.PaperCells.Count()),
            Row("Other (excluded from the 10-class task)", others.Length > 0 ? others : "none"),
            Row("whole fields", Dataset.Fields.Count),
            Row("subjects", Dataset.Cells.Select(c => c.Subject).Where(s => s is not null).Distinct().Count()),
            Row("slides", Dataset.Cells.Select(c => c.Slide).Where(s => s is not null).Distinct().Count()),
            Row("skipped files", Dataset.Skipped.Count),
        };
        rows.AddRange(Dataset.Notes.Select(n => Row("note", n)));
        return HtmlView.Table($"Dataset - {Provenance.Stamp}", ["", ""], rows);
    }

    private static IReadOnlyList<object?> Row(string key, object? value) => [key, value];

    /// <summary>Fig 1A: <paramref name="perClass"/> example cells of each class, one row per class (Other labels last).</summary>
    public HtmlView ExampleCells(int perClass = 8)
    {
        var groups = CellTaxonomy.All.Select(c => (Label: c.Label(), Cells: Dataset.Cells.Where(x => x.Label.Class == c).ToList()))
            .Concat(Dataset.OtherCounts.Keys.Select(code => (Label: $"Other({code})", Cells: Dataset.Cells.Where(x => x.Label.OtherCode == code).ToList())))
            .Where(g => g.Cells.Count > 0);
        var html = new System.Text.StringBuilder($"<div style=\"font:13px sans-serif\"><b>Example cells per class</b> - {HtmlView.Encode(Provenance.Stamp)}<table>");
        var text = new System.Text.StringBuilder("Example cells per class\n");
        foreach (var (label, cells) in groups)
        {
            var chosen = Figures.Sample(cells, perClass, Provenance.Seed);
            html.Append($"<tr><td style=\"padding-right:8px;white-space:nowrap\">{HtmlView.Encode(label)}<br/><small>{cells.Count} images</small></td><td>");
            foreach (CellImage c in chosen)
            {
                RgbImage img = _reader.Read(c.Path);
                html.Append($"<img src=\"{img.ToJpegDataUri()}\" width=\"96\" height=\"96\" title=\"{HtmlView.Encode(Path.GetFileName(c.Path))}\" style=\"margin:1px;object-fit:cover\"/>");
            }
            html.Append("</td></tr>");
            text.AppendLine($"  {label}: {cells.Count} images");
        }
        html.Append("</table></div>");
        return new HtmlView(html.ToString(), text.ToString());
    }

    /// <summary>Images per class, grouped by series.</summary>
    public ChartView ClassDistributionChart() => new ClassDistributionSpec(Dataset, Provenance).View("[chart: images per class]");

    /// <summary>Per slide (or per source where slides are unknown): image sizes and per-channel mean and
    /// standard deviation of RGB, the stain variation the paper names as a main difficulty.</summary>
    public HtmlView ColourStatistics()
    {
        var rows = Dataset.Cells
            .GroupBy(c => c.Slide ?? $"{c.Source} / {(c.Label.IsOther ? "other" : "all")}")
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var sizes = new Dictionary<string, int>();
                double[] sum = new double[3], sq = new double[3];
                long n = 0;
                foreach (CellImage c in g)
                {
                    RgbImage img = _reader.Read(c.Path);
                    string key = $"{img.Width}×{img.Height}";
                    sizes[key] = sizes.GetValueOrDefault(key) + 1;
                    for (int i = 0; i < img.Pixels.Length; i += 3)
                        for (int ch = 0; ch < 3; ch++) { double v = img.Pixels[i + ch]; sum[ch] += v; sq[ch] += v * v; }
                    n += img.Width * img.Height;
                }
                double Mean(int ch) => sum[ch] / n;
                double Sd(int ch) => Math.Sqrt(Math.Max(0, sq[ch] / n - Mean(ch) * Mean(ch)));
                return (IReadOnlyList<object?>)new object?[]
                {
                    g.Key, g.Count(), string.Join(", ", sizes.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} ({kv.Value})")),
                    $"{Mean(0):0.0} ± {Sd(0):0.0}", $"{Mean(1):0.0} ± {Sd(1):0.0}", $"{Mean(2):0.0} ± {Sd(2):0.0}",
                };
            });
        return HtmlView.Table($"Image size and colour per slide (mean ± sd of 0-255 values) - {Provenance.Stamp}",
            ["slide", "images", "sizes (count)", "R", "G", "B"], rows);
    }

    /// <summary>Files whose bytes are identical (SHA-256; <see cref="DatasetAudit"/>). A duplicate across classes is a
    /// labelling error; across a later train/test split it would be a leak.</summary>
    public HtmlView Duplicates()
    {
        var groups = DatasetAudit.Of(Dataset).Duplicates
            .Select(g => (IReadOnlyList<object?>)new object?[] { g.Sha256[..12], g.Files.Count, string.Join(", ", g.Labels), string.Join("; ", g.Files) })
            .ToList();
        return HtmlView.Table(groups.Count == 0
                ? $"Duplicates by content hash: none among {Dataset.Cells.Count} images - {Provenance.Stamp}"
                : $"Duplicates by content hash: {groups.Count} groups - {Provenance.Stamp}",
            ["sha256", "copies", "labels", "files"], groups);
    }

    /// <summary>Files that could not be used, with the reason (never dropped silently).</summary>
    public HtmlView Unreadable() =>
        HtmlView.Table(Dataset.Skipped.Count == 0 ? "Unreadable or skipped files: none" : $"Unreadable or skipped files: {Dataset.Skipped.Count}",
            ["file", "reason"], Dataset.Skipped.Select(b => (IReadOnlyList<object?>)new object?[] { b.Path, b.Reason }));

    /// <summary>Saves the figures of a synthetic dataset to figures/ (named by phantom size and seed). Figures of
    /// real images are not saved into the project: its images are read where they are, never copied.</summary>
    public HtmlView SaveFiguresIfSynthetic(string folder)
    {
        var phantom = MarrowDiff.Phantom.MarrowPhantom.Describe(Dataset.Root);
        if (phantom is null)
            return new HtmlView("<p>Not saved: figures of real images stay out of the project (they would copy the images).</p>",
                                "Not saved: figures of real images stay out of the project.");
        var files = SaveFigures(folder, $"01-phantom-{phantom["size"]}-seed{phantom["seed"]}");
        return HtmlView.Table($"Saved {files.Count} figures - {Provenance.Stamp}", ["file"],
                              files.Select(f => (IReadOnlyList<object?>)[Path.GetFileName(f)]));
    }

    /// <summary>Writes the class-distribution chart (PNG and interactive HTML) and one contact sheet per class to
    /// <paramref name="folder"/>, each named with its data and seed. Returns the files written.</summary>
    public IReadOnlyList<string> SaveFigures(string folder, string name)
    {
        var written = new List<string>();
        string Save(string file, Action<string> write) { string p = Path.Combine(folder, file); write(p); written.Add(p); return p; }
        Save($"{name}-class-distribution.png", p => new ClassDistributionSpec(Dataset, Provenance).Png().SavePng(p));
        Save($"{name}-class-distribution.html", p => AtomicFile.WriteAllText(p, GenericChart.toEmbeddedHTML(new ClassDistributionSpec(Dataset, Provenance).Plotly())));
        foreach (CellClass c in CellTaxonomy.All)
        {
            var cells = Dataset.Cells.Where(x => x.Label.Class == c).ToList();
            if (cells.Count == 0) continue;
            Save($"{name}-contact-{c.Code()}-{c.SnakeName()}.png", p => Figures.ContactSheet(cells, c.Label(), Provenance, reader: _reader).SavePng(p));
        }
        return written;
    }
}
