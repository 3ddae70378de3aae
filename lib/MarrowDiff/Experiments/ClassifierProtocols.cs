using System.Text.Json;
using MarrowDiff.Preparation;
using MarrowDiff.Training;

namespace MarrowDiff.Experiments;

/// <summary>
/// The front door of every protocol (<see cref="ExperimentProfile.Protocol"/>): how a profile turns one training set
/// into the classifier that answers, and how that classifier is saved. <c>marrow train</c>, notebook 07 and the real
/// Table 1 all call <see cref="Experiment.TrainClassifier"/> or <see cref="Experiment.TrainClassifiers"/>, which ask
/// <see cref="For"/>; a new protocol is one more subclass here.
/// </summary>
public abstract class ClassifierProtocol
{
    public static ClassifierProtocol For(ExperimentProfile profile) => profile.Protocol switch
    {
        Protocol.Search => new HeldOutModel(),
        Protocol.FoldEnsemble => new FoldModelsTogether(),
        Protocol.FoldsThenFinal => new FoldsThenFinalModel(),
        var p => throw new ArgumentOutOfRangeException(nameof(profile), p, $"profile {profile.Name}: no front door for protocol {p}"),
    };

    /// <summary>The classifier of <paramref name="variant"/> under <paramref name="hyper"/> (trained, or read from the cache).</summary>
    public abstract TrainedClassifier Train(Experiment experiment, TrainingVariant variant, Hyperparameters hyper);

    /// <summary>The classifiers of several training sets (Table 1's rows), in their order.</summary>
    public virtual IReadOnlyList<TrainedClassifier> Train(Experiment experiment, IReadOnlyList<TrainingVariant> variants, Hyperparameters hyper)
    {
        var trained = new List<TrainedClassifier>();
        try { foreach (var v in variants) trained.Add(Train(experiment, v, hyper)); }
        catch { foreach (var t in trained) t.Dispose(); throw; }
        return trained;
    }

    /// <summary>The paper's: one model that held out the validation fold (whose accuracy per epoch is its curve).</summary>
    private sealed class HeldOutModel : ClassifierProtocol
    {
        public override TrainedClassifier Train(Experiment experiment, TrainingVariant variant, Hyperparameters hyper) =>
            new(experiment.Train(variant, hyper), Folds: null);

        // Table 1's rows train side by side under side_by_side, one a core.
        public override IReadOnlyList<TrainedClassifier> Train(Experiment experiment, IReadOnlyList<TrainingVariant> variants, Hyperparameters hyper) =>
            experiment.Train(variants, hyper).Select(m => new TrainedClassifier(m, Folds: null)).ToList();
    }

    /// <summary>The k fold models are the cross-validation and, answering together, the classifier.</summary>
    private sealed class FoldModelsTogether : ClassifierProtocol
    {
        public override TrainedClassifier Train(Experiment experiment, TrainingVariant variant, Hyperparameters hyper)
        {
            var folds = experiment.TrainFoldEnsemble(variant, hyper, withFinal: true);
            return new TrainedClassifier(folds.Ensemble, folds);
        }
    }

    /// <summary>The k fold models are the cross-validation; one more model on all five folds answers alone.</summary>
    private sealed class FoldsThenFinalModel : ClassifierProtocol
    {
        public override TrainedClassifier Train(Experiment experiment, TrainingVariant variant, Hyperparameters hyper)
        {
            var folds = experiment.TrainFoldEnsemble(variant, hyper, withFinal: true);
            try { return new TrainedClassifier(experiment.TrainFinal(variant, hyper), folds); }
            catch { folds.Ensemble.Dispose(); throw; }
        }
    }
}

/// <summary>
/// A protocol's answer: the classifier (a model, a fold ensemble, or a final model) and, when folds were trained, their
/// cross-validation. Disposing it disposes both.
/// </summary>
public sealed record TrainedClassifier(ISavedClassifier Classifier, FoldEnsembleResult? Folds) : IDisposable
{
    /// <summary>Saves the classifier into <paramref name="folder"/> with the resolved profile: a fold ensemble with its
    /// pooled cross-validated scores; a final model with them too and, beside it,
    /// <see cref="SavedScores.CrossValidationFile"/>; a single model alone.</summary>
    public void Save(string folder, string profileJson, int seed)
    {
        var scores = Folds?.Scores(seed);
        switch (Classifier)
        {
            case FoldEnsemble ensemble:
                ensemble.Save(folder, profileJson, scores);
                break;
            case TrainedModel model when scores is not null:
                model.Save(folder, profileJson, extraFiles: new Dictionary<string, string>
                {
                    [SavedScores.CrossValidationFile] = JsonSerializer.Serialize(scores, new JsonSerializerOptions { WriteIndented = true }),
                }, scores: scores);
                break;
            case TrainedModel model:
                model.Save(folder, profileJson);
                break;
            default:
                throw new InvalidOperationException($"{Classifier.Name}: a {Classifier.GetType().Name} is not a classifier a protocol saves");
        }
    }

    public void Dispose()
    {
        Classifier.Dispose();
        if (Folds is not null && !ReferenceEquals(Folds.Ensemble, Classifier)) Folds.Ensemble.Dispose();
    }
}
