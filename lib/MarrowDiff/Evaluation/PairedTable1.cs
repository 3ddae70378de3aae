using MarrowDiff.Preparation;

namespace MarrowDiff.Evaluation;

/// <summary>One training set's model on the test cells (<see cref="Table1Row"/>), with its intervals and its paired comparisons.</summary>
/// <param name="AgainstOG">The same test cells against the OG model (null for OG itself).</param>
/// <param name="AgainstPrevious">Against the row before it in the paper's order (null for the first row).</param>
public sealed record PairedTable1Row(Table1Row Row, (double Low, double High) AccuracyInterval, (double Low, double High) MacroF1Interval,
                                     PairedComparison? AgainstOG, PairedComparison? AgainstPrevious)
{
    public string Variant => Row.Variant;
    public int TrainingImages => Row.TrainingImages;
    public CellPredictions Predictions => Row.Predictions;
    public ClassificationMetrics Metrics => Row.Metrics;
}

/// <summary>
/// The paper's Table 1 and its dual stage (Fig 7) as paired evidence: every training set's model scored on the same
/// test cells, with a 95% interval for each score (Wilson for accuracy, a bootstrap over cells for macro F1) and, for
/// each row, McNemar's exact test and a paired bootstrap of macro F1 against OG and against the row before it; the
/// dual stage against its own global model. Built from <see cref="Table1Row"/>s alone, so it rebuilds from saved
/// predictions without a model.
/// </summary>
public sealed record PairedTable1(string Task, IReadOnlyList<PairedTable1Row> Rows, PairedTable1Row DualStage, PairedComparison DualAgainstGlobal, int Seed)
{
    /// <param name="rows">The six training sets, in any order: they are put in the paper's by their names' roles
    /// (<see cref="Table1Roles"/>).</param>
    /// <param name="dualStage">The dual stage (AG+OS high as its global model, plus the local band/segmented model);
    /// its training images are the local model's.</param>
    /// <param name="seed">Seeds every bootstrap, so the table is the same on every run.</param>
    public static PairedTable1 Build(string task, IReadOnlyList<Table1Row> rows, Table1Row dualStage, int seed)
    {
        if (rows.Count < 2) throw new ArgumentException($"{task}: a table of {rows.Count} training sets compares nothing", nameof(rows));
        var roles = Table1Roles.Of(rows.Select(r => r.Variant), requireDualStage: false);
        var byName = rows.ToDictionary(r => r.Variant);
        var ordered = Enum.GetValues<Table1Role>().Where(r => r != Table1Role.DualStage).Select(r => byName[roles[r]]).ToList();
        var paired = new List<PairedTable1Row>();
        for (int i = 0; i < ordered.Count; i++)
            paired.Add(Row(ordered[i], i == 0 ? null : PairedComparison.Of(ordered[0].Predictions, ordered[i].Predictions, seed),
                           i == 0 ? null : PairedComparison.Of(ordered[i - 1].Predictions, ordered[i].Predictions, seed), seed));
        // The dual stage's global model is AG+OS at the higher N, found by its name.
        var global = byName[roles[Table1Role.AGOSHigh]];
        var againstGlobal = PairedComparison.Of(global.Predictions, dualStage.Predictions, seed);
        var dual = Row(dualStage with { Variant = $"dual stage ({global.Variant} + local C9/C10)" },
                       PairedComparison.Of(ordered[0].Predictions, dualStage.Predictions, seed), againstGlobal, seed);
        return new PairedTable1(task, paired, dual, againstGlobal, seed);
    }

    private static PairedTable1Row Row(Table1Row row, PairedComparison? og, PairedComparison? previous, int seed)
    {
        var (m, p) = (row.Metrics, row.Predictions);
        return new PairedTable1Row(row, Intervals.Wilson(m.Accuracy, p.Count), Intervals.BootstrapMacroF1(p.Truth, p.Predicted, p.Outputs.Count, seed), og, previous);
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
