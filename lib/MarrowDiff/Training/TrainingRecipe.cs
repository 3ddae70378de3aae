using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MarrowDiff.Model;
using MarrowDiff.Torch;

namespace MarrowDiff.Training;

/// <summary>The four hyper-parameters the paper tuned by cross-validation, with Torch7's SGD semantics.</summary>
/// <param name="LearningRateDecay">Torch7 optim.sgd's decay: the rate at step t is lr / (1 + t·decay).</param>
public sealed record Hyperparameters(double LearningRate, double Momentum, double LearningRateDecay, double WeightDecay)
{
    public void Validate()
    {
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), $"{LearningRate}: must be > 0");
        if (Momentum is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(Momentum), $"{Momentum}: use [0, 1)");
        if (LearningRateDecay < 0) throw new ArgumentOutOfRangeException(nameof(LearningRateDecay), $"{LearningRateDecay}: must be ≥ 0");
        if (WeightDecay < 0) throw new ArgumentOutOfRangeException(nameof(WeightDecay), $"{WeightDecay}: must be ≥ 0");
    }

    public double RateAt(long step) => LearningRate / (1 + step * LearningRateDecay);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"lr {LearningRate:G3}, momentum {Momentum:G3}, lr decay {LearningRateDecay:G3}, weight decay {WeightDecay:G3}");
}

/// <summary>Everything that decides a trained model's weights (with the data): network, hyper-parameters,
/// epochs, batch size, seed, and the refinements beyond the paper (none for the paper's profiles). Hashed for the
/// model cache and saved beside every model.</summary>
public sealed record TrainingConfig(NetworkConfig Network, Hyperparameters Hyper, int Epochs, int BatchSize = 40, int Seed = 2017)
{
    /// <summary>What a practitioner adds to the paper's recipe (the real-cell profiles); null: the paper's recipe as
    /// it is.</summary>
    public Refinements? Refinements { get; init; }

    /// <summary>How the convolutions run while training (an engine lever: bf16 on CPUs with AVX512_BF16 is about 1.5×
    /// faster at full width). Default: fp32, as the paper's profiles train (real-plus trains channels-last).</summary>
    public ConvolutionEngine Engine { get; init; }

    /// <summary>Train on one intra-op thread (on the CPU), so that several models can train side by side, one a core
    /// (<see cref="Experiments.Experiment.TrainFoldEnsemble"/>), and so that the weights are the same bytes whatever
    /// else runs beside the model and however many cores the machine has. Part of the cache key: a model trained on
    /// every thread sums its gradients in another order, so its bytes differ.</summary>
    public bool SingleThreaded { get; init; }

    public void Validate()
    {
        Network.Validate(); Hyper.Validate(); Refinements?.Validate();
        if (Refinements?.Optimisation.ClassifierRate is { } multiple && !Network.Pretrained)
            throw new ArgumentException($"classifier_rate={multiple.ToString(CultureInfo.InvariantCulture)}: VGG trains from nothing, so its classifier has no pretrained rest to catch up with; use it with backbone={ResNetConfig.ResNet18ImageNet}");
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), "at least 1 epoch");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), "batch size at least 1");
    }

    /// <summary>The learning rate at SGD step <paramref name="step"/> of <paramref name="totalSteps"/>: Torch7's
    /// lr / (1 + t·decay) for the paper, or the refinements' warm-up and cosine decay.</summary>
    public double RateAt(long step, long totalSteps) => Refinements?.Optimisation is { Schedule: LearningRateSchedule.Cosine } r
        ? r.CosineRate(Hyper.LearningRate, step, totalSteps)
        : Hyper.RateAt(step);
}

/// <summary>How the learning rate moves during training.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LearningRateSchedule>))]
public enum LearningRateSchedule
{
    /// <summary>Torch7 optim.sgd: lr / (1 + t·decay), the paper's.</summary>
    Torch7,
    /// <summary>A linear warm-up over the first steps, then half a cosine down to zero at the last step.</summary>
    Cosine,
}

/// <summary>
/// The refinements a careful practitioner adds to the paper's recipe for a few hundred real cells per class, by purpose:
/// how SGD moves (<see cref="Optimisation"/>), how the training images are varied (<see cref="Augmentation"/>) and how
/// the trained model answers (<see cref="Inference"/>). Each is off in the paper's profiles. Every one is kept in the
/// real-cell profile only because the validation folds of the development subset said so (docs/real-cells.md), never
/// because of a test cell. Part of a model's cache key, written as one flat object (<see cref="RefinementsJson"/>), so
/// the keys and model cards written before the split read the same.
/// </summary>
[JsonConverter(typeof(RefinementsJson))]
public sealed record Refinements(OptimisationOptions Optimisation, AugmentationOptions Augmentation, InferenceOptions Inference)
{
    /// <summary>Every refinement at its default: the practitioner's recipe (warm-up and cosine, label smoothing 0.1,
    /// stain jitter 0.2, test-time D4).</summary>
    public static Refinements Recommended { get; } = new(new OptimisationOptions(), new AugmentationOptions(), new InferenceOptions());

    /// <summary>Every refinement off: the paper's recipe, from which a single setting (<c>--set mixup=0.2</c>) adds one.</summary>
    public static Refinements None { get; } = new(new OptimisationOptions(LearningRateSchedule.Torch7, 0, 0), new AugmentationOptions(0), new InferenceOptions(false));

    public void Validate() { Optimisation.Validate(); Augmentation.Validate(); }
}

/// <summary>How SGD moves beyond the paper's Torch7 recipe.</summary>
/// <param name="Schedule">Cosine decay after a short warm-up instead of Torch7's 1/(1 + t·decay): the rate ends
/// near zero, so the last epochs settle instead of hopping between minima.</param>
/// <param name="WarmupFraction">Share of the steps over which the rate climbs linearly from zero (BatchNorm's running
/// statistics and the first momentum are unreliable at the start).</param>
/// <param name="LabelSmoothing">Cross-entropy against (1 − ε) on the label and ε spread over all classes: the stage
/// boundaries (myelocyte/metamyelocyte, band/segmented) are where experts disagree, so the targets should not be certain.</param>
public sealed record OptimisationOptions(LearningRateSchedule Schedule = LearningRateSchedule.Cosine, double WarmupFraction = 0.03, double LabelSmoothing = 0.1)
{
    /// <summary>The classifier's learning rate as a multiple of the rest's, for a network whose rest is pretrained
    /// (<see cref="CellNetwork.IsNewOnPretrained"/>: real-transfer's ResNet-18). null: one rate for every layer. The
    /// fine-tuning habit (Caffe's lr_mult 10 on new layers): the pretrained layers need small steps not to forget
    /// ImageNet, the classifier starts from random numbers and has further to go. Refused for a network trained from
    /// nothing, where it would only be a second learning rate. No profile sets it: on the PBC folds real-transfer at 10×
    /// scored well below one rate, its classifier's first steps overshooting (docs/real-cells.md, "Two fine-tuning levers").</summary>
    public double? ClassifierRate { get; init; }

    public void Validate()
    {
        if (ClassifierRate is { } c && !(c > 0 && c <= 1000)) throw new ArgumentOutOfRangeException(nameof(ClassifierRate), $"{c}: use a multiple in (0, 1000]");
        if (WarmupFraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(WarmupFraction), $"{WarmupFraction}: use [0, 1)");
        if (LabelSmoothing is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(LabelSmoothing), $"{LabelSmoothing}: use [0, 1)");
    }

    public double CosineRate(double peak, long step, long totalSteps)
    {
        long warmup = (long)Math.Round(WarmupFraction * totalSteps);
        if (step < warmup) return peak * (step + 1) / warmup;
        double progress = totalSteps <= warmup ? 1 : Math.Min(1.0, (double)(step - warmup) / (totalSteps - warmup));
        return peak * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}

/// <summary>How the training images are varied beyond the training set's own poses and re-crops.</summary>
/// <param name="StainJitter">Strength s of a random colour change per training image, in YUV: contrast and chroma
/// scaled by e^U(−s, s), brightness shifted by U(−s/2, s/2), both chroma planes by U(−s/3, s/3). It stands in
/// for the spread of stain and illumination between slides, labs and scanners.</param>
public sealed record AugmentationOptions(double StainJitter = 0.2)
{
    /// <summary>Mixup's α (Zhang et al. 2018): each training batch becomes λ·batch + (1 − λ)·(the same batch
    /// shuffled), λ ~ Beta(α, α), and the loss is the same mixture of the two labels' losses. 0: off. It asks the network
    /// for answers that change linearly between cells, a brake on memorising a few hundred cells.</summary>
    public double Mixup { get; init; }

    /// <summary>Turn every training image by its own angle, drawn uniformly from [0°, 360°) per image and epoch, on
    /// top of its D4 pose (bilinear, the tile mirrored at its edge where a turned corner reaches past it). A cell has no
    /// orientation, so the eight D4 poses are a sample of a continuous invariance; this asks for all of it. On the PBC
    /// folds it did not raise macro-F1, but with it a single pose scores as well as the eight poses of
    /// <see cref="InferenceOptions.TestTimeD4"/> do without it, so inference needs an eighth of the passes: real-plus uses
    /// it in place of test-time D4 (docs/real-cells.md, "Random-angle rotation buys speed"). Off in the paper's profiles.</summary>
    public bool Rotation { get; init; }

    public void Validate()
    {
        if (StainJitter is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(StainJitter), $"{StainJitter}: use [0, 1]");
        if (Mixup is < 0 or > 10 || double.IsNaN(Mixup)) throw new ArgumentOutOfRangeException(nameof(Mixup), $"{Mixup}: use α in [0, 10] (0: off)");
    }
}

/// <summary>How a trained model answers.</summary>
/// <param name="TestTimeD4">Average the softmax over the eight rotations and flips of each cell at inference: a cell
/// has no orientation, so the average is the model's answer about the cell, not about its pose. Eight passes a cell;
/// real-plus leaves it off (see <see cref="AugmentationOptions.Rotation"/>).</param>
public sealed record InferenceOptions(bool TestTimeD4 = true);

/// <summary>
/// <see cref="Refinements"/> as one flat JSON object, its fields in the order they had before the refinements were
/// grouped by purpose: a model's cache key is a hash of this text, so the grouping leaves every key (and every saved
/// model card) as it was. A field a card lacks takes its default, as when the fields were one record.
/// </summary>
public sealed class RefinementsJson : JsonConverter<Refinements>
{
    public override void Write(Utf8JsonWriter writer, Refinements value, JsonSerializerOptions options)
    {
        var (o, a, i) = (value.Optimisation, value.Augmentation, value.Inference);
        writer.WriteStartObject();
        Field(nameof(o.Schedule), o.Schedule); Field(nameof(o.WarmupFraction), o.WarmupFraction); Field(nameof(o.LabelSmoothing), o.LabelSmoothing);
        Field(nameof(a.StainJitter), a.StainJitter); Field(nameof(i.TestTimeD4), i.TestTimeD4); Field(nameof(a.Mixup), a.Mixup);
        Field(nameof(a.Rotation), a.Rotation); Field(nameof(o.ClassifierRate), o.ClassifierRate);
        writer.WriteEndObject();

        void Field<T>(string name, T field)
        {
            writer.WritePropertyName(options.PropertyNamingPolicy?.ConvertName(name) ?? name);
            JsonSerializer.Serialize(writer, field, options);
        }
    }

    public override Refinements Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("Refinements: expected an object");
        var (o, a, i) = (new OptimisationOptions(), new AugmentationOptions(), new InferenceOptions());
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string name = reader.GetString() ?? "";
            reader.Read();
            switch (name.ToLowerInvariant())
            {
                case "schedule": o = o with { Schedule = JsonSerializer.Deserialize<LearningRateSchedule>(ref reader, options) }; break;
                case "warmupfraction": o = o with { WarmupFraction = reader.GetDouble() }; break;
                case "labelsmoothing": o = o with { LabelSmoothing = reader.GetDouble() }; break;
                case "classifierrate": o = o with { ClassifierRate = reader.TokenType == JsonTokenType.Null ? null : reader.GetDouble() }; break;
                case "stainjitter": a = a with { StainJitter = reader.GetDouble() }; break;
                case "mixup": a = a with { Mixup = reader.GetDouble() }; break;
                case "rotation": a = a with { Rotation = reader.GetBoolean() }; break;
                case "testtimed4": i = i with { TestTimeD4 = reader.GetBoolean() }; break;
                default: throw new JsonException($"Refinements: unknown field '{name}'");
            }
        }
        return new Refinements(o, a, i);
    }
}

/// <summary>One epoch of training (the paper's Fig 4A plots these).</summary>
/// <param name="StepSeconds">Sum of the time spent inside training steps (forward, backward, update): compared
/// with <paramref name="Seconds"/> it shows whether data loading ever made training wait.</param>
public sealed record EpochRecord(int Epoch, double TrainLoss, double TrainAccuracy, double? ValidationAccuracy, double LearningRate, double Seconds, double StepSeconds)
{
    /// <summary>The history as CSV (the paper's Fig 4A data).</summary>
    public static string Csv(IEnumerable<EpochRecord> history)
    {
        var csv = new StringBuilder("epoch,train_loss,train_accuracy,validation_accuracy,learning_rate,seconds,step_seconds\n");
        foreach (var e in history)
            csv.Append(string.Create(CultureInfo.InvariantCulture, $"{e.Epoch},{e.TrainLoss:R},{e.TrainAccuracy:R},{e.ValidationAccuracy?.ToString("R", CultureInfo.InvariantCulture) ?? ""},{e.LearningRate:R},{e.Seconds:0.###},{e.StepSeconds:0.###}\n"));
        return csv.ToString();
    }
}
