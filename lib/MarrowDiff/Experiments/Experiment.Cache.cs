using System.Globalization;
using System.Text.Json;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Model;
using MarrowDiff.Preparation;
using MarrowDiff.Training;

namespace MarrowDiff.Experiments;

/// <summary>The model cache: each model read from its folder under <see cref="ModelsRoot"/> when its <see cref="ModelKey"/>
/// matches, else trained (resuming from its checkpoint) and saved there with the key beside it.</summary>
public sealed partial class Experiment
{
    /// <summary>The kinds of cached model; each is the <see cref="ModelKey.Kind"/> of its key, so never renamed.</summary>
    internal static class Kind
    {
        /// <summary>One model that held out the profile's validation fold (Table 1's rows, the paper's protocol).</summary>
        public const string HeldOut = "model";
        /// <summary>Fold k's model of a fold ensemble: held out fold k.</summary>
        public const string Fold = "fold-model";
        /// <summary>One model on all five folds (final=one).</summary>
        public const string Final = "final-model";
        /// <summary>The dual stage's two-class local model.</summary>
        public const string Local = "local";
    }

    /// <summary>
    /// What one cached model is: everything its key, folder, name, training set and validation set are made from, by
    /// <see cref="Job"/> alone. <paramref name="Fold"/> is the fold it never trains on (null: it trains on all five);
    /// <paramref name="Outputs"/> restricts both sets to the classes it answers (a local model's two; a task's classes
    /// under <see cref="Experiment.Outputs"/>; null: the ten stages); <paramref name="StartFrom"/> is the saved model whose
    /// weights it starts from.
    /// </summary>
    private sealed record ModelPlan(string Kind, TrainingVariant Variant, TrainingConfig Recipe, int? Fold,
                                    double CellShare = 1, CellClass[]? Outputs = null, TrainedModel? StartFrom = null);

    /// <summary>A model to read from its folder, or to train into it; <see cref="Validation"/> is its held-out fold's
    /// cells (null when it holds none out).</summary>
    private sealed record ModelJob(string Name, string Folder, ModelKey Key, SampleSet? Validation, Func<CancellationToken, TrainedModel> Train);

    /// <summary>The one place a model's key, cache folder, name and training set are made.</summary>
    private ModelJob Job(ModelPlan plan)
    {
        // A model of a task with cells outside the ten stages answers the task's classes, and only those.
        if (plan.Outputs is null && Outputs is { } task)
            plan = plan with { Outputs = [.. task], Recipe = plan.Recipe with { Network = plan.Recipe.Network with { Classes = task.Count } } };
        var (variant, recipe) = (plan.Variant, plan.Recipe);
        // Under the equal-training control the epochs follow the set's size, so the set is built to be counted.
        SampleSet? counted = Profile.EqualSteps is null ? null : TrainingSet(plan);
        if (counted is not null) recipe = recipe with { Epochs = Profile.EpochsFor(counted.Count, recipe.Epochs) };
        // The starting model is part of the key by its folder name, which carries that model's own key.
        string? startFrom = plan.StartFrom is null ? null
            : Path.GetFileName(plan.StartFrom.Folder ?? throw new ArgumentException($"{variant.Name}: the model to start from was never saved"));
        var key = new ModelKey(plan.Kind, _dataFingerprint, _splitFingerprint, variant.Name, recipe, plan.Fold, plan.CellShare, plan.Outputs, startFrom);
        string share = plan.CellShare.ToString("0.###", CultureInfo.InvariantCulture);
        var (name, stem) = plan.Kind switch
        {
            Kind.HeldOut => (variant.Name, variant.Name),
            Kind.Final => ($"{variant.Name} final model", $"{variant.Name}-final"),
            Kind.Fold when plan.CellShare == 1 => ($"{variant.Name} fold {plan.Fold}", $"{variant.Name}-fold{plan.Fold}"),
            Kind.Fold => ($"{variant.Name} fold {plan.Fold} (share {share} of its cells)", $"{variant.Name}-fold{plan.Fold}-share{share}"),
            Kind.Local when plan.Outputs is [var a, var b] => ($"local-{a.Code()}-{b.Code()}-{variant.Name}", $"local-{a.Code()}-{b.Code()}-{variant.Name}"),
            _ => throw new ArgumentException($"a model of kind {plan.Kind} with {plan.Outputs?.Length ?? 0} classes named is not one this cache makes", nameof(plan)),
        };
        string folder = Path.Combine(ModelsRoot, $"{stem}-{key.Hash}");
        // Built here, never on a training stream: DataPreparation caches its sets without a lock.
        SampleSet? train = Directory.Exists(folder) ? null : counted ?? TrainingSet(plan);
        SampleSet? validation = plan.Fold is { } fold ? ValidationSet(fold, plan.Outputs) : null;
        return new ModelJob(name, folder, key, validation, cancel => TrainAndSave(name, folder, key, train!, validation, plan.StartFrom?.Network, cancel));
    }

    // The variant's images of every training-side fold but the held-out one (a share of each class's cells for a
    // learning curve's point), re-cropped with the training seed; the model's outputs only.
    private SampleSet TrainingSet(ModelPlan plan)
    {
        var set = Prep.Build(plan.Variant, plan.Fold, cellShare: plan.CellShare, trainingSeed: Profile.TrainingSeed);
        return plan.Outputs is null ? set : set.Restrict(plan.Outputs);
    }

    // A fold's original crops (of the model's outputs only: a local model's pair may have none there, no validation).
    private SampleSet? ValidationSet(int fold, CellClass[]? outputs)
    {
        var cells = Prep.Split.Sides(fold).Validation;
        if (outputs is null) return SampleSet.Original(Prep.Tiles, cells, $"fold {fold}");
        var kept = cells.Where(cell => outputs.Contains(cell.Label.Class!.Value)).ToList();
        return kept.Count == 0 ? null : SampleSet.Original(Prep.Tiles, kept, $"fold {fold}").Restrict(outputs);
    }

    // A model folder that exists is complete (each is saved under a temporary name and renamed): read it instead of
    // training again, once its saved key says it is the model asked for.
    private TrainedModel LoadOrTrain(ModelJob job)
    {
        if (_trainedSideBySide.TryRemove(job.Folder, out var trained)) return trained;
        if (!Directory.Exists(job.Folder)) return job.Train(CancellationToken.None);
        job.Key.Check(Path.Combine(job.Folder, ModelKey.FileName));
        Note($"{job.Name}: cached model {job.Folder}");
        return TrainedModel.Load(job.Folder);
    }

    private ModelJob FinalJob(TrainingVariant variant, Hyperparameters hyper) =>
        Profile.FinalModel ? Job(new ModelPlan(Kind.Final, variant, Profile.FoldTraining(hyper), Fold: null))
        : throw new InvalidOperationException($"profile {Profile.Name} answers with its fold models together (final=ensemble)");

    // Trains from the checkpoint (if any), saves the model folder atomically with its key, then drops the checkpoint.
    private TrainedModel TrainAndSave(string name, string folder, ModelKey key, SampleSet train, SampleSet? validation,
                                      CellNetwork? startFrom = null, CancellationToken cancel = default)
    {
        var config = key.Recipe;
        Directory.CreateDirectory(ModelsRoot);
        // The key of the training under way sits beside its checkpoint (its own name: the kill tests count the writes of
        // files named *.checkpoint*).
        string checkpoint = folder + ".checkpoint", checkpointKey = folder + ".training-key.json";
        // A checkpoint resumes only the model of its own key: written before the first epoch, checked before a resume.
        if (File.Exists(checkpoint)) key.Check(checkpointKey);
        else AtomicFile.WriteAllText(checkpointKey, key.ToJson());
        var card = new ModelCard(train.Variant.Name, config, Profile.Name, Prep.Provenance.Data, _dataFingerprint, Checkout.Relative(Prep.Split.File ?? ""), train.Count,
                                 key.HeldOutFold, Prep.Provenance.Commit, Prep.Provenance.Synthetic, key.Outputs,
                                 Prep.Tiles.Scales.Count == 0 ? null : Prep.Tiles.Scales.Values.ToDictionary(v => v.Source, v => v.PitchUm, StringComparer.Ordinal));
        var trainer = new Trainer(config) { StartFrom = startFrom };
        var model = trainer.Train(train, validation, card, checkpoint, name, Progress, cancel);
        // Said from what the trainer did (weights restored, the rest run), not from whether a checkpoint file was there.
        if (trainer.ResumedAfterEpoch > 0)
            Note($"{name}: resumed from {checkpoint} after epoch {trainer.ResumedAfterEpoch} of {config.Epochs}: {trainer.StepsRun} SGD steps run here");
        model.Save(folder, Profile.ToJson(), extraFiles: new Dictionary<string, string> { [ModelKey.FileName] = key.ToJson() });
        File.Delete(checkpoint);
        File.Delete(checkpointKey);
        Note($"{name}: trained {config.Epochs} epochs on {train.Count} images in {model.TrainingSeconds:0} s → {folder}");
        return model;
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, IncludeFields = true };
}
