using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Detection;
using MarrowDiff.Evaluation;

namespace MarrowDiff.Counting;

/// <summary>One class of the phantom count against the truth: is the true share inside the counted interval?</summary>
public sealed record TruthRow(CellClass Class, int TrueCount, double TrueShare, ClassShare Counted)
{
    public bool Inside => TrueShare >= Counted.Low && TrueShare <= Counted.High;
}

/// <summary>The differential count run on a phantom the model never saw, with every nucleated cell's centre, diameter
/// and class known: detection scored against the centres, the counted differential against the true one class by
/// class (notebook 08; views in <c>Reports.CountViews</c>).</summary>
/// <param name="Root">The phantom's folder.</param>
/// <param name="Truth">One row a class; empty when the fields were only searched, not classified.</param>
public sealed record PhantomCountCheck(string Root, DifferentialCount Count, CountTiming Timing, DetectionScore Detection, IReadOnlyList<TruthRow> Truth, Provenance Provenance);

/// <summary>White-cell finding on real fields annotated with boxes (TXL-PBC, peripheral blood), field by field: a found
/// centre inside a box matches it, one to one. Only detection: the boxes say "white cell", not a stage.</summary>
/// <param name="Root">The dataset's folder (<c>images/&lt;split&gt;</c>, <c>labels/&lt;split&gt;</c>).</param>
/// <param name="Timing">Null when the folder is absent.</param>
public sealed record BoxedFieldsCheck(string Root, string Split, IReadOnlyList<(DetectedField Field, IReadOnlyList<CellBox> Boxes, DetectionScore Score)> Fields, CountTiming? Timing)
{
    public bool Present => Fields.Count > 0;

    public DetectionScore Total => Fields.Aggregate(DetectionScore.Empty, (a, f) => a + f.Score);
}
