using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Training;

namespace MarrowDiff.Experiments;

/// <summary>One row of the cross-validation: a hyper-parameter set and its validation accuracy on each fold.</summary>
public sealed record CrossValidationRow(Hyperparameters Hyper, double[] FoldAccuracy)
{
    public double Mean => FoldAccuracy.Average();
}

/// <summary>The hyper-parameter search as it was run, and what it chose (highest mean validation accuracy).</summary>
public sealed record CrossValidationResult(string Variant, int Epochs, IReadOnlyList<CrossValidationRow> Rows, Hyperparameters Chosen);

/// <summary>A fold ensemble and its cross-validation: each fold's cells as predicted by the member that did not train on them.</summary>
public sealed record FoldEnsembleResult(FoldEnsemble Ensemble, IReadOnlyList<Predictions> HeldOut)
{
    /// <summary>Metrics of all held-out predictions pooled (every training-side cell once): the cross-validated score.</summary>
    public ClassificationMetrics Pooled
    {
        get
        {
            var truth = HeldOut.SelectMany(p => p.Truth).ToList();
            var predicted = HeldOut.SelectMany(p => p.Predicted).ToList();
            return ClassificationMetrics.From(truth, predicted, HeldOut[0].Classes.Select(c => c.Label()).ToList());
        }
    }

    /// <summary>The 95% interval of <see cref="Pooled"/>'s macro F1: a bootstrap over the held-out cells seeded by
    /// <paramref name="seed"/>, so a report gives the same interval on every run.</summary>
    public (double Low, double High) PooledMacroF1Interval(int seed) =>
        Intervals.BootstrapMacroF1([.. HeldOut.SelectMany(p => p.Truth)], [.. HeldOut.SelectMany(p => p.Predicted)], HeldOut[0].Classes.Count, seed);

    /// <summary>Each fold's metrics (their spread says how much one fold's score can be trusted).</summary>
    public IReadOnlyList<ClassificationMetrics> PerFold => HeldOut.Select(p => p.Metrics).ToList();

    /// <summary>The scores saved in the ensemble's manifest and a model's README: the pooled accuracy and macro F1,
    /// the latter's 95% interval (<see cref="PooledMacroF1Interval"/>, seeded by <paramref name="seed"/>), each fold's, and
    /// the review threshold chosen on the held-out cells (<see cref="ReviewThreshold"/>).</summary>
    public IReadOnlyDictionary<string, double> Scores(int seed)
    {
        var (low, high) = PooledMacroF1Interval(seed);
        var d = new Dictionary<string, double>
        {
            ["cv_accuracy"] = Pooled.Accuracy, ["cv_macro_f1"] = Pooled.MacroF1, ["cv_macro_f1_ci95_low"] = low, ["cv_macro_f1_ci95_high"] = high,
        };
        for (int k = 0; k < HeldOut.Count; k++) d[$"fold{k + 1}_macro_f1"] = PerFold[k].MacroF1;
        // Where the review queue starts, chosen on the same held-out cells (never a test cell).
        foreach (var (name, value) in ReviewThreshold.Choose(HeldOut).Scores) d[name] = value;
        return d;
    }

    /// <summary>
    /// The cross-validation of several recipes answering together: each held-out cell's softmax the mean of the
    /// recipes' fold-k models that held it out, so the combination is scored, as each recipe is, only by models that
    /// never saw the cell. Why: whether, say, the ResNet and the VGG err on different cells, so that their mean beats
    /// both, is a question the folds can answer without a test cell and without training anything again. The recipes
    /// must share the split (the same cells in every fold, in the same order) and the classes; their inputs may
    /// differ (side, pitch, network), as each model reads its own patches. The result's ensemble holds every recipe's
    /// members (each recipe weighs the same, as each has one model a fold) and shares them: dispose the results it
    /// was made from, or it, not both.
    /// </summary>
    public static FoldEnsembleResult Mean(IReadOnlyList<FoldEnsembleResult> results)
    {
        if (results.Count < 2) throw new ArgumentException($"a mean of recipes needs at least two, got {results.Count}", nameof(results));
        var first = results[0];
        if (results.FirstOrDefault(other => other.HeldOut.Count != first.HeldOut.Count) is { } unequal)
            throw new ArgumentException($"{unequal.Ensemble.Name}: {unequal.HeldOut.Count} folds where {first.Ensemble.Name} has {first.HeldOut.Count}", nameof(results));
        var held = new List<Predictions>();
        for (int k = 0; k < first.HeldOut.Count; k++)
        {
            var reference = first.HeldOut[k];
            var sum = (float[,])reference.Probabilities.Clone();
            foreach (var other in results.Skip(1))
            {
                var p = other.HeldOut[k];
                if (!p.Classes.SequenceEqual(reference.Classes))
                    throw new ArgumentException($"{p.Model}: its classes differ from {reference.Model}'s", nameof(results));
                if (p.Count != reference.Count || Enumerable.Range(0, p.Count).Any(i => p.Set.CellOf(i).Path != reference.Set.CellOf(i).Path))
                    throw new ArgumentException($"{p.Model}: fold {k + 1} holds other cells than {reference.Model} (another split or order)", nameof(results));
                for (int i = 0; i < p.Count; i++)
                    for (int c = 0; c < p.Classes.Count; c++) sum[i, c] += p.Probabilities[i, c];
            }
            for (int i = 0; i < reference.Count; i++)
                for (int c = 0; c < reference.Classes.Count; c++) sum[i, c] /= results.Count;
            held.Add(new Predictions($"mean of {results.Count} recipes, fold {k + 1}", reference.Set, sum));
        }
        return new FoldEnsembleResult(new FoldEnsemble([.. results.SelectMany(r => r.Ensemble.Members)]), held);
    }
}
