using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Imaging;

namespace MarrowDiff.Preparation;

/// <summary>
/// Notebooks 02 and 03 in one object: the split of a dataset, its cell tiles and the six training sets of the
/// training side (the figures and tables that show what each step did are in <c>Reports.PreparationViews</c>). Training sets are built on first use
/// and kept; nothing here ever touches a test cell except to report that it is there.
/// </summary>
public sealed class DataPreparation
{
    private readonly Dictionary<(string, int?, double, int), SampleSet> _built = new();

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

    /// <summary>The training set that plays <paramref name="role"/> among <see cref="Variants"/> (OS at the lower N, …).</summary>
    public TrainingVariant Variant(Table1Role role) => Variant(Table1Roles.Of(Variants.Select(v => v.Name), requireDualStage: false)[role]);

    /// <summary>The training set <paramref name="variant"/> of the training side (all five folds, or all but
    /// <paramref name="validationFold"/>), from a <paramref name="cellShare"/> of its cells of each class (a learning
    /// curve's point: <see cref="DatasetSplit.Sides(int?, double)"/>; 1, every cell), its re-crop centres drawn with
    /// <paramref name="trainingSeed"/> (a training-seed replicate; null: the seed that drew the split).</summary>
    public SampleSet Build(TrainingVariant variant, int? validationFold = null, IProgress<WorkProgress>? progress = null, double cellShare = 1, int? trainingSeed = null)
    {
        int seed = trainingSeed ?? Provenance.Seed;
        if (_built.TryGetValue((variant.Name, validationFold, cellShare, seed), out var set)) return set;
        SplitSides sides = Split.Sides(validationFold, cellShare);
        set = SampleSet.Build(variant, Tiles, sides.Train, seed, sides.Description, progress);
        _built[(variant.Name, validationFold, cellShare, seed)] = set;
        return set;
    }

    public SampleSet Build(string variant, int? validationFold = null, IProgress<WorkProgress>? progress = null) => Build(Variant(variant), validationFold, progress);

    /// <summary>The test set as the network sees it: each cell's original crop, no augmentation.</summary>
    public SampleSet TestSet() => SampleSet.Original(Tiles, Split.Test, "test set");

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
}
