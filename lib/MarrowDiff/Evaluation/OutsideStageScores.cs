using MarrowDiff.Data;

namespace MarrowDiff.Evaluation;

/// <summary>One type of cell outside the ten stages, on the cells scored: how many, how many got their own type, and
/// how many were called a maturation stage (the error that puts them into a stage's percentage).</summary>
public sealed record OutsideStageType(CellClass Class, int Cells, int Right, int CalledAStage);

/// <summary>
/// What a model that also names the cells outside the ten stages is judged by: the share of those cells it does not
/// call a stage (the count keeps them out of the stage percentages only if it does not), and the stages' own macro-F1
/// over the stage cells, a stage cell called a lymphocyte counting against its stage, to set beside the same recipe
/// trained without them.
/// </summary>
public sealed record OutsideStageScores(int Cells, int CalledAStage, double StagesMacroF1, IReadOnlyList<OutsideStageType> Types)
{
    /// <summary>Share of the cells outside the stages not counted as a stage (1 when there are none).</summary>
    public double NotCalledAStage => Cells == 0 ? 1 : 1 - (double)CalledAStage / Cells;

    /// <summary>The scores of <paramref name="p"/>; null when its outputs are the stages only.</summary>
    public static OutsideStageScores? Of(CellPredictions p)
    {
        if (p.Outputs.All(k => k.IsStage())) return null;
        var outside = p.Cells.Where(c => !c.Truth.IsStage()).ToList();
        var types = p.Outputs.Where(k => !k.IsStage()).Select(k =>
        {
            var of = outside.Where(c => c.Truth == k).ToList();
            return new OutsideStageType(k, of.Count, of.Count(c => c.Predicted == k), of.Count(c => c.Predicted.IsStage()));
        }).ToList();
        // Per-stage F1 from the whole confusion matrix (a cell outside the stages called C9 is a false positive of C9),
        // averaged over the stages that have cells.
        var metrics = p.Metrics;
        var stages = p.Outputs.Select((k, i) => (k, i)).Where(x => x.k.IsStage() && metrics.PerClass[x.i].Support > 0).ToList();
        double f1 = stages.Count == 0 ? double.NaN : stages.Average(x => metrics.PerClass[x.i].F1);
        return new OutsideStageScores(outside.Count, outside.Count(c => c.Predicted.IsStage()), f1, types);
    }
}
