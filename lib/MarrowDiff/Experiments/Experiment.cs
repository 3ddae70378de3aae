using System.Globalization;
using System.Text.Json;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Preparation;
using MarrowDiff.Training;

namespace MarrowDiff.Experiments;

/// <summary>
/// The paper's experiment on one dataset and split: five-fold cross-validation picks the hyper-parameters, the six
/// training sets each train a model, and only then the test set is scored, once. Models and the search are cached
/// under <see cref="ModelsRoot"/> by their <see cref="ModelKey"/> (data, split, variant, recipe, seed), so notebooks 05
/// and 06 reuse notebook 04's models and a changed setting trains afresh.
/// </summary>
public sealed partial class Experiment
{
    private readonly string _dataFingerprint, _splitFingerprint;

    public Experiment(DataPreparation prep, ExperimentProfile profile, string modelsRoot)
    {
        if (profile.Seed != prep.Provenance.Seed)
            throw new ArgumentException($"profile {profile.Name} carries seed {profile.Seed} but the data were prepared with seed {prep.Provenance.Seed}: " +
                                        "one seed makes the split and the training (ExperimentProfile.WithSeed)", nameof(profile));
        Prep = prep; Profile = profile.Validate(); ModelsRoot = Path.GetFullPath(modelsRoot);
        _dataFingerprint = ModelKey.DataFingerprint(prep);
        _splitFingerprint = ModelKey.SplitFingerprint(prep.Split);
    }

    public DataPreparation Prep { get; }
    public ExperimentProfile Profile { get; }
    public string ModelsRoot { get; }

    /// <summary>
    /// The classes every model of this experiment answers, when they are not the paper's ten: a task that also names
    /// cells outside the stages (<see cref="CellDataset.WithNonStageOutcomes"/>) answers exactly the classes its cells
    /// have (<see cref="TaskOutputs"/>), so a model card never lists a class it was not trained on. Null: the ten, as
    /// every model of the paper's task (their keys do not change).
    /// </summary>
    public IReadOnlyList<CellClass>? Outputs
    {
        get => _outputs;
        init
        {
            if (value is not null && Profile.Protocol == Protocol.Search)
                throw new ArgumentException($"profile {Profile.Name}: the cells outside the stages are trained under a fold protocol (ensemble_folds 1…5); its search trains ten-class models");
            _outputs = value;
        }
    }

    private readonly IReadOnlyList<CellClass>? _outputs;

    /// <summary>The classes a prepared task's cells have, stages first (C order), then the cells outside them.</summary>
    public static IReadOnlyList<CellClass> TaskOutputs(DataPreparation prep)
    {
        var present = prep.Split.Cells.Select(c => c.Label.Class!.Value).ToHashSet();
        return [.. CellTaxonomy.Outcomes.Where(present.Contains)];
    }

    /// <summary>Receives training progress (console bar, notebook display).</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }

    /// <summary>Lines saying what was trained and what came from the cache.</summary>
    public List<string> Log { get; } = [];

    // Models trained side by side add their lines from their own threads.
    private void Note(string line) { lock (Log) Log.Add(line); }

    /// <summary>Five-fold cross-validation over the profile's grid on the training-validation side (the test set
    /// is not part of it). Cached.</summary>
    public CrossValidationResult CrossValidate()
    {
        var variant = Prep.Variant(Profile.CrossValidationVariant);
        // A search is not a model, but is cached by the same kind of key: the grid beside the first point's recipe.
        var key = new ModelKey("cv", _dataFingerprint, _splitFingerprint, variant.Name, Profile.Training(Profile.Grid[0], Profile.CrossValidationEpochs), HeldOutFold: null,
                               Grid: Profile.Grid);
        string file = Path.Combine(ModelsRoot, $"cv-{variant.Name}-{key.Hash}.json");
        if (File.Exists(file))
        {
            key.Check(file + ".key");
            Note($"cross-validation read from {file}");
            return JsonSerializer.Deserialize<CrossValidationResult>(File.ReadAllText(file), Json)!;
        }
        var rows = new List<CrossValidationRow>();
        foreach (var hyper in Profile.Grid)
        {
            double[] accuracy = new double[SplitOptions.Folds];
            for (int fold = 1; fold <= SplitOptions.Folds; fold++)
            {
                SampleSet train = Prep.Build(variant, fold, trainingSeed: Profile.TrainingSeed);
                SampleSet validation = SampleSet.Original(Prep.Tiles, Prep.Split.Sides(fold).Validation, $"fold {fold}");
                var trainer = new Trainer(Profile.Training(hyper, Profile.CrossValidationEpochs));
                var (model, history) = trainer.TrainNetwork(train, train.Normalisation(Prep.Provenance.Data), validation, null,
                                                     $"CV {hyper.LearningRate:G3} fold {fold}", Progress);
                using (model) accuracy[fold - 1] = history[^1].ValidationAccuracy ?? 0;
            }
            rows.Add(new CrossValidationRow(hyper, accuracy));
        }
        var result = new CrossValidationResult(variant.Name, Profile.CrossValidationEpochs, rows, rows.MaxBy(r => r.Mean)!.Hyper);
        // The key first: a result without its key is refused, never read as if it were the one asked for.
        AtomicFile.WriteAllText(file + ".key", key.ToJson());
        AtomicFile.WriteAllText(file, JsonSerializer.Serialize(result, Json));
        Note($"cross-validation run: {rows.Count} hyper-parameter sets x {SplitOptions.Folds} folds; chose {result.Chosen}");
        return result;
    }

    /// <summary>The final model of <paramref name="variant"/>: trained on the training-validation side except the
    /// profile's validation fold (whose accuracy per epoch is Fig 4A's curve). Cached; an interrupted run resumes
    /// from its checkpoint.</summary>
    public TrainedModel Train(TrainingVariant variant, Hyperparameters hyper) => LoadOrTrain(HeldOutJob(variant, hyper));

    private ModelJob HeldOutJob(TrainingVariant variant, Hyperparameters hyper) =>
        Job(new ModelPlan(Kind.HeldOut, variant, Profile.FoldTraining(hyper), Profile.ValidationFold));

    /// <summary>The classifier the profile's protocol makes of <paramref name="variant"/>: one held-out model (the
    /// paper's), a fold ensemble, or the folds then a final model (<see cref="ClassifierProtocol"/>).</summary>
    public TrainedClassifier TrainClassifier(TrainingVariant variant, Hyperparameters hyper) => ClassifierProtocol.For(Profile).Train(this, variant, hyper);

    /// <summary>The classifiers of several training sets under the profile's protocol (side by side where it trains so).</summary>
    public IReadOnlyList<TrainedClassifier> TrainClassifiers(IReadOnlyList<TrainingVariant> variants, Hyperparameters hyper) =>
        ClassifierProtocol.For(Profile).Train(this, variants, hyper);

    /// <summary>The models of <paramref name="variants"/> (<see cref="Train(TrainingVariant, Hyperparameters)"/>), trained side by side, one a core, under
    /// <see cref="ExperimentProfile.SideBySide"/> (each single-threaded, so the bytes do not depend on the order), or one
    /// after another otherwise.</summary>
    public IReadOnlyList<TrainedModel> Train(IReadOnlyList<TrainingVariant> variants, Hyperparameters hyper)
    {
        var jobs = variants.Select(v => HeldOutJob(v, hyper)).ToList();
        TrainSideBySide(jobs);
        var models = new List<TrainedModel>();
        try { foreach (var job in jobs) models.Add(LoadOrTrain(job)); }
        catch { foreach (var m in models) m.Dispose(); throw; }
        return models;
    }

    /// <summary>
    /// The classifier of a <see cref="ExperimentProfile.FinalModel"/> profile: one model of <paramref name="variant"/>
    /// trained on every training-side cell (all five folds; no cell held out, so it has no validation curve), with the
    /// fold models' recipe. The fold ensemble's pooled cross-validation is its estimate. Cached like the fold models;
    /// the test set is not touched.
    /// </summary>
    public TrainedModel TrainFinal(TrainingVariant variant, Hyperparameters hyper) => LoadOrTrain(FinalJob(variant, hyper));

    /// <summary>
    /// The fold ensemble of a real-cell profile (<see cref="ExperimentProfile.EnsembleFolds"/> k): for fold 1…k, a
    /// model trained on <paramref name="variant"/>'s images of every other training-side fold and validated on its own
    /// fold. The held-out predictions of the k folds are the cross-validation (every training-side cell scored once, by
    /// the one model that never saw it); the k models together are the classifier. Each member is cached like a final
    /// model, so an interrupted run keeps the folds it finished. The test set is not touched. Under <see
    /// cref="ExperimentProfile.SideBySide"/> the models train side by side, one a core (<see cref="TrainSideBySide"/>).
    /// </summary>
    /// <param name="withFinal">Under final=one, also train the final model (beside the fold models when they train side
    /// by side); <see cref="TrainFinal"/> then returns it. False: the folds alone, as for choosing a recipe.</param>
    /// <param name="cellShare">Each fold model trains on this share of its training cells of each class (<see
    /// cref="DatasetSplit.Sides(int?, double)"/>) and is scored on its whole held-out fold: a point of a <see
    /// cref="LearningCurve"/>.</param>
    public FoldEnsembleResult TrainFoldEnsemble(TrainingVariant variant, Hyperparameters hyper, bool withFinal = false, double cellShare = 1)
    {
        int folds = Profile.EnsembleFolds;
        if (folds < 1) throw new InvalidOperationException($"profile {Profile.Name} trains no fold ensemble (ensemble_folds=0)");
        if (cellShare != 1 && withFinal)
            throw new ArgumentException($"share of the training cells {cellShare.ToString(CultureInfo.InvariantCulture)}: a learning curve's fold models are its answer; no final model trains on a share");
        var config = Profile.FoldTraining(hyper);
        var jobs = Enumerable.Range(1, folds).Select(fold => Job(new ModelPlan(Kind.Fold, variant, config, fold, cellShare))).ToList();
        // final=one: the final model trains beside the fold models (TrainFinal then finds it).
        TrainSideBySide(withFinal && Profile.FinalModel ? [.. jobs, FinalJob(variant, hyper)] : jobs);
        var members = new List<TrainedModel>();
        var held = new List<Predictions>();
        for (int fold = 1; fold <= folds; fold++)
        {
            TrainedModel model = LoadOrTrain(jobs[fold - 1]);
            members.Add(model);
            var validation = jobs[fold - 1].Validation!;
            held.Add(new Predictions($"{variant.Name} fold {fold}", validation, model.Probabilities(validation)));
        }
        return new FoldEnsembleResult(new FoldEnsemble(members), held);
    }

    /// <summary>
    /// The dual-stage network's local model (the paper's Fig 3B): the same architecture with a 2-way last layer,
    /// trained on <paramref name="variant"/>'s training images of <paramref name="first"/> and <paramref name="second"/>
    /// only (AG+OS600's band C9 and segmented C10 in the paper), with the global model's hyper-parameters and held-out
    /// fold (the paper does not say it tuned the local model separately) for the profile's local epochs. Cached like
    /// the global models.
    /// </summary>
    /// <param name="global">The global model of the dual stage (a model or a fold ensemble). With the profile's
    /// <see cref="ExperimentProfile.LocalFromGlobal"/> the local model starts from it (<see cref="LocalStart"/>); without,
    /// it is not used and the local model starts from scratch as the paper's does.</param>
    public TrainedModel TrainLocal(TrainingVariant variant, Hyperparameters hyper, CellClass first, CellClass second, ISavedClassifier? global = null)
    {
        TrainedModel? startFrom = !Profile.LocalFromGlobal ? null
            : LocalStart(global ?? throw new ArgumentException($"profile {Profile.Name} starts the local model from the global model (local_from_global): pass the global model, or set local_from_global=false"));
        var recipe = Profile.Training(Profile.LocalHyper(hyper), Profile.LocalModelEpochs);
        var config = recipe with { Network = recipe.Network with { Classes = 2 } };
        return LoadOrTrain(Job(new ModelPlan(Kind.Local, variant, config, Profile.ValidationFold, Outputs: [first, second], StartFrom: startFrom)));
    }

    /// <summary>
    /// The model a local model starts from under <see cref="ExperimentProfile.LocalFromGlobal"/>: the global model that
    /// held out the profile's validation fold, because that fold's cells score the local model and a start that had
    /// trained on them would make the score look better than it is. Of a fold ensemble, the member of that fold; a
    /// single model must itself have held that fold out.
    /// </summary>
    public TrainedModel LocalStart(ISavedClassifier global)
    {
        var members = FoldEnsemble.MembersOf(global);
        return members.FirstOrDefault(m => m.Card.ValidationFold == Profile.ValidationFold)
            ?? throw new ArgumentException($"the starting model {global.Folder ?? global.Name} held out fold {string.Join(", ", members.Select(m => m.Card.ValidationFold?.ToString() ?? "none"))}, " +
                                           $"not the validation fold {Profile.ValidationFold} that scores the local model");
    }

    /// <summary>The local model of the pair for the paper's dual stage: trained on the largest training set's images
    /// of the pair with the hyper-parameters the cross-validation chose.</summary>
    public TrainedModel TrainLocal(CellClass first, CellClass second, CrossValidationResult? cv = null, ISavedClassifier? global = null) =>
        TrainLocal(Largest, (cv ?? CrossValidate()).Chosen, first, second, global);

    /// <summary>The largest training set of the profile (AG+OS600 for the paper): the dual stage's global model and
    /// the one the error analysis looks at, as in the paper.</summary>
    public TrainingVariant Largest => Profile.Largest;

    /// <summary>Cross-validation, then the six models of Table 1.</summary>
    public IReadOnlyList<TrainedModel> TrainAll(CrossValidationResult? cv = null)
    {
        cv ??= CrossValidate();
        return Train(Profile.Variants, cv.Chosen);
    }
}
