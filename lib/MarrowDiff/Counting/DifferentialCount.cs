using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Detection;
using MarrowDiff.Evaluation;
using MarrowDiff.Imaging;

namespace MarrowDiff.Counting;

/// <summary>One found cell of the count: where it is, whether the edge rule left it out, and (with a model) its
/// class, the runner-up and whether a person should look at it.</summary>
public sealed record CountedCell(string Field, FieldCell Cell, CellClass? Class, float Probability, CellClass? Second, float SecondProbability,
                                 bool Review, float[]? Probabilities)
{
    public bool Counted => !Cell.Edge;

    /// <summary>Why the cell is unlike every training cell of the model (outside its <c>FeatureEnvelope</c>), which
    /// sends it to review whatever its probability; null when it is not, or the model has no envelope.</summary>
    public string? Unlike { get; init; }
}

/// <summary>One class of the differential: count, share of the counted cells and its exact 95% interval.</summary>
public sealed record ClassShare(string Name, int Count, int Total, double Share, double Low, double High)
{
    public static ClassShare For(string name, int count, int of)
    {
        if (of == 0) return new ClassShare(name, 0, 0, double.NaN, 0, 1);
        var (low, high) = Intervals.ClopperPearson(count, of);
        return new ClassShare(name, count, of, (double)count / of, low, high);
    }

    public double HalfWidth => (High - Low) / 2;
}

/// <summary>The myeloid : erythroid ratio with the interval carried over from the exact interval of the myeloid share p:
/// ratio = p / (1 − p), monotone, so the bounds map to bounds. Which cells count on which side: <see cref="Definition"/>.</summary>
public sealed record RatioWithInterval(int Myeloid, int Erythroid, double Ratio, double Low, double High)
{
    /// <summary>How M:E is counted here (<see cref="CellTaxonomy.RatioSide"/>), in the words every report prints.</summary>
    public const string Definition = "M:E = granulocytic cells (C5-C10 myeloblast to segmented neutrophil, with eosinophils and basophils) : " +
                                     "nucleated erythroid cells (C1-C4 and unstaged erythroblasts); lymphocytes and monocytes on neither side (ICSH 2015)";
}

/// <summary>
/// A differential count: the fields, every cell found (edge cells included, flagged), and, with a model, per class
/// the count, percentage and exact (Clopper–Pearson) 95% interval as Rümke's table gives them, the M:E ratio, blasts,
/// the review queue (cells whose top probability is below <see cref="ReviewBelow"/>, least sure first) and how many
/// more cells would narrow the widest interval to ±2.5 points.
/// </summary>
/// <param name="Classes">The ten maturation stages, each a share of the cells called a stage (<see cref="StageCells"/>).</param>
/// <param name="Blasts">Myeloblasts as a share of every classified nucleated cell (as WHO counts blasts).</param>
public sealed record DifferentialCount(
    IReadOnlyList<DetectedField> Fields, IReadOnlyList<(string Field, string Reason)> SkippedFields, IReadOnlyList<CountedCell> Cells,
    string? Classifier, int Target, double ReviewBelow, IReadOnlyList<ClassShare> Classes, RatioWithInterval? MyeloidToErythroid,
    ClassShare? Blasts, IReadOnlyList<CountedCell> ReviewQueue, int? CellsForHalfWidth)
{
    /// <summary>The cells outside the ten stages that the model names (lymphocytes, monocytes, …), each a share of every
    /// classified cell: rows of their own, never in the stages' percentages; empty for a 10-class model.</summary>
    public IReadOnlyList<ClassShare> NonStage { get; init; } = [];

    /// <summary>What each cell's <see cref="CountedCell.Probabilities"/> are of: the model's outputs.</summary>
    public IReadOnlyList<CellClass> Outputs { get; init; } = CellTaxonomy.All;

    /// <summary>Whether the model had an envelope of its training cells, so that a cell unlike all of them went to review.</summary>
    public bool Envelope { get; init; }

    /// <summary>How the M:E row reads: the ten stages' definition for a 10-class model, the cells outside them named
    /// when the model answers them.</summary>
    public string RatioLabel => NonStage.Count == 0 ? "M:E ratio (C5-C10 : C1-C4)" : "M:E ratio (C5-C10, Eos, Baso : C1-C4, EB)";

    /// <summary>Classified cells called one of the ten stages: the denominator of <see cref="Classes"/>.</summary>
    public int StageCells => Cells.Count(c => c.Class is { } k && k.IsStage());

    /// <summary>Half-width of an interval a count is usually asked to reach (±2.5 points).</summary>
    public const double WantedHalfWidth = 0.025;

    public int Counted => Cells.Count(c => c.Counted);
    public int LeftAtEdge => Cells.Count(c => !c.Counted);
    public bool Classified => Classifier is not null;

    /// <summary>The class with the widest interval (the one a longer count would narrow last).</summary>
    public ClassShare? Widest => Classes.Where(c => c.Total > 0).MaxBy(c => c.HalfWidth);
}

/// <summary>Builds a <see cref="DifferentialCount"/> from found fields, classifying counted cells when a classifier is given.</summary>
public static class DifferentialCounter
{
    public static DifferentialCount Count(IReadOnlyList<DetectedField> fields, PatchClassifier? classifier, int target = 500, double reviewBelow = 0.7,
                                          IReadOnlyList<(string Field, string Reason)>? skipped = null, IProgress<WorkProgress>? progress = null) =>
        Count(fields, classifier is null ? null : (classifier.Name, classifier.Outputs, classifier.Probabilities), target, reviewBelow, skipped, progress,
              classifier is { Envelope: not null } ? classifier.Unlike : null);

    /// <summary><see cref="Count(IReadOnlyList{DetectedField}, PatchClassifier?, int, double, IReadOnlyList{ValueTuple{string, string}}?, IProgress{WorkProgress}?)"/>
    /// with any function from patches to one probability row each (a test's stand-in for a trained network).</summary>
    internal static DifferentialCount Count(IReadOnlyList<DetectedField> fields, (string Name, IReadOnlyList<CellClass> Outputs, Func<IReadOnlyList<RgbImage>, float[,]> Probabilities)? classifier,
                                            int target, double reviewBelow, IReadOnlyList<(string Field, string Reason)>? skipped, IProgress<WorkProgress>? progress,
                                            Func<IReadOnlyList<RgbImage>, string?[]>? unlike = null)
    {
        var outputs = classifier?.Outputs ?? CellTaxonomy.All;
        if (!outputs.Any(k => k.IsStage())) throw new ArgumentException($"{classifier?.Name}: a counting model must name the maturation stages; it answers {string.Join(", ", outputs.Select(k => k.Code()))}");
        if (target < 1) throw new ArgumentOutOfRangeException(nameof(target), $"--target {target}: count at least one cell");
        if (reviewBelow is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(reviewBelow), $"{reviewBelow}: a probability between 0 and 1");
        var cells = new List<CountedCell>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int f = 0; f < fields.Count; f++)
        {
            var field = fields[f];
            float[,]? p = null;
            string?[]? outside = null;
            var counted = field.Cells.Where(c => !c.Edge).ToList();
            if (classifier is { } answer)
            {
                var patches = counted.Select(c => FieldDetection.Patch(field, c)).ToList();
                p = answer.Probabilities(patches);
                outside = unlike?.Invoke(patches);
                if (p.GetLength(0) != counted.Count || p.GetLength(1) != outputs.Count)
                    throw new InvalidOperationException($"{field.Field}: the classifier gave {p.GetLength(0)}×{p.GetLength(1)} probabilities for {counted.Count} cells of {outputs.Count} classes");
            }
            int k = 0;
            foreach (var cell in field.Cells)
            {
                if (cell.Edge || p is null) { cells.Add(new CountedCell(field.Field, cell, null, float.NaN, null, float.NaN, false, null)); continue; }
                float[] row = Enumerable.Range(0, p.GetLength(1)).Select(c => p[k, c]).ToArray();
                string? why = outside?[k];
                k++;
                int[] order = Enumerable.Range(0, row.Length).OrderByDescending(c => row[c]).ThenBy(c => c).ToArray();
                cells.Add(new CountedCell(field.Field, cell, outputs[order[0]], row[order[0]], outputs[order[1]], row[order[1]],
                                          row[order[0]] < reviewBelow || why is not null, row) { Unlike = why });
            }
            progress?.Report(new WorkProgress("classifying cells", f + 1, fields.Count, clock.Elapsed));
        }
        if (classifier is null)
            return new DifferentialCount(fields, skipped ?? [], cells, null, target, reviewBelow, [], null, null, [], null);

        var classified = cells.Where(c => c.Class is not null).ToList();
        int n = classified.Count;
        int stages = classified.Count(c => c.Class!.Value.IsStage());
        var classes = CellTaxonomy.All.Select(k => ClassShare.For($"{k.Code()} {k.DisplayName()}", classified.Count(c => c.Class == k), stages)).ToList();
        var nonStage = outputs.Where(k => !k.IsStage()).Select(k => ClassShare.For($"{k.Code()} {k.DisplayName()}", classified.Count(c => c.Class == k), n)).ToList();
        int myeloid = classified.Count(c => c.Class!.Value.RatioSide() == Series.Myeloid), erythroid = classified.Count(c => c.Class!.Value.RatioSide() == Series.Erythroid);
        var review = classified.Where(c => c.Review).OrderBy(c => c.Probability).ThenBy(c => c.Field, StringComparer.Ordinal).ThenBy(c => c.Cell.Y).ThenBy(c => c.Cell.X).ToList();
        var blasts = ClassShare.For("C5 myeloblast (blasts)", classified.Count(c => c.Class == CellClass.Myeloblast), n);
        var widest = classes.Where(c => c.Total > 0).MaxBy(c => c.HalfWidth);
        return new DifferentialCount(fields, skipped ?? [], cells, classifier.Value.Name, target, reviewBelow, classes, Ratio(myeloid, erythroid), blasts, review,
                                     widest is null ? null : CellsFor(widest.Share, DifferentialCount.WantedHalfWidth)) { NonStage = nonStage, Outputs = outputs, Envelope = unlike is not null };
    }

    /// <summary>M:E with its interval; null without a single myeloid or erythroid cell.</summary>
    public static RatioWithInterval? Ratio(int myeloid, int erythroid)
    {
        int n = myeloid + erythroid;
        if (n == 0) return null;
        var (low, high) = Intervals.ClopperPearson(myeloid, n);
        static double R(double p) => p >= 1 ? double.PositiveInfinity : p / (1 - p);
        return new RatioWithInterval(myeloid, erythroid, erythroid == 0 ? double.PositiveInfinity : (double)myeloid / erythroid, R(low), R(high));
    }

    /// <summary>The fewest cells whose exact 95% interval at proportion <paramref name="share"/> is at most
    /// ±<paramref name="halfWidth"/> (searched upwards; the count k is the share of n, rounded).</summary>
    public static int CellsFor(double share, double halfWidth, int limit = 100_000)
    {
        int Half(int n) { int k = (int)Math.Round(share * n); var (l, h) = Intervals.ClopperPearson(k, n); return (h - l) / 2 <= halfWidth ? 1 : 0; }
        int step = 1;
        int n0 = 1;
        while (n0 < limit && Half(n0) == 0) { n0 += step; step = Math.Min(step * 2, 256); }
        // Back off to the first n that reaches it.
        int lo = Math.Max(1, n0 - step);
        for (int n = lo; n <= Math.Min(n0, limit); n++) if (Half(n) == 1) return n;
        return Math.Min(n0, limit);
    }
}
