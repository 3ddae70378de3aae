using MarrowDiff.Core;
using MarrowDiff.Evaluation;
using MarrowDiff.Preparation;

namespace MarrowDiff.Experiments;

/// <summary>
/// Table 1 regenerated: one row per training set with its size and test accuracy, precision, recall and F1
/// (support-weighted, as the paper's; macro beside them), next to the paper's published row of the same role
/// (<see cref="PaperClaims.PaperRows"/>). Only accuracy is given in the paper's text; its Table 1 image is not available
/// to us, so the other paper columns stay empty. The real-cell table (<see cref="PairedTable1"/>) is built on the same
/// rows, with intervals and paired tests.
/// </summary>
public sealed record Table1(IReadOnlyList<Table1Row> Rows, ExperimentProfile Profile, Provenance Provenance, SplitOptions Split)
{
    private readonly IReadOnlyDictionary<Table1Role, string> roles = Table1Roles.Of(Rows.Select(r => r.Variant), requireDualStage: false);

    public int TestImages => Rows[0].Predictions.Count;

    /// <summary>The row of the training set that plays <paramref name="role"/>, by its name (never its position).</summary>
    public Table1Row Of(Table1Role role) => Rows.Single(r => r.Variant == roles[role]);

    /// <summary>The paper's row that plays the same role as <paramref name="row"/>.</summary>
    public PaperRow PaperRowOf(Table1Row row) => PaperClaims.PaperRows[roles.Single(r => r.Value == row.Variant).Key];

    public string Caption => $"Table 1 regenerated - {Profile.Caveat}{(Provenance.Synthetic ? "; synthetic data" : "")}. " +
                             $"Test set: {TestImages} cells ({Split}). {Provenance.Stamp}";
}
