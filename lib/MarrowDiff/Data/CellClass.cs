namespace MarrowDiff.Data;

/// <summary>The paper's ten maturation stages (Choi et al. 2017, Fig 1A), then the nucleated cells a marrow differential
/// also counts that are none of them. The numeric value of a stage is the paper's class number: C1…C4 the erythroid
/// series, C5…C10 the myeloid series, each in maturation order. The values after 10 are outcomes outside the paper's
/// task (ICSH 2015's differential): a model is trained on them only when its outputs name them
/// (<see cref="CellTaxonomy.NonStage"/>); the paper's ten (<see cref="CellTaxonomy.All"/>) stay the default everywhere.</summary>
public enum CellClass
{
    Pronormoblast = 1,
    BasophilicNormoblast = 2,
    PolychromaticNormoblast = 3,
    OrthochromaticNormoblast = 4,
    Myeloblast = 5,
    Promyelocyte = 6,
    Myelocyte = 7,
    Metamyelocyte = 8,
    BandNeutrophil = 9,
    SegmentedNeutrophil = 10,
    Lymphocyte = 11,
    Monocyte = 12,
    Eosinophil = 13,
    Basophil = 14,

    /// <summary>A nucleated red-cell precursor whose stage the source does not give (PBC's ERB, Matek's EBO).</summary>
    Erythroblast = 15,
}

/// <summary>The paper's two maturation series, and the cells outside them.</summary>
public enum Series { Erythroid, Myeloid, NonStage }

/// <summary>Names, series and stage order of <see cref="CellClass"/>.</summary>
public static class CellTaxonomy
{
    /// <summary>The paper's ten classes in its order C1…C10 (also a 10-class model's output order).</summary>
    public static IReadOnlyList<CellClass> All { get; } = [.. Enum.GetValues<CellClass>().Where(c => (int)c <= 10)];

    /// <summary>The nucleated cells outside the ten stages that a model may also be trained to name.</summary>
    public static IReadOnlyList<CellClass> NonStage { get; } = [.. Enum.GetValues<CellClass>().Where(c => (int)c > 10)];

    /// <summary>Every outcome: the ten stages, then the cells outside them (the order of <see cref="Index"/>).</summary>
    public static IReadOnlyList<CellClass> Outcomes { get; } = [.. All, .. NonStage];

    /// <summary>The ten stages, then each outcome outside them that <paramref name="present"/> holds: the classes a set of
    /// cells is prepared and reported by (the ten alone for every dataset of the paper's task, as before).</summary>
    public static IReadOnlyList<CellClass> StagesAnd(IEnumerable<CellClass?> present)
    {
        var set = present.ToHashSet();
        return [.. All, .. NonStage.Where(k => set.Contains(k))];
    }

    /// <summary>One of the paper's ten maturation stages.</summary>
    public static bool IsStage(this CellClass c) => (int)c is >= 1 and <= 10;

    /// <summary>"C1" … "C10"; the cells outside the stages by the abbreviation a differential uses ("Lym", "Mono", …).</summary>
    public static string Code(this CellClass c) => c.IsStage() ? $"C{(int)c}" : c switch
    {
        CellClass.Lymphocyte => "Lym",
        CellClass.Monocyte => "Mono",
        CellClass.Eosinophil => "Eos",
        CellClass.Basophil => "Baso",
        CellClass.Erythroblast => "EB",
        _ => throw new ArgumentOutOfRangeException(nameof(c), c, null),
    };

    /// <summary>Index in <see cref="Outcomes"/>: 0…9 for C1…C10, a 10-class model's output order.</summary>
    public static int Index(this CellClass c) => (int)c - 1;

    public static CellClass FromIndex(int index) =>
        index >= 0 && index < Outcomes.Count ? Outcomes[index] : throw new ArgumentOutOfRangeException(nameof(index), index, $"class index must be 0…{Outcomes.Count - 1}");

    public static Series Series(this CellClass c) => !c.IsStage() ? Data.Series.NonStage : (int)c <= 4 ? Data.Series.Erythroid : Data.Series.Myeloid;

    /// <summary>1-based position within its series (pronormoblast 1 … orthochromatic 4; myeloblast 1 … segmented 6).</summary>
    public static int Stage(this CellClass c) => c.Series() switch
    {
        Data.Series.Erythroid => (int)c,
        Data.Series.Myeloid => (int)c - 4,
        _ => throw new ArgumentOutOfRangeException(nameof(c), c, "a cell outside the ten stages has no maturation stage"),
    };

    /// <summary>
    /// The side of the myeloid-to-erythroid (M:E) ratio a cell counts on, as ICSH 2015 defines it: myeloid is the
    /// granulocytic series from myeloblast to segmented neutrophil with eosinophils and basophils; erythroid is every
    /// nucleated red-cell precursor, staged or not. Lymphocytes and monocytes count on neither side (null).
    /// </summary>
    public static Series? RatioSide(this CellClass c) => c switch
    {
        _ when c.IsStage() => c.Series(),
        CellClass.Eosinophil or CellClass.Basophil => Data.Series.Myeloid,
        CellClass.Erythroblast => Data.Series.Erythroid,
        _ => null,
    };

    /// <summary>Hematologist's name, e.g. "Band neutrophil".</summary>
    public static string DisplayName(this CellClass c) => c switch
    {
        CellClass.Pronormoblast => "Pronormoblast",
        CellClass.BasophilicNormoblast => "Basophilic normoblast",
        CellClass.PolychromaticNormoblast => "Polychromatic normoblast",
        CellClass.OrthochromaticNormoblast => "Orthochromatic normoblast",
        CellClass.Myeloblast => "Myeloblast",
        CellClass.Promyelocyte => "Promyelocyte",
        CellClass.Myelocyte => "Myelocyte",
        CellClass.Metamyelocyte => "Metamyelocyte",
        CellClass.BandNeutrophil => "Band neutrophil",
        CellClass.SegmentedNeutrophil => "Segmented neutrophil",
        CellClass.Lymphocyte => "Lymphocyte",
        CellClass.Monocyte => "Monocyte",
        CellClass.Eosinophil => "Eosinophil",
        CellClass.Basophil => "Basophil",
        CellClass.Erythroblast => "Erythroblast unstaged",
        _ => throw new ArgumentOutOfRangeException(nameof(c), c, null),
    };

    /// <summary>File-system name, e.g. "band_neutrophil" (folder names of the phantom, manifest values).</summary>
    public static string SnakeName(this CellClass c) => c.DisplayName().ToLowerInvariant().Replace(' ', '_');

    /// <summary>"C9 Band neutrophil".</summary>
    public static string Label(this CellClass c) => $"{c.Code()} {c.DisplayName()}";

    /// <summary>An outcome from its code ("C9", "Lym", case-insensitive) or its snake name ("band_neutrophil", "lymphocyte").</summary>
    public static CellClass ParseCode(string text)
    {
        string t = text.Trim();
        foreach (var c in Outcomes)
            if (string.Equals(t, c.Code(), StringComparison.OrdinalIgnoreCase) || string.Equals(t, c.SnakeName(), StringComparison.OrdinalIgnoreCase)) return c;
        throw new ArgumentException($"'{text}' is not a class: use C1…C10 or a name such as band_neutrophil ({string.Join(", ", NonStage.Select(c => c.Code()))} for the cells outside the ten stages)");
    }

    /// <summary>A pair of classes written "C9/C10" (the dual-stage network's local model).</summary>
    public static (CellClass First, CellClass Second) ParsePair(string text)
    {
        var parts = text.Split('/', ',');
        if (parts.Length != 2) throw new ArgumentException($"'{text}': write a pair of classes as C9/C10");
        var (a, b) = (ParseCode(parts[0]), ParseCode(parts[1]));
        return a == b ? throw new ArgumentException($"'{text}': the two classes of a pair must differ") : (a, b);
    }
}
