using System.Diagnostics;
using System.Globalization;
using System.Text;
using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Phantom;
using MarrowDiff.Reports;
using MarrowDiff.Torch;
using Plotly.NET;
using Plotly.NET.CSharp;
using Chart = Plotly.NET.CSharp.Chart;

namespace MarrowDiff.Preparation;

/// <summary>
/// Notebooks 02 and 03 in one object: the split of a dataset, its cell tiles, the six training sets of the
/// training side, and the figures and tables that show what each step did. Training sets are built on first use
/// and kept; nothing here ever touches a test cell except to report that it is there.
/// </summary>
public sealed class DataPreparation
{
    private readonly Dictionary<(string, int?), SampleSet> _built = new();

    public DataPreparation(CellDataset dataset, DatasetSplit split, CellTiles tiles, IReadOnlyList<TrainingVariant> variants, Provenance provenance)
    {
        Dataset = dataset; Split = split; Tiles = tiles; Variants = variants; Provenance = provenance;
    }

    public CellDataset Dataset { get; }
    public DatasetSplit Split { get; }
    public CellTiles Tiles { get; }

    /// <summary>The six training sets of the profile (OG, AG, OS N1, OS N2, AG+OS N1, AG+OS N2).</summary>
    public IReadOnlyList<TrainingVariant> Variants { get; }
    public Provenance Provenance { get; }

    /// <summary>Makes (or reads) the split and cuts the tiles of every cell of the 10-class task.</summary>
    public static DataPreparation Create(CellDataset dataset, SplitOptions options, string splitsFolder, IReadOnlyList<TrainingVariant> variants,
                                         Provenance provenance, OversamplingSettings? settings = null, IProgress<WorkProgress>? progress = null,
                                         IReadOnlyDictionary<string, SourceScale>? scales = null)
    {
        var split = DatasetSplit.Ensure(dataset, options, splitsFolder);
        var tiles = CellTiles.Build(split.Cells, settings ?? new OversamplingSettings(), progress: progress, scales: scales);
        return new DataPreparation(dataset, split, tiles, variants, provenance);
    }

    public TrainingVariant Variant(string name) => Variants.FirstOrDefault(v => v.Name.Equals(TrainingVariant.Parse(name).Name, StringComparison.Ordinal))
                                                   ?? TrainingVariant.Parse(name);

    /// <summary>The training set <paramref name="variant"/> of the training side (all five folds, or all but
    /// <paramref name="validationFold"/>).</summary>
    public SampleSet Build(TrainingVariant variant, int? validationFold = null, IProgress<WorkProgress>? progress = null)
    {
        if (_built.TryGetValue((variant.Name, validationFold), out var set)) return set;
        SplitSides sides = Split.Sides(validationFold);
        set = SampleSet.Build(variant, Tiles, sides.Train, Provenance.Seed, sides.Description, progress);
        _built[(variant.Name, validationFold)] = set;
        return set;
    }

    public SampleSet Build(string variant, int? validationFold = null, IProgress<WorkProgress>? progress = null) => Build(Variant(variant), validationFold, progress);

    /// <summary>The test set as the network sees it: each cell's original crop, no augmentation.</summary>
    public SampleSet TestSet() => SampleSet.Original(Tiles, Split.Test, "test set");

    // ---------------------------------------------------------------- tables

    public HtmlView SplitSummary() => Split.Summary(Provenance);

    /// <summary>How the tiles were cut: which cells can be re-cropped, and by how much.</summary>
    public HtmlView SourceSummary()
    {
        var rows = Tiles.Tiles.GroupBy(t => (t.Source, t.Bound)).OrderBy(g => g.Key.Source).ThenBy(g => g.Key.Bound, StringComparer.Ordinal)
            .Select(g => (IReadOnlyList<object?>)[g.Key.Source.ToString(), g.Key.Bound, g.Count(), g.Min(t => t.MaxShift), g.Max(t => t.MaxShift)]).ToList();
        return HtmlView.Concat(
            HtmlView.Table($"Where re-crops come from ({Tiles.Settings}) - {Provenance.Stamp}", ["source", "shift bounded by", "cells", "min shift px", "max shift px"], rows),
            HtmlView.Table("Notes", ["note"], Tiles.Notes.Select(n => (IReadOnlyList<object?>)[n])));
    }

    /// <summary>Per class: training cells, crops per cell and images in one variant, with what was subsampled.</summary>
    public HtmlView PreparationTable(TrainingVariant variant, int? validationFold = null)
    {
        SampleSet set = Build(variant, validationFold);
        var rows = set.Classes.Select(c => (IReadOnlyList<object?>)[c.Class.Label(), c.TrainingCells, c.CellsUsed,
            c.MinCropsPerCell == c.MaxCropsPerCell ? c.MinCropsPerCell.ToString(CultureInfo.InvariantCulture) : $"{c.MinCropsPerCell}-{c.MaxCropsPerCell}",
            c.Images, c.DuplicatesDropped, c.Note]).ToList();
        rows.Add(["all", set.Classes.Sum(c => c.TrainingCells), set.Classes.Sum(c => c.CellsUsed), "", set.Count, set.DuplicatesDropped, ""]);
        return HtmlView.Concat(
            HtmlView.Table($"{variant.Name} from {set.Side} - {Provenance.Stamp}", ["class", "training cells", "cells used", "crops per cell", "images", "duplicates dropped", "note"], rows),
            HtmlView.Table("Notes", ["note"], (set.Notes.Count == 0 ? ["nothing subsampled or dropped"] : set.Notes).Select(n => (IReadOnlyList<object?>)[n])));
    }

    /// <summary>
    /// The six training sets' sizes beside the paper's. The paper quotes its sizes for the whole dataset (2,174 images);
    /// ours are built from the training side only, so OG and AG are smaller by construction, while OS and AG+OS have
    /// a fixed size per class whatever the split.
    /// </summary>
    public HtmlView TrainingSetSizes(int? validationFold = null)
    {
        var rows = Variants.Select(v =>
        {
            SampleSet set = Build(v, validationFold);
            return (IReadOnlyList<object?>)[v.Name, set.DistinctCells.Count(), set.Count.ToString("N0", CultureInfo.InvariantCulture), set.DuplicatesDropped, v.PaperImages?.ToString("N0", CultureInfo.InvariantCulture) ?? "-",
                set.Notes.Any(n => n.Contains("subsampled", StringComparison.Ordinal)) ? "classes above N subsampled" : ""];
        }).ToList();
        string caption = $"The six training sets, built from the training side ({Split.Sides(validationFold).Description}) - {Provenance.Stamp}. " +
                         "The paper's sizes are for its whole 2,174-image dataset" + (Provenance.Synthetic ? "; ours are on synthetic data, not comparable." : ".");
        return HtmlView.Table(caption, ["training set", "cells", "images", "D4 duplicates dropped", "paper's size", "note"], rows);
    }

    /// <summary>The YUV statistics of a training set, which normalise its validation and test images too.</summary>
    public HtmlView NormalisationTable(TrainingVariant variant, int? validationFold = null)
    {
        ColourNormalisation n = Build(variant, validationFold).Normalisation(Provenance.Data);
        string[] channel = ["Y", "U", "V"];
        return HtmlView.Table($"Normalisation statistics ({n.Space}) of {n.ComputedOn} - {Provenance.Stamp}", ["channel", "mean", "std"],
            Enumerable.Range(0, 3).Select(c => (IReadOnlyList<object?>)[channel[c], n.Mean[c].ToString("0.00000", CultureInfo.InvariantCulture), n.Std[c].ToString("0.00000", CultureInfo.InvariantCulture)]));
    }

    // ---------------------------------------------------------------- figures

    private static readonly (byte, byte, byte) Ink = (30, 30, 40), PaperWhite = (255, 255, 255), Band = (236, 236, 242), Cross = (255, 230, 0);

    /// <summary>One training cell of class <paramref name="k"/>, chosen with the seed among those that can be re-cropped.</summary>
    public CellTile? ExampleCell(CellClass k, int? validationFold = null)
    {
        var candidates = Split.Sides(validationFold).Train.Where(c => c.Label.Class == k).Select(c => Tiles[c])
                              .OrderBy(t => t.Cell.CellId, StringComparer.Ordinal).ToList();
        if (candidates.Count == 0) return null;
        var movable = candidates.Where(t => t.MaxShift > 0).ToList();
        var pool = movable.Count > 0 ? movable : candidates;
        return pool[Rng.For(Provenance.Seed, Rng.Key("example-cell"), (long)k).Next(0, pool.Count)];
    }

    /// <summary>
    /// The paper's Fig 2A and beyond: for one training cell of each class, the original crop and
    /// <paramref name="recrops"/> re-crops at the shifted centres the oversampler would use, each labelled with its
    /// shift; a yellow mark shows the cell's true centre.
    /// </summary>
    public RgbImage OversamplingFigure(int recrops = 7)
    {
        const int tile = 96, gap = 4, header = 34, footer = 26, labelW = 186, caption = 12;
        var rows = CellTaxonomy.All.Select(k => (k, ExampleCell(k))).Where(r => r.Item2 is not null).ToList();
        int width = Math.Max(labelW + (recrops + 1) * (tile + gap) + gap, StampFont.Measure(Provenance.Stamp, 1) + 2 * gap);
        var img = new RgbImage(width, header + rows.Count * (tile + caption + gap) + footer);
        img.Fill(PaperWhite);
        StampFont.FillRect(img, 0, 0, img.Width, header - 4, Band);
        StampFont.Draw(img, $"OVERSAMPLING BY RE-CROPPING - ORIGINAL + {recrops} SHIFTED CENTRES ({Tiles.Settings.MaxShiftPx} PX MAX)", gap + 2, 8, Ink, 2);
        int y = header;
        foreach (var (k, cell) in rows)
        {
            StampFont.Draw(img, k.Code(), gap, y + 30, Ink, 2);
            StampFont.Draw(img, k.DisplayName().ToUpperInvariant(), gap, y + 52, Ink, 1);
            int crops = cell!.MaxShift == 0 ? 1 : recrops + 1;
            var offsets = SampleSet.Offsets(cell, crops, Provenance.Seed, 0, "figure").ToList();
            for (int i = 0; i < offsets.Count; i++)
            {
                var (dx, dy) = offsets[i];
                RgbImage patch = cell.Patch(dx, dy);
                // Mark the cell's true centre: it sits at (48 - dx, 48 - dy) in a crop shifted by (dx, dy).
                int mx = tile / 2 - dx, my = tile / 2 - dy;
                StampFont.FillRect(patch, mx - 3, my, 7, 1, Cross);
                StampFont.FillRect(patch, mx, my - 3, 1, 7, Cross);
                int x = labelW + i * (tile + gap);
                img.Paste(patch, x, y);
                StampFont.Draw(img, i == 0 ? "ORIGINAL" : $"{dx:+0;-0;0},{dy:+0;-0;0}", x, y + tile + 2, Ink, 1);
            }
            if (crops == 1) StampFont.Draw(img, $"CANNOT BE RE-CROPPED: {cell.Bound.ToUpperInvariant()}", labelW + tile + 2 * gap, y + 40, Ink, 1);
            y += tile + caption + gap;
        }
        StampFont.Draw(img, Provenance.Stamp, gap, img.Height - footer + 8, Ink, 1);
        return img;
    }

    /// <summary><see cref="OversamplingFigure"/> for inline display.</summary>
    public HtmlView OversamplingExamples(int recrops = 7) => Inline(OversamplingFigure(recrops), "one training cell per class: original and re-crops at shifted centres");

    /// <summary><see cref="AugmentationFigure"/> for inline display.</summary>
    public HtmlView AugmentationExamples(CellClass k = CellClass.BandNeutrophil) => Inline(AugmentationFigure(k), "the 8 D4 images of one training cell");

    private static HtmlView Inline(RgbImage image, string text) => Figures.Inline(image, text);

    /// <summary>Fig 2B: the 8 D4 images of one training cell of class <paramref name="k"/> (default: band
    /// neutrophil, whose bent nucleus makes every rotation visible), with the duplicate check on them.</summary>
    public RgbImage AugmentationFigure(CellClass k = CellClass.BandNeutrophil)
    {
        CellTile cell = ExampleCell(k) ?? ExampleCell(CellTaxonomy.All.First(c => ExampleCell(c) is not null))!;
        RgbImage patch = cell.Patch(0, 0);
        return D4Figure(patch, $"AUGMENTATION (D4) - {cell.Cell.Label.ToString().ToUpperInvariant()} CELL {cell.Cell.CellId.ToUpperInvariant()}");
    }

    /// <summary>The 8 D4 images of <paramref name="patch"/>, each labelled; an image identical to an earlier one is
    /// crossed out and marked DUPLICATE.</summary>
    public RgbImage D4Figure(RgbImage patch, string title)
    {
        const int tile = 96, gap = 6, header = 34, footer = 26, caption = 14;
        var kept = D4.DistinctFor(patch);
        int width = Math.Max(4 * (tile + gap) + gap, StampFont.Measure(Provenance.Stamp, 1) + 2 * gap);
        width = Math.Max(width, StampFont.Measure(title, 2) + 2 * gap);
        var img = new RgbImage(width, header + 2 * (tile + caption + gap) + 14 + footer);
        img.Fill(PaperWhite);
        StampFont.FillRect(img, 0, 0, img.Width, header - 4, Band);
        StampFont.Draw(img, title, gap, 8, Ink, 2);
        foreach (D4 g in D4.All)
        {
            int x = gap + (g.Index % 4) * (tile + gap), y = header + (g.Index / 4) * (tile + caption + gap);
            RgbImage t = g.Apply(patch);
            bool duplicate = !kept.Contains(g);
            if (duplicate)
                for (int i = 0; i < tile; i++) { StampFont.FillRect(t, i, i, 2, 2, (200, 0, 0)); StampFont.FillRect(t, tile - 2 - i, i, 2, 2, (200, 0, 0)); }
            img.Paste(t, x, y);
            StampFont.Draw(img, (duplicate ? "DUPLICATE " : "") + g.Name.ToUpperInvariant(), x, y + tile + 3, Ink, 1);
        }
        StampFont.Draw(img, $"{kept.Count} DISTINCT OF 8 - {8 - kept.Count} DUPLICATE(S) DROPPED", gap, img.Height - footer - 12, Ink, 1);
        StampFont.Draw(img, Provenance.Stamp, gap, img.Height - footer + 8, Ink, 1);
        return img;
    }

    /// <summary>The duplicate check demonstrated: the example cell (asymmetric, 8 distinct images) beside the same
    /// cell made mirror-symmetric (its left half reflected onto the right), which D4 maps onto itself in pairs.</summary>
    public HtmlView DuplicateCheck()
    {
        CellTile cell = ExampleCell(CellClass.BandNeutrophil) ?? ExampleCell(CellTaxonomy.All.First(c => ExampleCell(c) is not null))!;
        RgbImage patch = cell.Patch(0, 0);
        RgbImage mirrored = new(patch.Width, patch.Height, (byte[])patch.Pixels.Clone());
        for (int y = 0; y < patch.Height; y++)
            for (int x = patch.Width / 2; x < patch.Width; x++) mirrored[x, y] = patch[patch.Width - 1 - x, y];
        var rows = Variants.Where(v => v.Augment).Select(v =>
        {
            SampleSet set = Build(v);
            int crops = set.Classes.Sum(c => c.Crops);
            return (IReadOnlyList<object?>)[v.Name, crops, 8 * crops, set.DuplicatesDropped, set.Count];
        }).ToList();
        var demo = D4Figure(mirrored, "SAME CELL MADE MIRROR-SYMMETRIC: FEWER DISTINCT IMAGES");
        return HtmlView.Concat(
            HtmlView.Table($"Duplicate check on the augmented training sets - {Provenance.Stamp}", ["training set", "crops", "8 x crops", "identical D4 images dropped", "images kept"], rows),
            new HtmlView($"<img src=\"{demo.ToDataUri()}\"/>", $"symmetric demo: {D4.DistinctFor(mirrored).Count} distinct of 8"));
    }

    /// <summary>Per class, training images before (OG) and after each variant, on a log scale (AG variants are 8×).</summary>
    public GenericChart ClassCountsChart(int? validationFold = null)
    {
        var charts = Variants.Select(v =>
        {
            SampleSet set = Build(v, validationFold);
            var counts = set.Classes.Where(c => Tiles.Tiles.Any(t => t.Cell.Label.Class == c.Class)).ToList();
            return Chart.Column<int, string, string>(values: counts.Select(c => c.Images).ToArray(), Keys: counts.Select(c => c.Class.Label()).ToArray(), Name: $"{v.Name} ({set.Count:N0})");
        });
        return Chart.Combine(charts)
            .Titled($"Training images per class, per training set (log scale)<br><sub>{Provenance.Stamp}</sub>")
            .WithYAxisStyle<double, double, string>(TitleText: "training images", AxisType: StyleParam.AxisType.Log)
            .WithSize(1000, 500);
    }

    /// <summary>Streams <paramref name="batches"/> batches of a training set through the loader and reports the
    /// rate; the first batch's per-channel mean and std show the normalisation at work (near 0 and 1).</summary>
    public HtmlView LoaderCheck(TrainingVariant variant, int batches = 20, int batchSize = 40, IProgress<WorkProgress>? progress = null)
    {
        SampleSet set = Build(variant);
        var loader = new BatchLoader(set, set.Normalisation(Provenance.Data), batchSize, Provenance.Seed);
        var clock = Stopwatch.StartNew();
        int seen = 0, n = 0;
        double[] mean = new double[3], sq = new double[3];
        foreach (Batch b in loader.Epoch(0))
        {
            using (b)
            {
                if (n == 0)
                {
                    int plane = 96 * 96;
                    for (int i = 0; i < b.Count; i++)
                        for (int c = 0; c < 3; c++)
                            for (int p = 0; p < plane; p++) { double v = b.Inputs[(i * 3 + c) * plane + p]; mean[c] += v; sq[c] += v * v; }
                    for (int c = 0; c < 3; c++) { mean[c] /= b.Count * plane; sq[c] = Math.Sqrt(sq[c] / (b.Count * plane) - mean[c] * mean[c]); }
                }
                seen += b.Count; n++;
                progress?.Report(new WorkProgress($"streaming {variant.Name}", n, Math.Min(batches, loader.BatchesPerEpoch), clock.Elapsed));
                if (n >= batches) break;
            }
        }
        double rate = seen / clock.Elapsed.TotalSeconds;
        return HtmlView.Table($"Batch loader on {variant.Name} ({set.Count:N0} images, {loader.BatchesPerEpoch} batches of {batchSize} per epoch) - {Provenance.Stamp}", ["", ""],
        [
            ["batches streamed", n], ["images", seen], ["images per second", Math.Round(rate)],
            ["first batch Y, U, V mean", string.Join(", ", mean.Select(m => m.ToString("0.000", CultureInfo.InvariantCulture)))],
            ["first batch Y, U, V std", string.Join(", ", sq.Select(m => m.ToString("0.000", CultureInfo.InvariantCulture)))],
            ["memory held by cell tiles", $"{Tiles.Bytes / 1048576.0:0.0} MB"],
        ]);
    }

    /// <summary>Saves notebook <paramref name="notebook"/>'s figures for the phantom (named by size and seed); real
    /// images' figures stay out of the project.</summary>
    public HtmlView SaveFiguresIfSynthetic(string folder, string notebook)
    {
        var phantom = MarrowPhantom.Describe(Dataset.Root);
        if (phantom is null)
            return new HtmlView("<p>Not saved: figures of real images stay out of the project (they would copy the images).</p>", "Not saved: figures of real images stay out of the project.");
        string name = $"{notebook}-phantom-{phantom["size"]}-seed{phantom["seed"]}";
        var written = new List<string>();
        void Save(string file, Action<string> write) { string p = Path.Combine(folder, file); write(p); written.Add(p); }
        if (notebook.StartsWith("02", StringComparison.Ordinal))
        {
            Save($"{name}-recrops.png", p => OversamplingFigure().SavePng(p));
            Save($"{name}-class-counts.html", p => AtomicFile.WriteAllText(p, GenericChart.toEmbeddedHTML(ClassCountsChart())));
        }
        else
        {
            Save($"{name}-d4.png", p => AugmentationFigure().SavePng(p));
            Save($"{name}-training-sets.md", p => AtomicFile.WriteAllText(p, TrainingSetSizesMarkdown()));
        }
        return HtmlView.Table($"Saved {written.Count} figures - {Provenance.Stamp}", ["file"], written.Select(f => (IReadOnlyList<object?>)[Path.GetFileName(f)]));
    }

    /// <summary>The sizes table as Markdown, stamped, for figures/.</summary>
    public string TrainingSetSizesMarkdown()
    {
        var md = new StringBuilder($"<!-- {Provenance.Stamp} -->\n\n");
        md.Append($"Training sets built from the training side ({Split.Sides().Description}).  \n{Provenance.Stamp}\n\n");
        md.Append("| training set | cells | images | D4 duplicates dropped | paper's size (whole dataset) |\n|---|---:|---:|---:|---:|\n");
        foreach (var v in Variants)
        {
            SampleSet set = Build(v);
            md.Append(CultureInfo.InvariantCulture, $"| {v.Name} | {set.DistinctCells.Count()} | {set.Count} | {set.DuplicatesDropped} | {v.PaperImages?.ToString("N0", CultureInfo.InvariantCulture) ?? "-"} |\n");
        }
        if (Provenance.Synthetic) md.Append("\nSynthetic phantom data: sizes only; no accuracy here is comparable with the paper.\n");
        return md.ToString();
    }
}
