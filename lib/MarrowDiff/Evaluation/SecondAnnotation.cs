using MarrowDiff.Core;
using MarrowDiff.Data;

namespace MarrowDiff.Evaluation;

/// <summary>
/// A second team's reading of PBC's band and segmented neutrophils: WBCAtt's nucleus shape of each image (Tsutsui et
/// al., NeurIPS 2023), given independently of PBC's labels. "unsegmented-band" reads as a band, "segmented-bilobed" and
/// "segmented-multilobed" as segmented; other shapes (indented, round, irregular) as neither, and are left out of the
/// comparison, counted.
/// </summary>
public sealed class SecondAnnotation
{
    private readonly Dictionary<string, string> _shapeByFile;

    private SecondAnnotation(Dictionary<string, string> shapeByFile, string source) { _shapeByFile = shapeByFile; Source = source; }

    public string Source { get; }
    public int Count => _shapeByFile.Count;

    /// <summary>Reads the annotation file (columns path, pbc_label, nucleus_shape, …); images are matched by file name,
    /// which is unique within PBC (its prefix and number).</summary>
    public static SecondAnnotation Read(string csv)
    {
        var rows = Csv.Parse(File.ReadAllText(csv), csv);
        if (rows.Count == 0) throw new InvalidDataException($"{csv}: empty");
        int path = Array.IndexOf(rows[0], "path"), shape = Array.IndexOf(rows[0], "nucleus_shape");
        if (path < 0 || shape < 0) throw new InvalidDataException($"{csv}:1: needs the columns path and nucleus_shape");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 1; i < rows.Count; i++)
        {
            if (rows[i].Length == 1 && rows[i][0].Length == 0) continue;
            if (rows[i].Length <= Math.Max(path, shape)) throw new InvalidDataException($"{csv}:{i + 1}: too few columns");
            if (!map.TryAdd(Path.GetFileName(rows[i][path]), rows[i][shape])) throw new InvalidDataException($"{csv}:{i + 1}: {rows[i][path]} given twice");
        }
        return new SecondAnnotation(map, Path.GetFileName(csv));
    }

    /// <summary>What the nucleus shape reads as: band, segmented, or null (neither).</summary>
    public static CellClass? Reading(string shape) => shape switch
    {
        "unsegmented-band" => CellClass.BandNeutrophil,
        "segmented-bilobed" or "segmented-multilobed" => CellClass.SegmentedNeutrophil,
        _ => null,
    };

    /// <summary>The second team's reading of the image <paramref name="file"/> (any path; matched by name), or null
    /// when it has no annotation or a shape that reads as neither.</summary>
    public CellClass? Of(string file) => _shapeByFile.TryGetValue(Path.GetFileName(file), out string? s) ? Reading(s) : null;

    public bool Has(string file) => _shapeByFile.ContainsKey(Path.GetFileName(file));
}

/// <summary>Two annotations of the same band/segmented cells: their 2×2 table, agreement and Cohen's κ.</summary>
/// <param name="Table">[first's class, second's class]: 0 band, 1 segmented.</param>
public sealed record LabelAgreement(int[,] Table, int LeftOut)
{
    public int Cells => Table[0, 0] + Table[0, 1] + Table[1, 0] + Table[1, 1];
    public double Agreement => (double)(Table[0, 0] + Table[1, 1]) / Cells;

    /// <summary>Cohen's κ: agreement beyond what the two annotations' own class shares would give by chance.</summary>
    public double Kappa
    {
        get
        {
            double n = Cells, chance = ((Table[0, 0] + Table[0, 1]) * (double)(Table[0, 0] + Table[1, 0]) + (Table[1, 0] + Table[1, 1]) * (double)(Table[0, 1] + Table[1, 1])) / (n * n);
            return (Agreement - chance) / (1 - chance);
        }
    }

    private static int Index(CellClass c) => c == CellClass.BandNeutrophil ? 0 : 1;

    /// <summary>PBC's labels of <paramref name="labelled"/> (band or segmented, by file) against the second annotation.</summary>
    public static LabelAgreement Of(IEnumerable<(string File, CellClass Label)> labelled, SecondAnnotation second)
    {
        var table = new int[2, 2];
        int left = 0;
        foreach (var (file, label) in labelled)
        {
            if (label is not (CellClass.BandNeutrophil or CellClass.SegmentedNeutrophil)) continue;
            if (second.Of(file) is not { } reading) { left++; continue; }
            table[Index(label), Index(reading)]++;
        }
        return new LabelAgreement(table, left);
    }
}

/// <summary>A classifier's band/segmented test cells split by whether the two annotations agree on them.</summary>
/// <param name="Agreed">Cells both teams read alike: how often the classifier gives that reading.</param>
/// <param name="Disputed">Cells they read differently: how often it sides with PBC's label, and how often with the second team's.</param>
public sealed record AnswersByAgreement(string Model, int Agreed, double RightWhereAgreed, int Disputed, double WithPbcWhereDisputed, double WithSecondWhereDisputed, int LeftOut)
{
    public static AnswersByAgreement Of(CellPredictions p, SecondAnnotation second)
    {
        int agreed = 0, agreedRight = 0, disputed = 0, withPbc = 0, withSecond = 0, left = 0;
        foreach (var c in p.Cells.Where(c => c.Truth is CellClass.BandNeutrophil or CellClass.SegmentedNeutrophil))
        {
            if (second.Of(c.Cell) is not { } reading) { left++; continue; }
            if (reading == c.Truth) { agreed++; if (c.Predicted == c.Truth) agreedRight++; }
            else { disputed++; if (c.Predicted == c.Truth) withPbc++; else if (c.Predicted == reading) withSecond++; }
        }
        return new AnswersByAgreement(p.Model, agreed, agreed == 0 ? double.NaN : (double)agreedRight / agreed, disputed,
                                      disputed == 0 ? double.NaN : (double)withPbc / disputed, disputed == 0 ? double.NaN : (double)withSecond / disputed, left);
    }
}
