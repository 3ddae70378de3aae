using System.Text;

namespace MarrowDiff.Data;

/// <summary>A label read from a dataset: one of the paper's ten classes, or <c>Other(code)</c> for anything
/// the paper does not classify (lymphocytes, unstaged erythroblasts, unknown codes). Other labels are kept
/// and counted, never silently dropped.</summary>
public readonly record struct CellLabel
{
    private CellLabel(CellClass? cls, string? otherCode) { Class = cls; OtherCode = otherCode; }

    /// <summary>The paper's class, or null for an Other label.</summary>
    public CellClass? Class { get; }

    /// <summary>The source code for an Other label (e.g. "EBO", "LYT"), upper-cased; null for a paper class.</summary>
    public string? OtherCode { get; }

    public bool IsOther => Class is null;

    public static CellLabel Of(CellClass c) => new(c, null);

    public static CellLabel Other(string code) =>
        new(null, string.IsNullOrWhiteSpace(code) ? throw new ArgumentException("an Other label needs a code", nameof(code)) : code.Trim().ToUpperInvariant());

    public static implicit operator CellLabel(CellClass c) => Of(c);

    /// <summary>The outcome outside the ten stages that an Other code names (LYT and PBC's LY: lymphocyte; MON, MO;
    /// EOS, EO; BAS, BA; ERB and Matek's EBO: unstaged erythroblast; each also by its name, "lymphocyte"); null for a code that names none of them ("not
    /// identifiable", an artefact, a plasma cell, a smudge cell, …), which stays Other.</summary>
    public CellClass? NonStageClass => OtherCode is { } code && NonStageCodes.TryGetValue(code, out var k) ? k : null;

    private static readonly Dictionary<string, CellClass> NonStageCodes = new(StringComparer.Ordinal)
    {
        ["LYT"] = CellClass.Lymphocyte, ["LY"] = CellClass.Lymphocyte,
        ["MON"] = CellClass.Monocyte, ["MO"] = CellClass.Monocyte,
        ["EOS"] = CellClass.Eosinophil, ["EO"] = CellClass.Eosinophil,
        ["BAS"] = CellClass.Basophil, ["BA"] = CellClass.Basophil,
        ["ERB"] = CellClass.Erythroblast, ["EBO"] = CellClass.Erythroblast,
        // A folder-per-class dataset names its folders in words.
        ["LYMPHOCYTE"] = CellClass.Lymphocyte, ["MONOCYTE"] = CellClass.Monocyte, ["EOSINOPHIL"] = CellClass.Eosinophil,
        ["BASOPHIL"] = CellClass.Basophil, ["ERYTHROBLAST"] = CellClass.Erythroblast,
    };

    /// <summary>What an Other code is, when we know it ("erythroblast, stage not given").</summary>
    public string? OtherDescription => OtherCode is null ? null : OtherDescriptions.GetValueOrDefault(OtherCode);

    public override string ToString() => Class is { } c ? c.Label() : $"Other({OtherCode})";

    /// <summary>Value used in manifests: the snake name ("band_neutrophil") or "other:CODE".</summary>
    public string ToManifestValue() => Class is { } c ? c.SnakeName() : $"other:{OtherCode}";

    /// <summary>
    /// Reads a label in any of the vocabularies MarrowDiff meets: the paper's codes ("C1"…"C10"), names in any
    /// case and separator ("band_neutrophil", "Band neutrophil", "band"), manifest values ("other:LYT"), and the
    /// codes of public datasets — Matek et al. 2021 folder codes (PEB, BLA, PMO, MYB, MMZ, NGB, NGS; EBO is an
    /// unstaged erythroblast) and PBC file prefixes (PMY, MY, MMY, BNE, SNE; ERB is an unstaged erythroblast).
    /// Anything else becomes <c>Other(code)</c>.
    /// </summary>
    public static CellLabel Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string trimmed = text.Trim();
        if (trimmed.Length == 0) throw new FormatException("empty cell label");
        if (trimmed.StartsWith("other:", StringComparison.OrdinalIgnoreCase)) return Other(trimmed["other:".Length..]);

        string key = Normalise(trimmed);
        if (key.Length >= 2 && key[0] == 'c' && int.TryParse(key[1..], out int n) && n is >= 1 and <= 10)
            return (CellClass)n;
        if (Aliases.TryGetValue(key, out CellClass cls)) return cls;
        return Other(trimmed);
    }

    /// <summary>Lower-case letters and digits only: "Band neutrophil", "band_neutrophil", "BAND-NEUTROPHIL" all meet.</summary>
    private static string Normalise(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char ch in s)
            if (char.IsLetterOrDigit(ch)) sb.Append(char.ToLowerInvariant(ch));
        return sb.ToString();
    }

    private static readonly Dictionary<string, CellClass> Aliases = BuildAliases();

    private static Dictionary<string, CellClass> BuildAliases()
    {
        var d = new Dictionary<string, CellClass>();
        foreach (CellClass c in CellTaxonomy.All) d[Normalise(c.DisplayName())] = c;
        void Add(CellClass c, params string[] keys) { foreach (string k in keys) d[Normalise(k)] = c; }

        // Synonyms a hematologist uses (normoblast = erythroblast = rubricyte series).
        Add(CellClass.Pronormoblast, "proerythroblast", "rubriblast");
        Add(CellClass.BasophilicNormoblast, "basophilic erythroblast", "prorubricyte");
        Add(CellClass.PolychromaticNormoblast, "polychromatophilic normoblast", "polychromatic erythroblast", "rubricyte");
        Add(CellClass.OrthochromaticNormoblast, "orthochromic normoblast", "orthochromatic erythroblast", "metarubricyte");
        Add(CellClass.BandNeutrophil, "band", "band form", "stab");
        Add(CellClass.SegmentedNeutrophil, "segmented", "neutrophil segmented", "segmented neutrophilic granulocyte");

        // Matek et al. 2021 (bone marrow, folder codes). BLA is a blast of any lineage: mapped to myeloblast
        // for lack of better (see ../shared/real-cells/README.md).
        Add(CellClass.Pronormoblast, "PEB");
        Add(CellClass.Myeloblast, "BLA");
        Add(CellClass.Promyelocyte, "PMO");
        Add(CellClass.Myelocyte, "MYB");
        Add(CellClass.Metamyelocyte, "MMZ");
        Add(CellClass.BandNeutrophil, "NGB");
        Add(CellClass.SegmentedNeutrophil, "NGS");

        // PBC dataset (Acevedo et al. 2020, peripheral blood, file-name prefixes).
        Add(CellClass.Promyelocyte, "PMY");
        Add(CellClass.Myelocyte, "MY");
        Add(CellClass.Metamyelocyte, "MMY");
        Add(CellClass.BandNeutrophil, "BNE");
        Add(CellClass.SegmentedNeutrophil, "SNE");
        return d;
    }

    /// <summary>Codes that are deliberately not one of the ten classes, with what they are.</summary>
    public static IReadOnlyDictionary<string, string> OtherDescriptions { get; } = new Dictionary<string, string>
    {
        ["EBO"] = "erythroblast, stage not given (Matek)",
        ["ERB"] = "erythroblast, stage not given (PBC)",
        ["LYT"] = "lymphocyte",
        ["LYI"] = "immature lymphocyte",
        ["MON"] = "monocyte",
        ["EOS"] = "eosinophil",
        ["BAS"] = "basophil",
        ["PLM"] = "plasma cell",
        ["NIF"] = "not identifiable",
        ["ART"] = "artefact",
        ["OTH"] = "other cell",
        // Matek et al. 2021 codes outside the ten classes.
        ["ABE"] = "abnormal eosinophil (Matek)",
        ["FGC"] = "faggot cell (Matek)",
        ["HAC"] = "hairy cell (Matek)",
        ["KSC"] = "smudge cell (Matek)",
        // PBC prefixes outside the ten classes.
        ["BA"] = "basophil (PBC)",
        ["EO"] = "eosinophil (PBC)",
        ["LY"] = "lymphocyte (PBC)",
        ["MO"] = "monocyte (PBC)",
        ["PLATELET"] = "platelet (PBC)",
        ["IG"] = "immature granulocyte, stage not given (PBC)",
        ["NEUTROPHIL"] = "neutrophil, band or segmented not given (PBC)",
    };
}
