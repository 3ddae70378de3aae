using MarrowDiff.Preparation;

namespace MarrowDiff.Evaluation;

/// <summary>One training set's model on the test cells, with its intervals and its paired comparisons.</summary>
/// <param name="AgainstOG">The same test cells against the OG model (null for OG itself).</param>
/// <param name="AgainstPrevious">Against the row before it in the paper's order (null for the first row).</param>
public sealed record PairedTable1Row(string Variant, int TrainingImages, CellPredictions Predictions, ClassificationMetrics Metrics,
                                     (double Low, double High) AccuracyInterval, (double Low, double High) MacroF1Interval,
                                     PairedComparison? AgainstOG, PairedComparison? AgainstPrevious);

/// <summary>
/// The paper's Table 1 and its dual stage (Fig 7) as paired evidence: every training set's model scored on the same
/// test cells, with a 95% interval for each score (Wilson for accuracy, a bootstrap over cells for macro F1) and, for
/// each row, McNemar's exact test and a paired bootstrap of macro F1 against OG and against the row before it; the
/// dual stage against its own global model. Built from <see cref="CellPredictions"/> alone, so it rebuilds from saved
/// files without a model.
/// </summary>
public sealed record PairedTable1(string Task, IReadOnlyList<PairedTable1Row> Rows, PairedTable1Row DualStage, PairedComparison DualAgainstGlobal, int Seed)
{
    /// <param name="models">In the paper's order: OG, AG, OS low, OS high, AG+OS low, AG+OS high.</param>
    /// <param name="dualStage">The dual stage (the last model as its global model, plus the local band/segmented model).</param>
    /// <param name="seed">Seeds every bootstrap, so the table is the same on every run.</param>
    public static PairedTable1 Build(string task, IReadOnlyList<(string Variant, int TrainingImages, CellPredictions Predictions)> models,
                                     (int TrainingImages, CellPredictions Predictions) dualStage, int seed)
    {
        if (models.Count < 2) throw new ArgumentException($"{task}: a table of {models.Count} training sets compares nothing", nameof(models));
        var rows = new List<PairedTable1Row>();
        for (int i = 0; i < models.Count; i++)
        {
            var (variant, images, p) = models[i];
            rows.Add(Row(variant, images, p, i == 0 ? null : PairedComparison.Of(models[0].Predictions, p, seed),
                         i == 0 ? null : PairedComparison.Of(models[i - 1].Predictions, p, seed), seed));
        }
        // The dual stage's global model is AG+OS at the higher N, found by its name.
        string globalName = Table1Roles.Of(models.Select(m => m.Variant), requireDualStage: false)[Table1Role.AGOSHigh];
        var global = models.Single(m => m.Variant == globalName).Predictions;
        var againstGlobal = PairedComparison.Of(global, dualStage.Predictions, seed);
        var dual = Row($"dual stage ({globalName} + local C9/C10)", dualStage.TrainingImages, dualStage.Predictions,
                       PairedComparison.Of(models[0].Predictions, dualStage.Predictions, seed), againstGlobal, seed);
        return new PairedTable1(task, rows, dual, againstGlobal, seed);
    }

    private static PairedTable1Row Row(string variant, int images, CellPredictions p, PairedComparison? og, PairedComparison? previous, int seed)
    {
        var m = p.Metrics;
        return new PairedTable1Row(variant, images, p, m, Intervals.Wilson(m.Accuracy, p.Count),
                                   Intervals.BootstrapMacroF1(p.Truth, p.Predicted, p.Outputs.Count, seed), og, previous);
    }

    /// <summary>Profile, data, seed and commit of the models (a provenance stamp), shown with every view of the table.</summary>
    public string Stamp { get; init; } = "";

    public int TestCells => Rows[0].Predictions.Count;

    /// <summary>The row that plays <paramref name="role"/> (<see cref="Table1Roles"/>): rows by what they are, not where they stand.</summary>
    public PairedTable1Row Of(Table1Role role) =>
        role == Table1Role.DualStage ? DualStage : Rows.Single(r => r.Variant == Table1Roles.Of(Rows.Select(x => x.Variant).Append(Table1Roles.DualStageName))[role]);

    /// <summary>The sources of the test cells, in order of first appearance.</summary>
    public IReadOnlyList<string> Sources => Rows[0].Predictions.Cells.Select(c => c.Source).Distinct().ToList();
}
