using MarrowDiff.Analysis;
using MarrowDiff.Evaluation;
using MarrowDiff.Preparation;
using MarrowDiff.Training;

namespace MarrowDiff.Experiments;

/// <summary>What is asked of trained models afterwards: the test set scored once, the error analysis, the invariance
/// models (Fig 5) and the dual-stage comparison (Fig 7).</summary>
public sealed partial class Experiment
{
    /// <summary>The model of the training set that plays <paramref name="role"/> among <paramref name="models"/> (AG+OS at
    /// the higher N: the dual stage's global model), found by its name, never by its place in the list.</summary>
    public static TrainedModel ModelOf(IReadOnlyList<TrainedModel> models, Table1Role role)
    {
        string name = Table1Roles.Of(models.Select(m => m.Card.Variant), requireDualStage: false)[role];
        return models.Single(m => m.Card.Variant == name);
    }

    /// <summary>The three models the paper compares for invariance (Fig 5B/C): AG (rotations only), OS at the higher
    /// count (re-crops only) and AG+OS at the higher count (both), picked from the six of <see cref="TrainAll"/>.</summary>
    public IReadOnlyList<TrainedModel> InvarianceModels(IReadOnlyList<TrainedModel> models)
    {
        var roles = Table1Roles.Of(Profile.Variants.Select(v => v.Name), requireDualStage: false);
        string[] names = [roles[Table1Role.AG], roles[Table1Role.OSHigh], roles[Table1Role.AGOSHigh]];
        return names.Select(n => models.FirstOrDefault(m => m.Card.Variant == n) ?? throw new ArgumentException($"no {n} model among {string.Join(", ", models.Select(m => m.Card.Variant))}")).ToList();
    }

    /// <summary>The error analysis of a classifier (a model or a dual stage) on the test set.</summary>
    public ErrorAnalysis Errors(ICellClassifier classifier)
    {
        TrainedModel network = classifier switch
        {
            TrainedModel m => m,
            DualStageClassifier { Global: TrainedModel g } => g,
            _ => throw new ArgumentException($"{classifier.Name}: occlusion needs a TrainedModel or a DualStageClassifier"),
        };
        Predictions p = TestPredictions(classifier);
        var cells = Enumerable.Range(0, p.Count).Select(p.Set.CellOf).ToList();
        return new ErrorAnalysis(p, network, Prep.Tiles, cells, Prep.Provenance, Profile.Caveat);
    }

    /// <summary>A classifier's predictions on the test set. Only for analysis after training: nothing computed from
    /// it goes back into a model or a choice of model.</summary>
    public Predictions TestPredictions(ICellClassifier classifier)
    {
        SampleSet test = Prep.TestSet().AnsweredBy(classifier.Outputs);
        return new Predictions(classifier.Name, test, classifier.Probabilities(test));
    }

    /// <summary>Fig 7: the global model against the dual-stage model on the same test cells, with McNemar's test.</summary>
    public DualStageComparison CompareDualStage(ISavedClassifier global, TrainedModel local)
    {
        var dual = new DualStageClassifier(global, local);
        return new DualStageComparison(TestPredictions(global), TestPredictions(dual), local, Profile.Caveat, Prep.Provenance);
    }

    /// <summary>The final evaluation: every model scored on the test set, once. The test set's images are read only
    /// here and by the analyses after it (<see cref="TestPredictions"/>), never during training or model choice.</summary>
    public Table1 Evaluate(IReadOnlyList<TrainedModel> models)
    {
        var rows = models.Select(m => new Table1Row(m.Card.Variant, m.Card.TrainingImages, TestPredictions(m).Answers)).ToList();
        return new Table1(rows, Profile, Prep.Provenance, Prep.Split.Options);
    }

    /// <summary>The models' answers on the test cells as one training seed of <see cref="Table1Replicates"/> (the
    /// profile's training seed), with the dual stage when <paramref name="dualStage"/> is given: the paper's claims
    /// (<see cref="ClaimsTest"/>) tested on one run. Only for analysis after training, as <see cref="TestPredictions"/>.</summary>
    public Table1Replicates TestReplicates(IReadOnlyList<TrainedModel> models, ICellClassifier? dualStage = null)
    {
        var rows = Evaluate(models).Rows.ToDictionary(r => r.Variant, r => r.Predictions);
        var training = models.ToDictionary(m => m.Card.Variant, m => (m.Card.TrainingImages, m.Card.Steps));
        if (dualStage is not null) rows[Table1Roles.DualStageName] = TestPredictions(dualStage).Answers;
        if (dualStage is DualStageClassifier { Local: var local }) training[Table1Roles.DualStageName] = (local.Card.TrainingImages, local.Card.Steps);
        return new Table1Replicates($"{Prep.Provenance.Data} ({Profile.Caveat})", [(Profile.ModelSeed, rows)]) { Training = training, Stamp = Prep.Provenance.Stamp };
    }
}
