using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Model;
using MarrowDiff.Preparation;
using MarrowDiff.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace MarrowDiff.Training;

/// <summary>Where training is: for a console bar or an updating notebook display.</summary>
public sealed record TrainingProgress(string Model, int Epoch, int Epochs, int Step, int StepsPerEpoch, double Loss, TimeSpan Elapsed)
{
    public TimeSpan? Remaining
    {
        get
        {
            long done = (long)(Epoch - 1) * StepsPerEpoch + Step, total = (long)Epochs * StepsPerEpoch;
            return done == 0 ? null : TimeSpan.FromTicks(Elapsed.Ticks * (total - done) / done);
        }
    }

    /// <summary>As a job's progress: the model is the stage (one log line per 10% of it), epoch and loss the detail.</summary>
    public WorkProgress AsWork() => new(Model, (Epoch - 1) * StepsPerEpoch + Step, Epochs * StepsPerEpoch, Elapsed,
                                        string.Create(CultureInfo.InvariantCulture, $"epoch {Epoch}/{Epochs}, loss {Loss:0.000}"));

    public override string ToString() => AsWork().ToString();
}

/// <summary>
/// SGD as the paper's Torch7 ran it (optim.sgd): weight decay added to the gradient, momentum without dampening,
/// learning rate lr / (1 + t·decay) at step t. The momentum buffers are plain tensors so that a checkpoint can
/// carry them and a resumed run continues exactly.
/// </summary>
/// <param name="classifierRate">With <see cref="OptimisationOptions.ClassifierRate"/>: the parameters this names take that
/// multiple of the rate, the rest the rate itself.</param>
internal sealed class TorchSgd(IReadOnlyList<(string Name, Tensor Parameter)> parameters, Hyperparameters hyper, Func<long, double>? schedule = null,
    (Func<string, bool> IsClassifier, double Multiple)? classifierRate = null) : IDisposable
{
    private readonly Dictionary<string, Tensor> _velocity = new(StringComparer.Ordinal);

    public long Step { get; set; }

    /// <summary>The rate of the next update: the schedule's (a refinement), else Torch7's lr / (1 + t·decay).</summary>
    public double Rate => schedule?.Invoke(Step) ?? hyper.RateAt(Step);

    public void Update()
    {
        using var _ = no_grad();
        // Every Scalar this step hands to libtorch is made here, once, and disposed at the end of the method, so each is
        // reachable until after the last native call that reads it. Why: TorchSharp 0.107 turns a double (and the
        // implicit 1 of add_(Tensor)) into a temporary Scalar and passes only its handle; once the handle is read the
        // temporary is garbage, and a collection during the native call lets its finalizer free it mid-use ("Unknown
        // scalar type", "alpha must not be a floating point number" in long runs). Holding them here fixes it where it
        // starts, whatever the collector does (tested with a thread collecting in a loop).
        using Scalar negativeRate = (-Rate).ToScalar(), weightDecay = hyper.WeightDecay.ToScalar(), momentum = hyper.Momentum.ToScalar(), one = 1.ToScalar(),
                     classifierNegativeRate = (-Rate * (classifierRate?.Multiple ?? 1)).ToScalar();
        foreach (var (name, p) in parameters)
        {
            if (p.grad is not { } g) continue;
            // The same Scalar as before for every parameter when no multiple is set, so those updates keep their bytes.
            var rate = classifierRate is { } c && c.IsClassifier(name) ? classifierNegativeRate : negativeRate;
            using var grad = hyper.WeightDecay != 0 ? g.add(p, weightDecay) : g.clone();
            if (hyper.Momentum != 0)
            {
                if (_velocity.TryGetValue(name, out var v)) v.mul_(momentum).add_(grad, one);
                // The buffers outlive the step's dispose scope: they are the optimiser's state.
                else _velocity[name] = grad.clone().DetachFromDisposeScope();
                p.add_(_velocity[name], rate);
            }
            else p.add_(grad, rate);
        }
        Step++;
    }

    public IEnumerable<KeyValuePair<string, Tensor>> State => _velocity.Select(kv => new KeyValuePair<string, Tensor>("velocity/" + kv.Key, kv.Value));

    public void Restore(IReadOnlyDictionary<string, Tensor> state)
    {
        foreach (var (name, t) in state)
            if (name.StartsWith("velocity/", StringComparison.Ordinal)) _velocity[name["velocity/".Length..]] = t.clone();
    }

    public void Dispose() { foreach (var v in _velocity.Values) v.Dispose(); }
}

/// <summary>
/// Trains a <see cref="CellNetwork"/> (the paper's VGG, or a pretrained backbone) on a training set, recording loss and accuracies per epoch, writing a checkpoint
/// after every epoch (atomically), resuming from it, and stopping with a diagnosis on a NaN or infinite loss or
/// gradient (<see cref="NonFiniteReport"/>: divergence, a numerical fault or a bad input, and the first bad tensor).
/// Everything random is drawn from the seed and the epoch number (data order, dropout masks), so a run resumed
/// from epoch k reaches the same weights as one that never stopped.
/// </summary>
public sealed class Trainer(TrainingConfig config, Device? device = null)
{
    public TrainingConfig Config { get; } = config;
    public Device Device { get; } = device ?? TorchRuntime.Device;

    /// <summary>Weights to start from instead of the MSRA draw: every parameter and buffer of this network whose name
    /// and shape match is copied (a 2-way local model takes all but the last layer of a global model). Null: from scratch.</summary>
    public CellNetwork? StartFrom { get; init; }

    /// <summary>For tests and benchmarks: stop (as if interrupted) after this many epochs of this run.</summary>
    public int? StopAfterEpochs { get; init; }

    /// <summary>After <see cref="Train"/>: the epochs a checkpoint's weights covered when it was restored (0: trained
    /// from the start), and the SGD steps this run took itself. What "resumed" means is that weights were restored and
    /// only the rest was run: these say so from the trainer's own count, not from whether a file was there.</summary>
    public int ResumedAfterEpoch { get; private set; }

    /// <inheritdoc cref="ResumedAfterEpoch"/>
    public long StepsRun { get; private set; }

    /// <summary>Trains the model <paramref name="card"/> describes, or resumes it from <paramref name="checkpoint"/> when
    /// that exists: the network, the colour normalisation of its own training images (its input contract, saved with it),
    /// the card and the history. The caller says what the card says (variant, data, split: where the model comes from)
    /// and where the model is saved; the recipe is the trainer's, so the card's must be the same.</summary>
    public TrainedModel Train(SampleSet train, SampleSet? validation, ModelCard card, string? checkpoint = null, string name = "model",
        IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        if (card.Config != Config) throw new ArgumentException($"{name}: the card describes another recipe than the trainer's", nameof(card));
        if (card.TrainingImages != train.Count) throw new ArgumentException($"{name}: the card says {card.TrainingImages} training images, the set has {train.Count}", nameof(card));
        var normalisation = train.Normalisation(card.Data);
        var (network, history) = TrainNetwork(train, normalisation, validation, checkpoint, name, progress, cancel);
        var seen = Enumerable.Range(0, train.Count).GroupBy(train.Label).ToDictionary(g => g.Key, g => g.Count());
        var trained = Enumerable.Range(0, train.Outputs.Count).Where(seen.ContainsKey).ToDictionary(k => train.Outputs[k].Code(), k => seen[k]);
        return new TrainedModel(network, normalisation, card with { TrainedClasses = trained }, history);
    }

    /// <summary>Trains and returns the network and its history alone (cross-validation, tests, benchmarks: nothing is
    /// saved), or resumes from <paramref name="checkpoint"/> when it exists. <paramref name="validation"/> (original
    /// crops of held-out cells) is scored after every epoch.</summary>
    public (CellNetwork Model, IReadOnlyList<EpochRecord> History) TrainNetwork(SampleSet train, ColourNormalisation normalisation, SampleSet? validation,
        string? checkpoint = null, string name = "model", IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        Config.Validate();
        TorchRuntime.Initialise();
        if (!Config.SingleThreaded || Device.type != DeviceType.CPU) return TrainOnThreads(train, normalisation, validation, checkpoint, name, progress, cancel);
        // A single-threaded model runs on one intra-op thread, whichever thread trains it (a stream of
        // Experiment.TrainFoldEnsemble or the caller's), and gives the count back at the end.
        int threads = get_num_threads();
        set_num_threads(1);
        try { return TrainOnThreads(train, normalisation, validation, checkpoint, name, progress, cancel); }
        finally { set_num_threads(threads); }
    }

    private (CellNetwork Model, IReadOnlyList<EpochRecord> History) TrainOnThreads(SampleSet train, ColourNormalisation normalisation, SampleSet? validation,
        string? checkpoint, string name, IProgress<TrainingProgress>? progress, CancellationToken cancel)
    {
        var model = NewModel(normalisation);
        var named = model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();
        var refine = Config.Refinements;
        var loader = new BatchLoader(train, normalisation, Config.BatchSize, Config.Seed, stainJitter: refine?.Augmentation.StainJitter ?? 0, rotate: refine?.Augmentation.Rotation ?? false);
        long totalSteps = (long)Config.Epochs * loader.BatchesPerEpoch;
        using var sgd = new TorchSgd(named, Config.Hyper, step => Config.RateAt(step, totalSteps),
                                     refine?.Optimisation.ClassifierRate is { } multiple ? (model.IsNewOnPretrained, multiple) : null);
        double labelSmoothing = refine?.Optimisation.LabelSmoothing ?? 0;
        double mixup = refine?.Augmentation.Mixup ?? 0;
        var history = new List<EpochRecord>();
        int start = 0;
        if (checkpoint is not null && File.Exists(checkpoint))
            start = RestoreCheckpoint(checkpoint, model, sgd, history);
        long firstStep = sgd.Step;

        var monitor = new StepMonitor(named);
        var clock = Stopwatch.StartNew();
        int ran = 0;
        for (int epoch = start; epoch < Config.Epochs; epoch++)
        {
            if (StopAfterEpochs is { } stop && ran >= stop) break;
            cancel.ThrowIfCancellationRequested();
            // Dropout masks from the seed and the epoch alone: a resumed run draws the same ones.
            model.SeedDropout(Rng.For(Config.Seed, Rng.Key("dropout"), epoch).Next(0, int.MaxValue), Device);
            model.train();
            var epochClock = Stopwatch.StartNew();
            double lossSum = 0, stepSeconds = 0;
            long correct = 0, seen = 0;
            int step = 0;
            foreach (Batch batch in loader.Epoch(epoch, cancel))
            {
                using (batch)
                {
                    var stepClock = Stopwatch.StartNew();
                    var outcome = Step(model, batch, sgd, monitor, named, name, epoch, step, labelSmoothing, mixup);
                    if (outcome.Fault is { } fault)
                        throw new NonFiniteTrainingException(fault, checkpoint is null ? null : $"The last good checkpoint (after epoch {epoch}) is kept in {checkpoint}.");
                    monitor.Record(outcome.Loss, outcome.LargestGradient);
                    stepSeconds += stepClock.Elapsed.TotalSeconds;
                    lossSum += outcome.Loss * batch.Count;
                    correct += outcome.Correct;
                    seen += batch.Count;
                    step++;
                    progress?.Report(new TrainingProgress(name, epoch + 1, Config.Epochs, step, loader.BatchesPerEpoch, outcome.Loss, clock.Elapsed));
                }
            }
            double trainSeconds = epochClock.Elapsed.TotalSeconds; // the epoch's training loop, validation excluded
            double? validationAccuracy = validation is { Count: > 0 } ? Accuracy(model, validation, normalisation) : null;
            history.Add(new EpochRecord(epoch + 1, lossSum / seen, (double)correct / seen, validationAccuracy, sgd.Rate, trainSeconds, stepSeconds));
            if (checkpoint is not null) SaveCheckpoint(checkpoint, model, sgd, history);
            ran++;
        }
        model.eval();
        ResumedAfterEpoch = start;
        StepsRun = sgd.Step - firstStep;
        return (model, history);
    }

    /// <summary>The network this training starts from: seeded, on the device, with the engine, from <see cref="StartFrom"/>
    /// where given, its input adapted to this training set's normalisation.</summary>
    private CellNetwork NewModel(ColourNormalisation normalisation)
    {
        TorchRuntime.Seed(Config.Seed);
        var model = CellNetwork.Create(Config.Network, (ulong)Config.Seed);
        model.to(Device);
        model.Engine = Config.Engine;
        if (StartFrom is not null) CopyMatching(StartFrom, model);
        // A pretrained backbone maps the normalised planes back to the pixels it was trained on; this training set's
        // normalisation decides that map (in the network's state, so a checkpoint or a saved model carries it).
        model.AdaptInput(normalisation);
        return model;
    }

    /// <summary>One SGD step on <paramref name="batch"/>: the forward pass (mixed with a partner image when mixup is on),
    /// the loss, the backward pass, the gradient guard and the update, in one no-GC region (<see cref="TorchRuntime.Step"/>).</summary>
    private StepOutcome Step(CellNetwork model, Batch batch, TorchSgd sgd, StepMonitor monitor, List<(string name, Tensor)> named, string name,
                             int epoch, int step, double labelSmoothing, double mixup) =>
        TorchRuntime.Step(() =>
        {
            using var scope = NewDisposeScope();
            var (x, y) = batch.ToTensors(Device);
            Tensor logits, loss;
            if (mixup > 0)
            {
                // λ and the partner of each image from the seed, the epoch and the step alone: a resumed run mixes the same.
                var (lambda, partner) = MixupDraw(Config.Seed, epoch, step, batch.Count, mixup);
                using var order = tensor(partner, device: Device);
                // Scalars held past their calls (TorchRuntime.Step): λ, 1 − λ, and add_'s alpha.
                using Scalar own = lambda.ToScalar(), other = (1 - lambda).ToScalar(), one = 1.ToScalar();
                x = x.mul(own).add_(x.index_select(0, order).mul(other), one);
                logits = model.forward(x);
                loss = nn.functional.cross_entropy(logits, y, label_smoothing: labelSmoothing).mul(own)
                    .add_(nn.functional.cross_entropy(logits, y.index_select(0, order), label_smoothing: labelSmoothing).mul(other), one);
            }
            else
            {
                logits = model.forward(x);
                loss = nn.functional.cross_entropy(logits, y, label_smoothing: labelSmoothing);
            }
            double value = loss.item<float>();
            if (!double.IsFinite(value))
                return new StepOutcome(value, 0, 0, monitor.Diagnose(name, epoch + 1, step + 1, sgd.Rate, value, x, named, model.named_buffers(), null));
            model.zero_grad();
            loss.backward();
            AfterBackward?.Invoke(sgd.Step, model);
            // The guard: every gradient checked before the update, so a faulty kernel's NaN stops training
            // here, named, instead of reaching the weights (docs/engine.md, "The AVX-512 fault").
            float[] largest = LargestGradients(named);
            if (!largest.All(float.IsFinite))
                return new StepOutcome(value, 0, 0, monitor.Diagnose(name, epoch + 1, step + 1, sgd.Rate, value, x, named, model.named_buffers(), largest));
            sgd.Update();
            return new StepOutcome(value, logits.argmax(1).eq(y).sum().item<long>(), largest.Max(), null);
        });

    /// <summary>For tests: called after each backward pass, before the gradient check and the update, with the
    /// optimiser's step count and the model (e.g. to plant a NaN in a gradient as a faulty kernel would).</summary>
    internal Action<long, CellNetwork>? AfterBackward { get; init; }

    /// <summary>Copies each tensor of <paramref name="from"/>'s state whose name and shape <paramref name="to"/> shares;
    /// returns how many were copied. None copied is an error: the two networks have nothing in common.</summary>
    internal static int CopyMatching(CellNetwork from, CellNetwork to)
    {
        var source = from.state_dict();
        int copied = 0;
        using var _ = no_grad();
        foreach (var (name, target) in to.state_dict())
            if (source.TryGetValue(name, out var value) && value.shape.SequenceEqual(target.shape))
            {
                target.copy_(value);
                copied++;
            }
        return copied > 0 ? copied : throw new ArgumentException("StartFrom: no parameter of the starting network matches the new one in name and shape");
    }

    /// <summary>Mixup's λ ~ Beta(α, α) and a shuffle of the batch (image i is mixed with image partner[i]).</summary>
    internal static (float Lambda, long[] Partner) MixupDraw(int seed, int epoch, int step, int count, double alpha)
    {
        var rng = Rng.For(seed, Rng.Key("mixup"), epoch, step);
        float lambda = (float)rng.Beta(alpha, alpha);
        long[] partner = Enumerable.Range(0, count).Select(i => (long)i).ToArray();
        rng.Shuffle(partner);
        return (lambda, partner);
    }

    private readonly record struct StepOutcome(double Loss, long Correct, double LargestGradient, NonFiniteReport? Fault);

    /// <summary>The largest |g| of every parameter's gradient (NaN where a gradient holds a NaN, ∞ where it holds an
    /// ∞), in one copy from the device: the guard against non-finite gradients and the gradient history of the
    /// diagnosis. The largest magnitude, not the L2 norm: it cannot overflow where the gradient itself is finite, and
    /// it passes no Scalar to native code.</summary>
    private static float[] LargestGradients(IReadOnlyList<(string Name, Tensor Parameter)> parameters)
    {
        using var scope = NewDisposeScope();
        var norms = parameters.Select(p => p.Parameter.grad is { } g ? g.abs().max() : zeros(1, device: p.Parameter.device).squeeze()).ToArray();
        return stack(norms).cpu().data<float>().ToArray();
    }

    private static double Accuracy(CellNetwork model, SampleSet set, ColourNormalisation normalisation)
    {
        int[] predicted = Inference.ArgMax(Inference.Probabilities(model, set, normalisation));
        return (double)Enumerable.Range(0, set.Count).Count(i => predicted[i] == set.Label(i)) / set.Count;
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    private void SaveCheckpoint(string path, CellNetwork model, TorchSgd sgd, List<EpochRecord> history)
    {
        var tensors = model.state_dict().ToDictionary(kv => "model/" + kv.Key, kv => kv.Value, StringComparer.Ordinal);
        foreach (var (k, v) in sgd.State) tensors[k] = v;
        // One safetensors file: the weights and momentum buffers as tensors, where training stood as metadata.
        string header = JsonSerializer.Serialize(new CheckpointHeader(history.Count, sgd.Step, Config, history), Json);
        Safetensors.Save(path, tensors, new Dictionary<string, string> { [CheckpointKey] = header });
    }

    private int RestoreCheckpoint(string path, CellNetwork model, TorchSgd sgd, List<EpochRecord> history)
    {
        var (metadata, tensors) = Safetensors.Load(path);
        try
        {
            string header = metadata.GetValueOrDefault(CheckpointKey) ?? throw new InvalidDataException($"{path}: a safetensors file without the '{CheckpointKey}' metadata of a checkpoint");
            var meta = JsonSerializer.Deserialize<CheckpointHeader>(header, Json) ?? throw new InvalidDataException($"{path}: empty checkpoint header");
            if (meta.Config != Config)
                throw new InvalidDataException($"{path}: checkpoint of another configuration ({meta.Config}); delete it or train with that configuration");
            var weights = tensors.Where(kv => kv.Key.StartsWith("model/", StringComparison.Ordinal)).ToDictionary(kv => kv.Key["model/".Length..], kv => kv.Value);
            model.load_state_dict(weights);
            sgd.Restore(tensors);
            sgd.Step = meta.Step;
            history.AddRange(meta.History);
            return meta.Epochs;
        }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    /// <summary>The metadata key of a checkpoint's state (epochs done, SGD step, configuration, history).</summary>
    public const string CheckpointKey = "marrowdiff_checkpoint";

    private sealed record CheckpointHeader(int Epochs, long Step, TrainingConfig Config, List<EpochRecord> History);
}
