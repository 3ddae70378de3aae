namespace MarrowDiff.Data;

/// <summary>The paper's ten maturation stages (Choi et al. 2017, Fig 1A). The numeric value is the paper's
/// class number: C1…C4 the erythroid series, C5…C10 the myeloid series, each in maturation order.</summary>
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
}

public enum Series { Erythroid, Myeloid }

/// <summary>Names, series and stage order of <see cref="CellClass"/>.</summary>
public static class CellTaxonomy
{
    /// <summary>All ten classes in the paper's order C1…C10 (also the model's output order).</summary>
    public static IReadOnlyList<CellClass> All { get; } = Enum.GetValues<CellClass>();

    /// <summary>"C1" … "C10".</summary>
    public static string Code(this CellClass c) => $"C{(int)c}";

    /// <summary>Index 0…9 in the model's output vector.</summary>
    public static int Index(this CellClass c) => (int)c - 1;

    public static CellClass FromIndex(int index) =>
        index is >= 0 and < 10 ? (CellClass)(index + 1) : throw new ArgumentOutOfRangeException(nameof(index), index, "class index must be 0…9");

    public static Series Series(this CellClass c) => (int)c <= 4 ? Data.Series.Erythroid : Data.Series.Myeloid;

    /// <summary>1-based position within its series (pronormoblast 1 … orthochromatic 4; myeloblast 1 … segmented 6).</summary>
    public static int Stage(this CellClass c) => c.Series() == Data.Series.Erythroid ? (int)c : (int)c - 4;

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
        _ => throw new ArgumentOutOfRangeException(nameof(c), c, null),
    };

    /// <summary>File-system name, e.g. "band_neutrophil" (folder names of the phantom, manifest values).</summary>
    public static string SnakeName(this CellClass c) => c.DisplayName().ToLowerInvariant().Replace(' ', '_');

    /// <summary>"C9 Band neutrophil".</summary>
    public static string Label(this CellClass c) => $"{c.Code()} {c.DisplayName()}";

    /// <summary>A class from its code ("C9", case-insensitive) or its snake name ("band_neutrophil").</summary>
    public static CellClass ParseCode(string text)
    {
        string t = text.Trim();
        foreach (var c in All)
            if (string.Equals(t, c.Code(), StringComparison.OrdinalIgnoreCase) || string.Equals(t, c.SnakeName(), StringComparison.OrdinalIgnoreCase)) return c;
        throw new ArgumentException($"'{text}' is not a class of the paper: use C1…C10 or a name such as band_neutrophil");
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
