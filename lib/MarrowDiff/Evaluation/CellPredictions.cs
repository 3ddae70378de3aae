using System.Globalization;
using System.Text;
using MarrowDiff.Core;
using MarrowDiff.Data;

namespace MarrowDiff.Evaluation;

/// <summary>One test cell as a classifier saw it: its id and source, the truth, the answer and the softmax.</summary>
public sealed record PredictedCell(string Cell, string Source, CellClass Truth, CellClass Predicted, IReadOnlyList<float> Probabilities);

/// <summary>One source's share of a classifier's answers (<see cref="CellPredictions.PerSource"/>).</summary>
public sealed record SourceScore(string Source, int Cells, double Accuracy, double MacroF1, double Low, double High, IReadOnlyList<(CellClass Class, double F1)> F1)
{
    public override string ToString() =>
        $"{Source}: {Cells} cells, accuracy {Percent.Of(Accuracy)}%, macro F1 {Percent.Of(MacroF1)}% (95% CI {Percent.Of(Low)}–{Percent.Of(High)}); F1 " +
        string.Join(", ", F1.Select(x => $"{x.Class.Code()} {Percent.Of(x.F1)}"));
}

/// <summary>
/// A classifier's answers on a set of cells, in a form that outlives the model: a CSV of one row a cell (cell, source,
/// true class, predicted class, one probability column per output). Tables, paired tests and the wrong-cell gallery
/// rebuild from it without the weights, which are too large to keep and are not portable across CPUs byte for byte.
/// </summary>
public sealed class CellPredictions
{
    public CellPredictions(string model, IReadOnlyList<CellClass> outputs, IReadOnlyList<PredictedCell> cells)
    {
        if (outputs.Count < 2) throw new ArgumentException($"{model}: a classifier has at least two outputs", nameof(outputs));
        foreach (var c in cells)
        {
            if (c.Probabilities.Count != outputs.Count)
                throw new ArgumentException($"{model}: cell {c.Cell} has {c.Probabilities.Count} probabilities for {outputs.Count} outputs", nameof(cells));
            if (!outputs.Contains(c.Truth) || !outputs.Contains(c.Predicted))
                throw new ArgumentException($"{model}: cell {c.Cell} is labelled {c.Truth.Label()} or answered {c.Predicted.Label()}, not among the outputs", nameof(cells));
        }
        Model = model; Outputs = outputs; Cells = cells;
    }

    public string Model { get; }
    public IReadOnlyList<CellClass> Outputs { get; }
    public IReadOnlyList<PredictedCell> Cells { get; }
    public int Count => Cells.Count;

    /// <summary>Each cell's true and predicted output index.</summary>
    public int[] Truth => Cells.Select(c => Index(c.Truth)).ToArray();
    public int[] Predicted => Cells.Select(c => Index(c.Predicted)).ToArray();
    public bool[] Correct => Cells.Select(c => c.Truth == c.Predicted).ToArray();

    private int Index(CellClass k) => Outputs.ToList().IndexOf(k);

    /// <summary>Accuracy, F1 and the confusion matrix over the outputs (macro F1 over the classes present in the truth).</summary>
    public ClassificationMetrics Metrics => ClassificationMetrics.From(Truth, Predicted, Outputs.Select(c => c.Label()).ToList());

    /// <summary>Each source's cells read on their own, in source order: a classifier can learn the source instead of the
    /// stage, so a score over several sources hides what each one gets. The F1 listed is of every class the source has
    /// cells of; the interval is a seeded bootstrap of its macro F1.</summary>
    public IReadOnlyList<SourceScore> PerSource(int seed = 2017) =>
        [.. Cells.Select(c => c.Source).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(source =>
        {
            var of = OfSource(source);
            var m = of.Metrics;
            var (low, high) = Intervals.BootstrapMacroF1(of.Truth, of.Predicted, Outputs.Count, seed);
            var f1 = Outputs.Select((k, i) => (k, i)).Where(x => m.PerClass[x.i].Support > 0).Select(x => (x.k, m.PerClass[x.i].F1)).ToList();
            return new SourceScore(source, of.Count, m.Accuracy, m.MacroF1, low, high, f1);
        })];

    /// <summary>The cells of one source, in order.</summary>
    public CellPredictions OfSource(string source) => new($"{Model}, {source}", Outputs, Cells.Where(c => c.Source == source).ToList());

    private const string Fixed = "cell,source,true_class,predicted_class";

    /// <summary>The CSV: a header, then one row a cell; probabilities to 6 decimals (their sum is 1 to rounding).</summary>
    public string Csv()
    {
        var text = new StringBuilder(Fixed);
        foreach (var k in Outputs) text.Append(",p_").Append(k.SnakeName());
        text.Append('\n');
        foreach (var c in Cells)
        {
            text.Append(Core.Csv.Line([c.Cell, c.Source, c.Truth.SnakeName(), c.Predicted.SnakeName(),
                                       .. c.Probabilities.Select(p => p.ToString("0.######", CultureInfo.InvariantCulture))]));
            text.Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Writes <see cref="Csv"/> atomically.</summary>
    public void Save(string file) => AtomicFile.WriteAllText(file, Csv());

    /// <summary>Reads a file written by <see cref="Save"/>; the model's name is the file's name. A bad header, an unknown
    /// class, a probability that is not a number in [0, 1] or a predicted class that is not the row's largest
    /// probability is refused, naming the file and line.</summary>
    public static CellPredictions Load(string file)
    {
        var rows = Core.Csv.Parse(File.ReadAllText(file));
        if (rows.Count == 0) throw new InvalidDataException($"{file}: empty");
        var header = rows[0];
        if (header.Length < 6 || string.Join(",", header.Take(4)) != Fixed || header.Skip(4).Any(h => !h.StartsWith("p_", StringComparison.Ordinal)))
            throw new InvalidDataException($"{file}:1: not a MarrowDiff predictions file (header must be {Fixed},p_<class>,…)");
        var outputs = header.Skip(4).Select((h, j) => Class(h[2..], file, 1, $"column {5 + j}")).ToList();
        var cells = new List<PredictedCell>();
        for (int r = 1; r < rows.Count; r++)
        {
            var row = rows[r];
            if (row.Length == 1 && row[0].Length == 0) continue; // a trailing newline
            int line = r + 1;
            if (row.Length != header.Length) throw new InvalidDataException($"{file}:{line}: {row.Length} fields where the header has {header.Length}");
            var p = row.Skip(4).Select(v => float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out float x) && x is >= 0 and <= 1 ? x
                : throw new InvalidDataException($"{file}:{line}: probability '{v}' is not a number in [0, 1]")).ToArray();
            var predicted = Class(row[3], file, line, "predicted_class");
            int at = outputs.IndexOf(predicted);
            if (at < 0 || p[at] < p.Max()) throw new InvalidDataException($"{file}:{line}: predicted {row[3]}, but its probability is not the row's largest");
            cells.Add(new PredictedCell(row[0], row[1], Class(row[2], file, line, "true_class"), predicted, p));
        }
        try { return new CellPredictions(Path.GetFileNameWithoutExtension(file), outputs, cells); }
        catch (ArgumentException e) { throw new InvalidDataException($"{file}: {e.Message}", e); }
    }

    private static CellClass Class(string label, string file, int line, string where) =>
        CellTaxonomy.Outcomes.Where(k => k.SnakeName() == label).Select(k => (CellClass?)k).FirstOrDefault()
            ?? throw new InvalidDataException($"{file}:{line}: {where} '{label}' is not one of the paper's classes nor a cell outside them");
}
