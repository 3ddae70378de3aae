using MarrowDiff.Core;
using MarrowDiff.Evaluation;
using MarrowDiff.Preparation;

namespace MarrowDiff.Experiments;

/// <summary>One row of Table 1.</summary>
public sealed record Table1Row(string Variant, int TrainingImages, ClassificationMetrics Metrics);

/// <summary>
/// Table 1 regenerated: one row per training set with its size and test accuracy, precision, recall and F1
/// (support-weighted, as the paper's; macro beside them), next to the paper's published accuracy. Only accuracy is
/// given in the paper's text; its Table 1 image is not available to us, so the other paper columns stay empty.
/// </summary>
public sealed record Table1(IReadOnlyList<Table1Row> Rows, int TestImages, ExperimentProfile Profile, Provenance Provenance, SplitOptions Split)
{
    /// <summary>The paper's accuracies (Results text), by Table 1 position.</summary>
    public static readonly (string Variant, int Images, double Accuracy)[] PaperRows =
        [("OG", 2174, 0.578), ("AG", 17392, 0.719), ("OS300", 3000, 0.6562), ("OS600", 6000, 0.9057), ("AG+OS300", 24000, 0.8505), ("AG+OS600", 48000, 0.9568)];

    /// <summary>The row of the training set that plays <paramref name="role"/>, by its name (never its position).</summary>
    public Table1Row Of(Table1Role role) => Rows.Single(r => r.Variant == Table1Roles.Of(Rows.Select(x => x.Variant), requireDualStage: false)[role]);

    public string Caption => $"Table 1 regenerated - {Profile.Caveat}{(Provenance.Synthetic ? "; synthetic data" : "")}. " +
                             $"Test set: {TestImages} cells ({Split}). {Provenance.Stamp}";
}
