using System.Globalization;
using System.Text;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Phantom;
using MarrowDiff.Preparation;
using Plotly.NET;

namespace MarrowDiff.Reports;

/// <summary>Notebooks 02 and 03 as a person reads them: the split and its sources, the training sets and their sizes,
/// normalisation statistics, re-crop and D4 figures (the paper's Fig 2), the duplicate and loader checks, and the
/// figures saved for figures/.</summary>
public static class PreparationViews
{
    // ---------------------------------------------------------------- tables

    public static HtmlView SplitSummary(this DataPreparation e) => e.Split.Summary(e.Provenance);

    /// <summary>How the tiles were cut: which cells can be re-cropped, and by how much.</summary>
    public static HtmlView SourceSummary(this DataPreparation e)
    {
        var rows = e.Tiles.Tiles.GroupBy(t => (t.Source, t.Bound)).OrderBy(g => g.Key.Source).ThenBy(g => g.Key.Bound, StringComparer.Ordinal)
            .Select(g => (IReadOnlyList<object?>)[g.Key.Source.ToString(), g.Key.Bound, g.Count(), g.Min(t => t.MaxShift), g.Max(t => t.MaxShift)]).ToList();
        return HtmlView.Concat(
            HtmlView.Table($"Where re-crops come from ({e.Tiles.Settings}) - {e.Provenance.Stamp}", ["source", "shift bounded by", "cells", "min shift px", "max shift px"], rows),
            HtmlView.Table("Notes", ["note"], e.Tiles.Notes.Select(n => (IReadOnlyList<object?>)[n])));
    }

    /// <summary>Per class: training cells, crops per cell and images in one variant, with what was subsampled.</summary>
    public static HtmlView PreparationTable(this DataPreparation e, TrainingVariant variant, int? validationFold = null)
    {
        SampleSet set = e.Build(variant, validationFold);
        var rows = set.Classes.Select(c => (IReadOnlyList<object?>)[c.Class.Label(), c.TrainingCells, c.CellsUsed,
            c.MinCropsPerCell == c.MaxCropsPerCell ? c.MinCropsPerCell.ToString(CultureInfo.InvariantCulture) : $"{c.MinCropsPerCell}-{c.MaxCropsPerCell}",
            c.Images, c.DuplicatesDropped, c.Note]).ToList();
        rows.Add(["all", set.Classes.Sum(c => c.TrainingCells), set.Classes.Sum(c => c.CellsUsed), "", set.Count, set.DuplicatesDropped, ""]);
        return HtmlView.Concat(
            HtmlView.Table($"{variant.Name} from {set.Side} - {e.Provenance.Stamp}", ["class", "training cells", "cells used", "crops per cell", "images", "duplicates dropped", "note"], rows),
            HtmlView.Table("Notes", ["note"], (set.Notes.Count == 0 ? ["nothing subsampled or dropped"] : set.Notes).Select(n => (IReadOnlyList<object?>)[n])));
    }

    /// <summary>
    /// The six training sets' sizes beside the paper's. The paper quotes its sizes for the whole dataset (2,174 images);
    /// ours are built from the training side only, so OG and AG are smaller by construction, while OS and AG+OS have
    /// a fixed size per class whatever the split.
    /// </summary>
    public static HtmlView TrainingSetSizes(this DataPreparation e, int? validationFold = null)
    {
        var rows = e.Variants.Select(v =>
        {
            SampleSet set = e.Build(v, validationFold);
            return (IReadOnlyList<object?>)[v.Name, set.DistinctCells.Count(), set.Count.ToString("N0", CultureInfo.InvariantCulture), set.DuplicatesDropped, v.PaperImages?.ToString("N0", CultureInfo.InvariantCulture) ?? "-",
                set.Notes.Any(n => n.Contains("subsampled", StringComparison.Ordinal)) ? "classes above N subsampled" : ""];
        }).ToList();
        string caption = $"The six training sets, built from the training side ({e.Split.Sides(validationFold).Description}) - {e.Provenance.Stamp}. " +
                         "The paper's sizes are for its whole 2,174-image dataset" + (e.Provenance.Synthetic ? "; ours are on synthetic data, not comparable." : ".");
        return HtmlView.Table(caption, ["training set", "cells", "images", "D4 duplicates dropped", "paper's size", "note"], rows);
    }

    /// <summary>The YUV statistics of a training set, which normalise its validation and test images too.</summary>
    public static HtmlView NormalisationTable(this DataPreparation e, TrainingVariant variant, int? validationFold = null)
    {
        ColourNormalisation n = e.Build(variant, validationFold).Normalisation(e.Provenance.Data);
        string[] channel = ["Y", "U", "V"];
        return HtmlView.Table($"Normalisation statistics ({n.Space}) of {n.ComputedOn} - {e.Provenance.Stamp}", ["channel", "mean", "std"],
            Enumerable.Range(0, 3).Select(c => (IReadOnlyList<object?>)[channel[c], n.Mean[c].ToString("0.00000", CultureInfo.InvariantCulture), n.Std[c].ToString("0.00000", CultureInfo.InvariantCulture)]));
    }

    // ---------------------------------------------------------------- figures

    private static readonly (byte, byte, byte) Ink = (30, 30, 40), PaperWhite = (255, 255, 255), Band = (236, 236, 242), Cross = (255, 230, 0);


    /// <summary>
    /// The paper's Fig 2A and beyond: for one training cell of each class, the original crop and
    /// <paramref name="recrops"/> re-crops at the shifted centres the oversampler would use, each labelled with its
    /// shift; a yellow mark shows the cell's true centre.
    /// </summary>
    public static RgbImage OversamplingFigure(this DataPreparation e, int recrops = 7)
    {
        const int tile = CellPatch.Size, gap = 4, header = 34, footer = 26, labelW = 186, caption = 12;
        var rows = CellTaxonomy.All.Select(k => (k, e.ExampleCell(k))).Where(r => r.Item2 is not null).ToList();
        int width = Math.Max(labelW + (recrops + 1) * (tile + gap) + gap, FigureText.Measure(e.Provenance.Stamp, 1) + 2 * gap);
        var img = new RgbImage(width, header + rows.Count * (tile + caption + gap) + footer);
        img.Fill(PaperWhite);
        img.FillRect(0, 0, img.Width, header - 4, Band);
        FigureText.Draw(img, $"Oversampling by re-cropping: the original and {recrops} shifted centres ({e.Tiles.Settings.MaxShiftPx} px at most)", gap + 2, 8, Ink, 2);
        int y = header;
        foreach (var (k, cell) in rows)
        {
            FigureText.Draw(img, k.Code(), gap, y + 30, Ink, 2);
            FigureText.Draw(img, k.DisplayName(), gap, y + 52, Ink, 1);
            int crops = cell!.MaxShift == 0 ? 1 : recrops + 1;
            var offsets = SampleSet.Offsets(cell, crops, e.Provenance.Seed, 0, "figure").ToList();
            for (int i = 0; i < offsets.Count; i++)
            {
                var (dx, dy) = offsets[i];
                RgbImage patch = cell.Patch(dx, dy);
                // Mark the cell's true centre: it sits at (48 - dx, 48 - dy) in a crop shifted by (dx, dy).
                int mx = tile / 2 - dx, my = tile / 2 - dy;
                patch.FillRect(mx - 3, my, 7, 1, Cross);
                patch.FillRect(mx, my - 3, 1, 7, Cross);
                int x = labelW + i * (tile + gap);
                img.Paste(patch, x, y);
                FigureText.Draw(img, i == 0 ? "original" : $"{dx:+0;-0;0},{dy:+0;-0;0}", x, y + tile + 2, Ink, 1);
            }
            if (crops == 1) FigureText.Draw(img, $"cannot be re-cropped: {cell.Bound}", labelW + tile + 2 * gap, y + 40, Ink, 1);
            y += tile + caption + gap;
        }
        FigureText.Draw(img, e.Provenance.Stamp, gap, img.Height - footer + 8, Ink, 1);
        return img;
    }

    /// <summary><see cref="OversamplingFigure"/> for inline display.</summary>
    public static HtmlView OversamplingExamples(this DataPreparation e, int recrops = 7) => Inline(e.OversamplingFigure(recrops), "one training cell per class: original and re-crops at shifted centres");

    /// <summary><see cref="AugmentationFigure"/> for inline display.</summary>
    public static HtmlView AugmentationExamples(this DataPreparation e, CellClass k = CellClass.BandNeutrophil) => Inline(e.AugmentationFigure(k), "the 8 D4 images of one training cell");

    // Photographs of cells: JPEG on screen (the figures/ files stay PNG).
    private static HtmlView Inline(RgbImage image, string text) => Figures.InlinePhoto(image, text);

    /// <summary>Fig 2B: the 8 D4 images of one training cell of class <paramref name="k"/> (default: band
    /// neutrophil, whose bent nucleus makes every rotation visible), with the duplicate check on them.</summary>
    public static RgbImage AugmentationFigure(this DataPreparation e, CellClass k = CellClass.BandNeutrophil)
    {
        CellTile cell = e.ExampleCell(k) ?? e.ExampleCell(CellTaxonomy.All.First(c => e.ExampleCell(c) is not null))!;
        RgbImage patch = cell.Patch(0, 0);
        return e.D4Figure(patch, $"Augmentation (D4): {cell.Cell.Label} cell {cell.Cell.CellId}");
    }

    /// <summary>The 8 D4 images of <paramref name="patch"/>, each labelled; an image identical to an earlier one is
    /// crossed out and marked DUPLICATE.</summary>
    public static RgbImage D4Figure(this DataPreparation e, RgbImage patch, string title)
    {
        const int tile = CellPatch.Size, gap = 6, header = 34, footer = 26, caption = 14;
        var kept = D4.DistinctFor(patch);
        int width = Math.Max(4 * (tile + gap) + gap, FigureText.Measure(e.Provenance.Stamp, 1) + 2 * gap);
        width = Math.Max(width, FigureText.Measure(title, 2) + 2 * gap);
        var img = new RgbImage(width, header + 2 * (tile + caption + gap) + 14 + footer);
        img.Fill(PaperWhite);
        img.FillRect(0, 0, img.Width, header - 4, Band);
        FigureText.Draw(img, title, gap, 8, Ink, 2);
        foreach (D4 g in D4.All)
        {
            int x = gap + (g.Index % 4) * (tile + gap), y = header + (g.Index / 4) * (tile + caption + gap);
            RgbImage t = g.Apply(patch);
            bool duplicate = !kept.Contains(g);
            if (duplicate)
                for (int i = 0; i < tile; i++) { t.FillRect(i, i, 2, 2, (200, 0, 0)); t.FillRect(tile - 2 - i, i, 2, 2, (200, 0, 0)); }
            img.Paste(t, x, y);
            FigureText.Draw(img, (duplicate ? "duplicate " : "") + g.Name, x, y + tile + 3, Ink, 1);
        }
        FigureText.Draw(img, $"{kept.Count} distinct of 8; {8 - kept.Count} duplicate(s) dropped", gap, img.Height - footer - 12, Ink, 1);
        FigureText.Draw(img, e.Provenance.Stamp, gap, img.Height - footer + 8, Ink, 1);
        return img;
    }

    /// <summary>The duplicate check demonstrated: the example cell (asymmetric, 8 distinct images) beside the same
    /// cell made mirror-symmetric (its left half reflected onto the right), which D4 maps onto itself in pairs.</summary>
    public static HtmlView DuplicateCheck(this DataPreparation e)
    {
        CellTile cell = e.ExampleCell(CellClass.BandNeutrophil) ?? e.ExampleCell(CellTaxonomy.All.First(c => e.ExampleCell(c) is not null))!;
        RgbImage patch = cell.Patch(0, 0);
        RgbImage mirrored = new(patch.Width, patch.Height, (byte[])patch.Pixels.Clone());
        for (int y = 0; y < patch.Height; y++)
            for (int x = patch.Width / 2; x < patch.Width; x++) mirrored[x, y] = patch[patch.Width - 1 - x, y];
        var rows = e.Variants.Where(v => v.Augment).Select(v =>
        {
            SampleSet set = e.Build(v);
            int crops = set.Classes.Sum(c => c.Crops);
            return (IReadOnlyList<object?>)[v.Name, crops, 8 * crops, set.DuplicatesDropped, set.Count];
        }).ToList();
        var demo = e.D4Figure(mirrored, "The same cell made mirror-symmetric: fewer distinct images");
        return HtmlView.Concat(
            HtmlView.Table($"Duplicate check on the augmented training sets - {e.Provenance.Stamp}", ["training set", "crops", "8 x crops", "identical D4 images dropped", "images kept"], rows),
            Inline(demo, $"symmetric demo: {D4.DistinctFor(mirrored).Count} distinct of 8"));
    }

    /// <summary>Per class, training images before (OG) and after each variant, on a log scale (AG variants are 8×).</summary>
    public static ChartView ClassCountsChart(this DataPreparation e, int? validationFold = null)
    {
        var sets = e.Variants.Select(v =>
        {
            SampleSet set = e.Build(v, validationFold);
            return (Name: $"{v.Name} ({set.Count:N0})", Counts: set.Classes.Where(c => e.Tiles.Tiles.Any(t => t.Cell.Label.Class == c.Class)).ToList());
        }).ToList();
        return new BarChartSpec("Training images per class, per training set (log scale)",
            [e.Provenance.Synthetic ? "Synthetic phantom." : "Real images.", "The number after each training set is its images in all."], "class", "training images",
            [.. sets[0].Counts.Select(c => c.Class.Code())], [.. sets.Select(s => (s.Name, (IReadOnlyList<double>)[.. s.Counts.Select(c => (double)c.Images)]))],
            e.Provenance, LogScale: true) { Size = (1000, 500) }.View("[chart: training images per class, per training set]");
    }

    /// <summary>The batch loader on a training set (<see cref="LoaderMeasurement"/>): its rate, and the first batch's
    /// per-channel mean and std, which show the normalisation at work (near 0 and 1).</summary>
    public static HtmlView LoaderCheck(this DataPreparation e, TrainingVariant variant, int batches = 20, int batchSize = 40, IProgress<WorkProgress>? progress = null)
    {
        var m = LoaderMeasurement.Stream(e, variant, batches, batchSize, progress);
        return HtmlView.Table($"Batch loader on {variant.Name} ({m.Images:N0} images, {m.BatchesPerEpoch} batches of {batchSize} per epoch) - {e.Provenance.Stamp}", ["", ""],
        [
            ["batches streamed", m.Batches], ["images", m.Streamed], ["images per second", Math.Round(m.ImagesPerSecond)],
            ["first batch Y, U, V mean", string.Join(", ", m.FirstBatchMean.Select(x => x.ToString("0.000", CultureInfo.InvariantCulture)))],
            ["first batch Y, U, V std", string.Join(", ", m.FirstBatchStd.Select(x => x.ToString("0.000", CultureInfo.InvariantCulture)))],
            ["memory held by cell tiles", $"{m.TileBytes / 1048576.0:0.0} MB"],
        ]);
    }

    /// <summary>Notebook 02's figures for the phantom (named by size and seed): the re-crops and the class counts. Real
    /// images' figures stay out of the project.</summary>
    public static HtmlView SaveOversamplingFiguresIfSynthetic(this DataPreparation e, string folder) =>
        e.SaveIfSynthetic(folder, "02", [("recrops.png", p => e.OversamplingFigure().SavePng(p)),
                                         ("class-counts.html", p => AtomicFile.WriteAllText(p, GenericChart.toEmbeddedHTML(e.ClassCountsChart().Chart)))]);

    /// <summary>Notebook 03's figures for the phantom: the eight D4 images of a cell and the training sets' sizes.</summary>
    public static HtmlView SaveAugmentationFiguresIfSynthetic(this DataPreparation e, string folder) =>
        e.SaveIfSynthetic(folder, "03", [("d4.png", p => e.AugmentationFigure().SavePng(p)),
                                         ("training-sets.md", p => AtomicFile.WriteAllText(p, e.TrainingSetSizesMarkdown()))]);

    private static HtmlView SaveIfSynthetic(this DataPreparation e, string folder, string prefix, IReadOnlyList<(string Suffix, Action<string> Write)> figures)
    {
        var phantom = MarrowPhantom.Describe(e.Dataset.Root);
        if (phantom is null)
            return new HtmlView("<p>Not saved: figures of real images stay out of the project (they would copy the images).</p>", "Not saved: figures of real images stay out of the project.");
        string name = $"{prefix}-phantom-{phantom["size"]}-seed{phantom["seed"]}";
        var written = new List<string>();
        foreach (var (suffix, write) in figures) { string p = Path.Combine(folder, $"{name}-{suffix}"); write(p); written.Add(p); }
        return HtmlView.Table($"Saved {written.Count} figures - {e.Provenance.Stamp}", ["file"], written.Select(f => (IReadOnlyList<object?>)[Path.GetFileName(f)]));
    }

    /// <summary>The sizes table as Markdown, stamped, for figures/.</summary>
    public static string TrainingSetSizesMarkdown(this DataPreparation e)
    {
        var md = new StringBuilder($"<!-- {e.Provenance.Stamp} -->\n\n");
        md.Append($"Training sets built from the training side ({e.Split.Sides().Description}).  \n{e.Provenance.Stamp}\n\n");
        md.Append("| training set | cells | images | D4 duplicates dropped | paper's size (whole dataset) |\n|---|---:|---:|---:|---:|\n");
        foreach (var v in e.Variants)
        {
            SampleSet set = e.Build(v);
            md.Append(CultureInfo.InvariantCulture, $"| {v.Name} | {set.DistinctCells.Count()} | {set.Count} | {set.DuplicatesDropped} | {v.PaperImages?.ToString("N0", CultureInfo.InvariantCulture) ?? "-"} |\n");
        }
        if (e.Provenance.Synthetic) md.Append("\nSynthetic phantom data: sizes only; no accuracy here is comparable with the paper.\n");
        return md.ToString();
    }

    /// <summary>Cells per class in the test set and each fold, with the grouping named.</summary>
    public static HtmlView Summary(this DatasetSplit split, Provenance provenance)
    {
        var header = new List<string> { "class", "all", "test" };
        header.AddRange(Enumerable.Range(1, SplitOptions.Folds).Select(f => $"fold {f}"));
        header.Add("test share");
        var rows = new List<IReadOnlyList<object?>>();
        foreach (var k in CellTaxonomy.All.Append((CellClass)0))
        {
            var cells = k == 0 ? split.Cells : split.Cells.Where(c => c.Label.Class == k).ToList();
            if (cells.Count == 0) continue;
            var row = new List<object?> { k == 0 ? "all classes" : k.Label(), cells.Count };
            for (int p = 0; p <= SplitOptions.Folds; p++) row.Add(cells.Count(c => split.PartOf(c) == p));
            row.Add($"{Percent.Of((double)cells.Count(c => split.PartOf(c) == DatasetSplit.TestPart) / cells.Count)}%");
            rows.Add(row);
        }
        string caption = $"Split ({split.Options}) - {provenance.Stamp}";
        return HtmlView.Concat(HtmlView.Table(caption, header, rows),
                               HtmlView.Table("How the split was made", ["note"], split.Notes.Select(n => (IReadOnlyList<object?>)[n])));
    }
}
