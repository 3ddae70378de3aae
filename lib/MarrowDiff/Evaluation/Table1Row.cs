namespace MarrowDiff.Evaluation;

/// <summary>
/// One row of Table 1, on the phantom or on real cells: a training set by its name, its size, and its model's answers
/// on the test cells. Every score of the row (accuracy, F1, intervals, paired tests) is read off those answers, so a
/// table rebuilds from saved <see cref="CellPredictions"/> without the model.
/// </summary>
public sealed record Table1Row(string Variant, int TrainingImages, CellPredictions Predictions)
{
    public ClassificationMetrics Metrics { get; } = Predictions.Metrics;
}
