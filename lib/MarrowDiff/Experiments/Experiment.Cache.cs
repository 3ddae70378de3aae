using System.Text.Json;
using MarrowDiff.Core;
using MarrowDiff.Model;
using MarrowDiff.Preparation;
using MarrowDiff.Training;

namespace MarrowDiff.Experiments;

/// <summary>The model cache: each model read from its folder under <see cref="ModelsRoot"/> when its <see cref="ModelKey"/>
/// matches, else trained (resuming from its checkpoint) and saved there with the key beside it.</summary>
public sealed partial class Experiment
{
    private ModelJob ModelJobFor(TrainingVariant variant, Hyperparameters hyper)
    {
        var recipe = Profile.FoldTraining(hyper);
        // Under the equal-training control the epochs follow the set's size, so the set is built to be counted.
        SampleSet? counted = Profile.EqualSteps is null ? null : Prep.Build(variant, Profile.ValidationFold, trainingSeed: Profile.TrainingSeed);
        if (counted is not null) recipe = recipe with { Epochs = Profile.EpochsFor(counted.Count, recipe.Epochs) };
        var key = Key("model", variant, recipe, Profile.ValidationFold);
        string folder = Path.Combine(ModelsRoot, $"{variant.Name}-{key.Hash}");
        // Built here, never on a training stream: DataPreparation caches its sets without a lock.
        SampleSet? train = Directory.Exists(folder) ? null : counted ?? Prep.Build(variant, Profile.ValidationFold, trainingSeed: Profile.TrainingSeed);
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

    private ModelJob FinalJob(TrainingVariant variant, Hyperparameters hyper)
    {
        if (!Profile.FinalModel) throw new InvalidOperationException($"profile {Profile.Name} answers with its fold models together (final=ensemble)");
        var key = Key("final-model", variant, Profile.FoldTraining(hyper), heldOutFold: null);
        string folder = Path.Combine(ModelsRoot, $"{variant.Name}-final-{key.Hash}");
        string name = $"{variant.Name} final model";
        // Built here, never on a training stream: DataPreparation caches its sets without a lock.
        SampleSet? train = Directory.Exists(folder) ? null : Prep.Build(variant, trainingSeed: Profile.TrainingSeed);
        return new ModelJob(name, folder, key, cancel => TrainAndSave(name, folder, key, train!, validation: null, cancel: cancel));
    }

    /// <summary>A model to read from its folder, or to train into it.</summary>
    private sealed record ModelJob(string Name, string Folder, ModelKey Key, Func<CancellationToken, TrainedModel> Train);

    private TrainedModel LoadOrTrain(ModelJob job) => LoadOrTrain(job.Name, job.Folder, job.Key, () => job.Train(CancellationToken.None));

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
        var card = new ModelCard(train.Variant.Name, config, Profile.Name, Prep.Provenance.Data, _dataFingerprint, Checkout.Relative(Prep.Split.File ?? ""), train.Count,
                                 key.HeldOutFold, Prep.Provenance.Commit, Prep.Provenance.Synthetic, key.Outputs,
                                 Prep.Tiles.Scales.Count == 0 ? null : Prep.Tiles.Scales.Values.ToDictionary(v => v.Source, v => v.PitchUm, StringComparer.Ordinal));
        var model = new TrainedModel(network, normalisation, card, history);
        model.Save(folder, Profile.ToJson(), extraFiles: new Dictionary<string, string> { [ModelKey.FileName] = key.ToJson() });
        File.Delete(checkpoint);
        File.Delete(checkpointKey);
        Note($"{name}: trained {config.Epochs} epochs on {train.Count} images in {history.Sum(h => h.Seconds):0} s → {folder}");
        return model;
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, IncludeFields = true };

    private ModelKey Key(string kind, TrainingVariant variant, TrainingConfig recipe, int? heldOutFold) =>
        new(kind, _dataFingerprint, _splitFingerprint, variant.Name, recipe, heldOutFold);
}
