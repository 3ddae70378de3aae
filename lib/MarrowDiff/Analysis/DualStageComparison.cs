using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Training;

namespace MarrowDiff.Analysis;

/// <summary>
/// The paper's Fig 7 and its numbers: the global model and the dual-stage model on the same test cells, their
/// confusion matrices side by side with the pair's block boxed, their metrics, the cells whose prediction changed,
/// and McNemar's test on the paired predictions (is the change more than chance?). Its views are in
/// <c>Reports.DualStageViews</c>.
/// </summary>
public sealed class DualStageComparison
{
    public DualStageComparison(Predictions global, Predictions dual, TrainedModel local, string profileCaveat, Provenance provenance)
    {
        if (global.Count != dual.Count) throw new ArgumentException($"{global.Count} against {dual.Count} test cells: the comparison must be paired");
        Global = global; Dual = dual; Local = local; ProfileCaveat = profileCaveat; Provenance = provenance;
        McNemar = McNemarResult.Test(global.CorrectFlags, dual.CorrectFlags);
    }

    public Predictions Global { get; }
    public Predictions Dual { get; }
    public TrainedModel Local { get; }
    /// <summary>The profile's caveat (e.g. "smoke profile: not comparable to the paper"), carried onto every view.</summary>
    public string ProfileCaveat { get; }
    public Provenance Provenance { get; }
    public McNemarResult McNemar { get; }

    public (CellClass First, CellClass Second) Pair => (Local.Outputs[0], Local.Outputs[1]);

    public string Caveat => $"{ProfileCaveat}{(Provenance.Synthetic ? "; synthetic data" : "")}";
}
