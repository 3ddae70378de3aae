using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using MarrowDiff.Analysis;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Model;
using MarrowDiff.Torch;
using MarrowDiff.Preparation;
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
    /// the latter's 95% interval (<see cref="PooledMacroF1Interval"/>, seeded by <paramref name="seed"/>), each fold's.</summary>
    public IReadOnlyDictionary<string, double> Scores(int seed)
    {
        var (low, high) = PooledMacroF1Interval(seed);
        var d = new Dictionary<string, double>
        {
            ["cv_accuracy"] = Pooled.Accuracy, ["cv_macro_f1"] = Pooled.MacroF1, ["cv_macro_f1_ci95_low"] = low, ["cv_macro_f1_ci95_high"] = high,
        };
        for (int k = 0; k < HeldOut.Count; k++) d[$"fold{k + 1}_macro_f1"] = PerFold[k].MacroF1;
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

/// <summary>
/// The paper's experiment on one dataset and split: five-fold cross-validation picks the hyper-parameters, the six
/// training sets each train a model, and only then the test set is scored, once. Models and the search are cached
/// under <see cref="ModelsRoot"/> by their <see cref="ModelKey"/> (data, split, variant, recipe, seed), so notebooks 05
/// and 06 reuse notebook 04's models and a changed setting trains afresh.
/// </summary>
public sealed class Experiment
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
        var key = Key("cv", variant, Profile.Training(Profile.Grid[0], Profile.CrossValidationEpochs), heldOutFold: null) with { Grid = Profile.Grid };
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
                SampleSet train = Prep.Build(variant, fold);
                SampleSet validation = SampleSet.Original(Prep.Tiles, Prep.Split.Sides(fold).Validation, $"fold {fold}");
                var trainer = new Trainer(Profile.Training(hyper, Profile.CrossValidationEpochs));
                var (model, history) = trainer.Train(train, train.Normalisation(Prep.Provenance.Data), validation, null,
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
    public TrainedModel Train(TrainingVariant variant, Hyperparameters hyper) => LoadOrTrain(ModelJobFor(variant, hyper));

    /// <summary>The models of <paramref name="variants"/> (<see cref="Train(TrainingVariant, Hyperparameters)"/>), trained side by side, one a core, under
    /// <see cref="ExperimentProfile.SideBySide"/> (each single-threaded, so the bytes do not depend on the order), or one
    /// after another otherwise.</summary>
    public IReadOnlyList<TrainedModel> Train(IReadOnlyList<TrainingVariant> variants, Hyperparameters hyper)
    {
        var jobs = variants.Select(v => ModelJobFor(v, hyper)).ToList();
        TrainSideBySide(jobs);
        var models = new List<TrainedModel>();
        try { foreach (var job in jobs) models.Add(LoadOrTrain(job)); }
        catch { foreach (var m in models) m.Dispose(); throw; }
        return models;
    }

    private ModelJob ModelJobFor(TrainingVariant variant, Hyperparameters hyper)
    {
        var key = Key("model", variant, Profile.FoldTraining(hyper), Profile.ValidationFold);
        string folder = Path.Combine(ModelsRoot, $"{variant.Name}-{key.Hash}");
        // Built here, never on a training stream: DataPreparation caches its sets without a lock.
        SampleSet? train = Directory.Exists(folder) ? null : Prep.Build(variant, Profile.ValidationFold);
        SampleSet validation = SampleSet.Original(Prep.Tiles, Prep.Split.Sides(Profile.ValidationFold).Validation, $"fold {Profile.ValidationFold}");
        return new ModelJob(variant.Name, folder, key, cancel => TrainAndSave(variant.Name, folder, key, train!, validation, cancel: cancel));
    }

    // A model folder that exists is complete (each is saved under a temporary name and renamed): read it instead of
    // training again, once its saved key says it is the model asked for.
    private TrainedModel LoadOrTrain(string name, string folder, ModelKey key, Func<TrainedModel> train)
    {
        if (_trainedSideBySide.TryRemove(folder, out var trained)) return trained;
        if (!Directory.Exists(folder)) return train();
        key.Check(Path.Combine(folder, ModelKey.FileName));
        Note($"{name}: cached model {folder}");
        return TrainedModel.Load(folder);
    }

    /// <summary>
    /// The classifier of a <see cref="ExperimentProfile.FinalModel"/> profile: one model of <paramref name="variant"/>
    /// trained on every training-side cell (all five folds; no cell held out, so it has no validation curve), with the
    /// fold models' recipe. The fold ensemble's pooled cross-validation is its estimate. Cached like the fold models;
    /// the test set is not touched.
    /// </summary>
    public TrainedModel TrainFinal(TrainingVariant variant, Hyperparameters hyper) => LoadOrTrain(FinalJob(variant, hyper));

    private ModelJob FinalJob(TrainingVariant variant, Hyperparameters hyper)
    {
        if (!Profile.FinalModel) throw new InvalidOperationException($"profile {Profile.Name} answers with its fold models together (final=ensemble)");
        var key = Key("final-model", variant, Profile.FoldTraining(hyper), heldOutFold: null);
        string folder = Path.Combine(ModelsRoot, $"{variant.Name}-final-{key.Hash}");
        string name = $"{variant.Name} final model";
        // Built here, never on a training stream: DataPreparation caches its sets without a lock.
        SampleSet? train = Directory.Exists(folder) ? null : Prep.Build(variant);
        return new ModelJob(name, folder, key, cancel => TrainAndSave(name, folder, key, train!, validation: null, cancel: cancel));
    }

    /// <summary>A model to read from its folder, or to train into it.</summary>
    private sealed record ModelJob(string Name, string Folder, ModelKey Key, Func<CancellationToken, TrainedModel> Train);

    private TrainedModel LoadOrTrain(ModelJob job) => LoadOrTrain(job.Name, job.Folder, job.Key, () => job.Train(CancellationToken.None));

    // Models trained side by side (TrainSideBySide), waiting to be handed out by LoadOrTrain, by folder.
    private readonly ConcurrentDictionary<string, TrainedModel> _trainedSideBySide = new(StringComparer.Ordinal);

    /// <summary>
    /// Trains the jobs whose folders do not exist yet side by side, one single-threaded stream a core (<see
    /// cref="TorchStreams"/>), under <see cref="ExperimentProfile.SideBySide"/>; otherwise leaves them to LoadOrTrain,
    /// one after another. Each model is single-threaded either way (<see cref="TrainingConfig.SingleThreaded"/>), so
    /// which stream trains it, and when, changes no byte of it (tested). The first failure stops the others at their
    /// next batch (their checkpoints of the epochs done are kept, and a rerun resumes them) and is rethrown.
    /// </summary>
    private void TrainSideBySide(IReadOnlyList<ModelJob> jobs)
    {
        var missing = jobs.Where(j => !Directory.Exists(j.Folder)).ToList();
        int streams = Profile.SideBySide ? Math.Min(Inference.StreamsFor(TorchRuntime.Device), missing.Count) : 1;
        if (streams < 2) return;
        try
        {
            Note($"{string.Join(", ", missing.Select(j => j.Name))}: trained side by side on {streams} single-threaded streams");
            TorchStreams.Run(missing, streams, (job, cancel) => _trainedSideBySide[job.Folder] = job.Train(cancel), gradients: true, name: "training stream");
        }
        catch
        {
            foreach (var folder in _trainedSideBySide.Keys)
                if (_trainedSideBySide.TryRemove(folder, out var model)) model.Dispose();
            throw;
        }
    }

    // Trains from the checkpoint (if any), saves the model folder atomically with its key, then drops the checkpoint.
    private TrainedModel TrainAndSave(string name, string folder, ModelKey key, SampleSet train, SampleSet? validation,
                                      CellNetwork? startFrom = null, CancellationToken cancel = default)
    {
        var config = key.Recipe;
        var normalisation = train.Normalisation(Prep.Provenance.Data);
        Directory.CreateDirectory(ModelsRoot);
        // The key of the training under way sits beside its checkpoint (its own name: the kill tests count the writes of
        // files named *.checkpoint*).
        string checkpoint = folder + ".checkpoint", checkpointKey = folder + ".training-key.json";
        // A checkpoint resumes only the model of its own key: written before the first epoch, checked before a resume.
        if (File.Exists(checkpoint)) key.Check(checkpointKey);
        else AtomicFile.WriteAllText(checkpointKey, key.ToJson());
        var trainer = new Trainer(config) { StartFrom = startFrom };
        var (network, history) = trainer.Train(train, normalisation, validation, checkpoint, name, Progress, cancel);
        // Said from what the trainer did (weights restored, the rest run), not from whether a checkpoint file was there.
        if (trainer.ResumedAfterEpoch > 0)
            Note($"{name}: resumed from {checkpoint} after epoch {trainer.ResumedAfterEpoch} of {config.Epochs}: {trainer.StepsRun} SGD steps run here");
        var card = new ModelCard(train.Variant.Name, config, Profile.Name, Prep.Provenance.Data, _dataFingerprint, Prep.Split.File ?? "", train.Count,
                                 key.HeldOutFold, Prep.Provenance.Commit, Prep.Provenance.Synthetic, key.Outputs,
                                 Prep.Tiles.Scales.Count == 0 ? null : Prep.Tiles.Scales.Values.ToDictionary(v => v.Source, v => v.PitchUm, StringComparer.Ordinal));
        var model = new TrainedModel(network, normalisation, card, history);
        model.Save(folder, Profile.ToJson(), extraFiles: new Dictionary<string, string> { [ModelKey.FileName] = key.ToJson() });
        File.Delete(checkpoint);
        File.Delete(checkpointKey);
        Note($"{name}: trained {config.Epochs} epochs on {train.Count} images in {history.Sum(h => h.Seconds):0} s → {folder}");
        return model;
    }

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
        var jobs = new List<ModelJob>();
        var validations = new List<SampleSet>();
        string share = cellShare.ToString("0.###", CultureInfo.InvariantCulture);
        for (int fold = 1; fold <= folds; fold++)
        {
            var key = Key("fold-model", variant, config, fold) with { CellShare = cellShare };
            string whole = cellShare == 1 ? "" : $"-share{share}";
            string folder = Path.Combine(ModelsRoot, $"{variant.Name}-fold{fold}{whole}-{key.Hash}");
            SampleSet validation = SampleSet.Original(Prep.Tiles, Prep.Split.Sides(fold).Validation, $"fold {fold}");
            string name = cellShare == 1 ? $"{variant.Name} fold {fold}" : $"{variant.Name} fold {fold} (share {share} of its cells)";
            SampleSet? train = Directory.Exists(folder) ? null : Prep.Build(variant, fold, cellShare: cellShare); // here, not on a stream (FinalJob)
            jobs.Add(new ModelJob(name, folder, key, cancel => TrainAndSave(name, folder, key, train!, validation, cancel: cancel)));
            validations.Add(validation);
        }
        // final=one: the final model trains beside the fold models (TrainFinal then finds it).
        TrainSideBySide(withFinal && Profile.FinalModel ? [.. jobs, FinalJob(variant, hyper)] : jobs);
        var members = new List<TrainedModel>();
        var held = new List<Predictions>();
        for (int fold = 1; fold <= folds; fold++)
        {
            TrainedModel model = LoadOrTrain(jobs[fold - 1]);
            members.Add(model);
            held.Add(new Predictions($"{variant.Name} fold {fold}", validations[fold - 1], model.Probabilities(validations[fold - 1])));
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
        CellClass[] pair = [first, second];
        var recipe = Profile.Training(Profile.LocalHyper(hyper), Profile.LocalModelEpochs);
        var config = recipe with { Network = recipe.Network with { Classes = 2 } };
        string name = $"local-{first.Code()}-{second.Code()}-{variant.Name}";
        // The starting model is part of the key by its folder name, which carries that model's own key.
        var key = Key("local", variant, config, Profile.ValidationFold) with
        {
            Outputs = pair,
            StartFrom = startFrom is null ? null : Path.GetFileName(startFrom.Folder ?? throw new ArgumentException($"{name}: the starting model was never saved")),
        };
        string folder = Path.Combine(ModelsRoot, $"{name}-{key.Hash}");
        return LoadOrTrain(name, folder, key, () =>
        {
            SampleSet train = Prep.Build(variant, Profile.ValidationFold).Restrict(pair);
            var validationCells = Prep.Split.Sides(Profile.ValidationFold).Validation.Where(cell => pair.Contains(cell.Label.Class!.Value)).ToList();
            SampleSet? validation = validationCells.Count == 0 ? null
                : SampleSet.Original(Prep.Tiles, validationCells, $"fold {Profile.ValidationFold}").Restrict(pair);
            return TrainAndSave(name, folder, key, train, validation, startFrom: startFrom?.Network);
        });
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

    /// <summary>The three models the paper compares for invariance (Fig 5B/C): AG (rotations only), OS at the higher
    /// count (re-crops only) and AG+OS at the higher count (both), picked from the six of <see cref="TrainAll"/>.</summary>
    public IReadOnlyList<TrainedModel> InvarianceModels(IReadOnlyList<TrainedModel> models)
    {
        var variants = Profile.Variants;
        string[] names = [variants[1].Name, variants[3].Name, variants[5].Name];
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

    /// <summary>The largest training set of the profile (AG+OS600 for the paper): the dual stage's global model and
    /// the one the error analysis looks at, as in the paper.</summary>
    public TrainingVariant Largest => Profile.Variants[^1];

    /// <summary>A classifier's predictions on the test set. Only for analysis after training: nothing computed from
    /// it goes back into a model or a choice of model.</summary>
    public Predictions TestPredictions(ICellClassifier classifier)
    {
        SampleSet test = Prep.TestSet();
        if (classifier.Outputs.Count != CellTaxonomy.All.Count) test = test.Restrict(classifier.Outputs);
        return new Predictions(classifier.Name, test, classifier.Probabilities(test));
    }

    /// <summary>Fig 7: the global model against the dual-stage model on the same test cells, with McNemar's test.</summary>
    public DualStageComparison CompareDualStage(ISavedClassifier global, TrainedModel local)
    {
        var dual = new DualStageClassifier(global, local);
        return new DualStageComparison(TestPredictions(global), TestPredictions(dual), local, Profile.Caveat, Prep.Provenance);
    }

    /// <summary>Cross-validation, then the six models of Table 1.</summary>
    public IReadOnlyList<TrainedModel> TrainAll(CrossValidationResult? cv = null)
    {
        cv ??= CrossValidate();
        return Train(Profile.Variants, cv.Chosen);
    }

    /// <summary>The final evaluation: every model scored on the test set, once. The test set's images are read only
    /// here and by the analyses after it (<see cref="TestPredictions"/>), never during training or model choice.</summary>
    public Table1 Evaluate(IReadOnlyList<TrainedModel> models)
    {
        var rows = models.Select(m => new Table1Row(m.Card.Variant, m.Card.TrainingImages, TestPredictions(m).Metrics)).ToList();
        return new Table1(rows, Prep.Split.Test.Count, Profile, Prep.Provenance, Prep.Split.Options);
    }

    // ---------------------------------------------------------------- cache keys

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, IncludeFields = true };

    private ModelKey Key(string kind, TrainingVariant variant, TrainingConfig recipe, int? heldOutFold) =>
        new(kind, _dataFingerprint, _splitFingerprint, variant.Name, recipe, heldOutFold);
}
