using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Imaging;

namespace MarrowDiff.Preparation;

/// <summary>One training image, described rather than stored: which cell, where its crop centre moved, which D4
/// element turns it. 8 bytes each, so AG+OS600's 48,000 images cost 384 KB until a batch renders them.</summary>
public readonly record struct Sample(int Tile, sbyte Dx, sbyte Dy, D4 Transform);

/// <summary>What a variant did to one class: how many training cells it had, how many images it made and how.</summary>
public sealed record ClassPreparation(CellClass Class, int TrainingCells, int CellsUsed, int MinCropsPerCell, int MaxCropsPerCell, int Crops, int Images, int DuplicatesDropped, string Note);

/// <summary>
/// A training (or evaluation) set: a list of <see cref="Sample"/>s over the cell tiles, rendered on demand.
/// Built from the training side of a split only, so nothing a variant does can reach a validation or test cell.
/// </summary>
public sealed class SampleSet
{
    private readonly Sample[] _samples;
    private readonly int[] _labels;

    private SampleSet(TrainingVariant variant, CellTiles tiles, Sample[] samples, IReadOnlyList<ClassPreparation> classes, IReadOnlyList<string> notes, string side,
                      IReadOnlyList<CellClass>? outputs = null)
    {
        Variant = variant; Tiles = tiles; _samples = samples; Classes = classes; Notes = notes; Side = side;
        // A set holding cells outside the ten stages answers them too unless restricted (SampleSet.Restrict).
        Outputs = outputs ?? CellTaxonomy.StagesAnd(samples.Select(s => tiles.Tiles[s.Tile].Cell.Label.Class));
        var position = Outputs.Select((k, i) => (k, i)).ToDictionary(p => p.k, p => p.i);
        _labels = samples.Select(s =>
        {
            CellClass k = tiles.Tiles[s.Tile].Cell.Label.Class!.Value;
            return position.TryGetValue(k, out int i) ? i : throw new InvalidOperationException($"{tiles.Tiles[s.Tile].Cell.Path}: {k.Label()} is not one of this set's classes");
        }).ToArray();
    }

    /// <summary>The class each label stands for: C1…C10 for the 10-class task, two classes for a local model.</summary>
    public IReadOnlyList<CellClass> Outputs { get; }

    public TrainingVariant Variant { get; }
    public CellTiles Tiles { get; }

    /// <summary>Which side of which split this set was built from.</summary>
    public string Side { get; }

    public IReadOnlyList<ClassPreparation> Classes { get; }

    /// <summary>Subsampling, absent classes, and anything else done that a reader should know.</summary>
    public IReadOnlyList<string> Notes { get; }

    public int Count => _samples.Length;

    public Sample this[int index] => _samples[index];

    /// <summary>Label of sample <paramref name="index"/>: its class's position in <see cref="Outputs"/> (0…9 = C1…C10
    /// for the 10-class task).</summary>
    public int Label(int index) => _labels[index];

    public CellImage CellOf(int index) => Tiles.Tiles[_samples[index].Tile].Cell;

    /// <summary>The distinct cells behind the samples.</summary>
    public IEnumerable<CellImage> DistinctCells => _samples.Select(s => s.Tile).Distinct().Select(t => Tiles.Tiles[t].Cell);

    public int DuplicatesDropped => Classes.Sum(c => c.DuplicatesDropped);

    /// <summary>Sample <paramref name="index"/> as an RGB patch.</summary>
    public RgbImage Render(int index)
    {
        Sample s = _samples[index];
        return s.Transform.Apply(Tiles.Tiles[s.Tile].Patch(s.Dx, s.Dy));
    }

    /// <summary>Sample <paramref name="index"/> as normalised network input (3 × 96 × 96 floats).</summary>
    public void Fill(int index, Span<float> chw, ColourNormalisation normalisation, StainJitter? jitter = null, double? angle = null)
    {
        Sample s = _samples[index];
        if (angle is { } a) Tiles.Tiles[s.Tile].FillPlanesTurned(s.Dx, s.Dy, s.Transform, a, chw);
        else Tiles.Tiles[s.Tile].FillPlanes(s.Dx, s.Dy, s.Transform, chw);
        jitter?.Apply(chw);
        normalisation.Apply(chw);
    }

    /// <summary>
    /// YUV mean and standard deviation of exactly these images. A D4 transform only moves pixels, so each distinct
    /// crop is converted once and weighted by how many samples it yields: the same numbers as converting all 48,000
    /// images of AG+OS600, in an eighth of the time.
    /// </summary>
    public ColourNormalisation Normalisation(string data)
    {
        var images = _samples.GroupBy(s => (s.Tile, s.Dx, s.Dy))
                             .Select(g => (Tiles.Tiles[g.Key.Tile].Patch(g.Key.Dx, g.Key.Dy), g.Count()));
        return ColourNormalisation.Compute(images, $"{Variant.Name}, {Side}, {Count} images; data: {data}");
    }

    /// <summary>
    /// The samples of two (or more) classes only, labelled by their position in <paramref name="classes"/>: the
    /// training set of the dual-stage network's local model (band C9 against segmented C10 in the paper) is the
    /// global model's training set restricted this way, so both stages saw the same images of those cells.
    /// </summary>
    public SampleSet Restrict(IReadOnlyList<CellClass> classes)
    {
        if (classes.Count < 2 || classes.Distinct().Count() != classes.Count)
            throw new ArgumentException($"a restricted set needs at least two different classes, got {string.Join(", ", classes.Select(c => c.Label()))}", nameof(classes));
        var keep = _samples.Where(s => classes.Contains(Tiles.Tiles[s.Tile].Cell.Label.Class!.Value)).ToArray();
        string names = string.Join("/", classes.Select(c => c.Code()));
        if (keep.Length == 0) throw new InvalidOperationException($"{Variant.Name} ({Side}) has no image of {names}");
        return new SampleSet(Variant, Tiles, keep, Classes.Where(c => classes.Contains(c.Class)).ToList(),
                             Notes.Append($"restricted to {names}: {keep.Length} of {Count} images").ToList(), $"{Side}, {names} only", classes);
    }

    /// <summary>
    /// This set as a classifier with <paramref name="outputs"/> answers it: the set itself when its classes are those
    /// outputs, else restricted to them. A local model is scored on its two classes, a model of a task on the task's,
    /// and a set holding cells outside the ten stages on the stages alone when the classifier knows no other.
    /// </summary>
    public SampleSet AnsweredBy(IReadOnlyList<CellClass> outputs) => Outputs.SequenceEqual(outputs) ? this : Restrict(outputs);

    /// <summary>The samples at <paramref name="indices"/>, in that order (same classes and labels).</summary>
    public SampleSet Subset(IReadOnlyList<int> indices, string side) =>
        new(Variant, Tiles, indices.Select(i => _samples[i]).ToArray(), Classes, Notes, side, Outputs);

    /// <summary>A set of explicitly chosen crops (cell, shift, D4 element): the invariance analyses re-crop and turn
    /// test cells this way. Every shift must lie within the cell's <see cref="CellTile.Reach"/>.</summary>
    public static SampleSet FromSamples(CellTiles tiles, IReadOnlyList<Sample> samples, string side)
    {
        foreach (var s in samples)
        {
            var tile = tiles.Tiles[s.Tile];
            if (Math.Abs(s.Dx) > tile.Reach || Math.Abs(s.Dy) > tile.Reach)
                throw new ArgumentOutOfRangeException(nameof(samples), $"shift ({s.Dx},{s.Dy}) exceeds the ±{tile.Reach} px the source image allows around {tile.Cell.Path}");
        }
        var classes = CellTaxonomy.StagesAnd(samples.Select(s => tiles.Tiles[s.Tile].Cell.Label.Class)).Select(k =>
        {
            int n = samples.Count(s => tiles.Tiles[s.Tile].Cell.Label.Class == k);
            return new ClassPreparation(k, n, n, 0, 0, n, n, 0, "");
        }).ToList();
        return new SampleSet(TrainingVariant.OG, tiles, [.. samples], classes, [], side);
    }

    /// <summary>The original crop of each cell, untransformed: how validation and test cells are seen.</summary>
    public static SampleSet Original(CellTiles tiles, IReadOnlyList<CellImage> cells, string side)
    {
        var samples = cells.Select(c => new Sample(tiles.IndexOf(c), 0, 0, D4.Identity)).ToArray();
        var classes = CellTaxonomy.StagesAnd(cells.Select(c => c.Label.Class)).Select(k =>
        {
            int n = cells.Count(c => c.Label.Class == k);
            return new ClassPreparation(k, n, n, n > 0 ? 1 : 0, n > 0 ? 1 : 0, n, n, 0, "");
        }).ToList();
        return new SampleSet(TrainingVariant.OG, tiles, samples, classes, [], side);
    }

    /// <summary>
    /// Builds <paramref name="variant"/> from <paramref name="train"/> (the training side of a split).
    /// OS N: each class ends with exactly N images. A class with fewer than N cells gets every cell's original crop
    /// and re-crops at distinct shifted centres, spread as evenly as possible over its cells; a class with more than N
    /// cells is subsampled to N cells (the paper's 3,000 and 6,000 images for 10 classes imply it), which is said in
    /// <see cref="Notes"/>. AG: the D4 images of every crop, minus those identical to another of the same crop.
    /// </summary>
    public static SampleSet Build(TrainingVariant variant, CellTiles tiles, IReadOnlyList<CellImage> train, int seed, string side, IProgress<WorkProgress>? progress = null)
    {
        var samples = new List<Sample>();
        var classes = new List<ClassPreparation>();
        var notes = new List<string>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var present = tiles.Tiles.Select(t => t.Cell.Label.Class).ToHashSet();

        var outcomes = CellTaxonomy.StagesAnd(present);
        foreach (CellClass k in outcomes)
        {
            var cells = train.Where(c => c.Label.Class == k).OrderBy(c => c.CellId, StringComparer.Ordinal).ThenBy(c => c.Path, StringComparer.Ordinal).ToList();
            var crops = new List<(int Tile, int Dx, int Dy)>();
            string note = "";
            int used = cells.Count;
            int[] perCell;
            if (variant.OversampleTo is int n)
            {
                if (cells.Count == 0)
                {
                    if (present.Contains(k)) throw new InvalidOperationException($"{variant.Name}: {k.Label()} has no cell on the training side ({side}), so it cannot be oversampled to {n}");
                    notes.Add($"{k.Label()} is absent from this dataset: nothing to oversample");
                    classes.Add(new ClassPreparation(k, 0, 0, 0, 0, 0, 0, 0, "absent from the dataset"));
                    continue;
                }
                if (cells.Count > n)
                {
                    Rng.For(seed, Rng.Key("subsample"), (long)k, n).Shuffle(cells);
                    cells = cells.Take(n).OrderBy(c => c.CellId, StringComparer.Ordinal).ThenBy(c => c.Path, StringComparer.Ordinal).ToList();
                    note = $"subsampled: {used} training cells > {n}, {n} chosen at random (seeded), one crop each";
                    notes.Add($"{variant.Name}: {k.Label()} {note}");
                    perCell = Enumerable.Repeat(1, n).ToArray();
                }
                else
                {
                    // Spread N crops over the cells: each gets N / cells, and N mod cells of them (seeded) one more.
                    perCell = Enumerable.Repeat(n / cells.Count, cells.Count).ToArray();
                    var order = Enumerable.Range(0, cells.Count).ToList();
                    Rng.For(seed, Rng.Key("extra-crop"), (long)k, n).Shuffle(order);
                    for (int i = 0; i < n % cells.Count; i++) perCell[order[i]]++;
                    if (perCell.Max() > 1) note = perCell.Min() == perCell.Max() ? $"re-cropped: {perCell.Min()} crops per cell" : $"re-cropped: {perCell.Min()}–{perCell.Max()} crops per cell";
                }
                for (int i = 0; i < cells.Count; i++)
                {
                    int t = tiles.IndexOf(cells[i]);
                    foreach (var (dx, dy) in Offsets(tiles.Tiles[t], perCell[i], seed, n, variant.Name))
                        crops.Add((t, dx, dy));
                }
            }
            else
            {
                perCell = Enumerable.Repeat(1, cells.Count).ToArray();
                crops.AddRange(cells.Select(c => (tiles.IndexOf(c), 0, 0)));
            }

            int before = samples.Count, dropped = 0;
            foreach (var (t, dx, dy) in crops)
            {
                if (!variant.Augment) { samples.Add(new Sample(t, (sbyte)dx, (sbyte)dy, D4.Identity)); continue; }
                var distinct = D4.DistinctFor(tiles.Tiles[t].Patch(dx, dy));
                dropped += 8 - distinct.Count;
                samples.AddRange(distinct.Select(g => new Sample(t, (sbyte)dx, (sbyte)dy, g)));
            }
            if (dropped > 0) notes.Add($"{variant.Name}: {k.Label()}: {dropped} augmented image(s) identical to another D4 image of the same crop, dropped");
            classes.Add(new ClassPreparation(k, used, cells.Count, cells.Count > 0 ? perCell.Min() : 0, cells.Count > 0 ? perCell.Max() : 0,
                                             crops.Count, samples.Count - before, dropped, note));
            progress?.Report(new WorkProgress($"building {variant.Name}", classes.Count, outcomes.Count, clock.Elapsed));
        }
        return new SampleSet(variant, tiles, [.. samples], classes, notes, side);
    }

    /// <summary>
    /// The crop centres of one cell: the original (0, 0) first, then count − 1 distinct shifts drawn without
    /// replacement from the integer points of the disc of the cell's allowed radius, so no two crops of a cell are the
    /// same window. Asking for more re-crops than a cell has room for is an error, never a silent repeat.
    /// </summary>
    internal static IEnumerable<(int Dx, int Dy)> Offsets(CellTile tile, int count, int seed, int target, string variant)
    {
        yield return (0, 0);
        if (count <= 1) yield break;
        int r = tile.MaxShift;
        if (r == 0)
            throw new InvalidOperationException(tile.Source == CropSource.BarePatch
                ? $"{variant} needs {count} crops of {tile.Cell.Label} cell {tile.Cell.CellId} ({tile.Cell.Path}), but it is a bare 96x96 patch with no image " +
                  "around it: re-cropping is impossible and repeating it would fake oversampling. Use a dataset with field images (manifest field_path, centre_x, centre_y) or larger crops around each cell."
                : $"{variant} needs {count} crops of cell {tile.Cell.CellId} ({tile.Cell.Path}), but its crop cannot move ({tile.Bound})");
        var disc = new List<(int, int)>();
        for (int dy = -r; dy <= r; dy++)
            for (int dx = -r; dx <= r; dx++)
                if ((dx != 0 || dy != 0) && dx * dx + dy * dy <= r * r) disc.Add((dx, dy));
        if (count - 1 > disc.Count)
            throw new InvalidOperationException($"{variant} needs {count} distinct crops of cell {tile.Cell.CellId} ({tile.Cell.Path}), " +
                                                $"but shifts within {r} px ({tile.Bound}) allow only {disc.Count + 1}; raise the shift bound or lower the target");
        Rng.For(seed, Rng.Key("recrop"), Rng.Key(tile.Cell.CellId), target).Shuffle(disc);
        for (int i = 0; i < count - 1; i++) yield return disc[i];
    }
}
