using MarrowDiff.Data;

namespace MarrowDiff.Phantom;

/// <summary>How big a phantom to render. <see cref="Paper"/> mirrors the paper's dataset: 10 subjects × 3
/// slides, 200 fields of 1080×1330 px, 2,174 cells with a marrow-like imbalance.</summary>
public sealed record PhantomSize(string Name, int Subjects, int SlidesPerSubject, int Fields, IReadOnlyDictionary<CellClass, int> ClassCounts)
{
    public int Cells => ClassCounts.Values.Sum();

    /// <summary>Counts chosen to look like a marrow differential: many metamyelocytes, bands, segmented and
    /// polychromatic normoblasts; few pronormoblasts, basophilic normoblasts and myeloblasts; every class ≥ 50.
    /// They sum to the paper's 2,174 (the paper's own per-class counts are not published).</summary>
    public static PhantomSize Paper { get; } = new("paper", 10, 3, 200, new Dictionary<CellClass, int>
    {
        [CellClass.Pronormoblast] = 58, [CellClass.BasophilicNormoblast] = 92, [CellClass.PolychromaticNormoblast] = 330,
        [CellClass.OrthochromaticNormoblast] = 180, [CellClass.Myeloblast] = 68, [CellClass.Promyelocyte] = 128,
        [CellClass.Myelocyte] = 222, [CellClass.Metamyelocyte] = 362, [CellClass.BandNeutrophil] = 402,
        [CellClass.SegmentedNeutrophil] = 332,
    });

    /// <summary>A few minutes of CPU for CI and a first look: 2 subjects × 2 slides, 16 fields, same imbalance, scaled down.</summary>
    public static PhantomSize Smoke { get; } = new("smoke", 2, 2, 16, new Dictionary<CellClass, int>
    {
        [CellClass.Pronormoblast] = 14, [CellClass.BasophilicNormoblast] = 16, [CellClass.PolychromaticNormoblast] = 30,
        [CellClass.OrthochromaticNormoblast] = 20, [CellClass.Myeloblast] = 15, [CellClass.Promyelocyte] = 18,
        [CellClass.Myelocyte] = 24, [CellClass.Metamyelocyte] = 32, [CellClass.BandNeutrophil] = 36,
        [CellClass.SegmentedNeutrophil] = 30,
    });

    public static PhantomSize Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "paper" => Paper,
        "smoke" => Smoke,
        _ => throw new ArgumentException($"unknown phantom size '{name}': use 'smoke' or 'paper'", nameof(name)),
    };
}
