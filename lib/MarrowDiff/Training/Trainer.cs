using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MarrowDiff.Imaging;
using MarrowDiff.Phantom;
using MarrowDiff.Preparation;
using MarrowDiff.Torch;
using TorchSharp;
using static TorchSharp.torch;

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
/// epochs, batch size, seed. Hashed for the model cache and saved beside every model.</summary>
public sealed record TrainingConfig(NetworkConfig Network, Hyperparameters Hyper, int Epochs, int BatchSize = 40, int Seed = 2017)
{
    public void Validate()
    {
        Network.Validate(); Hyper.Validate();
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), "at least 1 epoch");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), "batch size at least 1");
    }
}

/// <summary>One epoch of training (the paper's Fig 4A plots these).</summary>
/// <param name="StepSeconds">Sum of the time spent inside training steps (forward, backward, update): compared
/// with <paramref name="Seconds"/> it shows whether data loading ever made training wait.</param>
public sealed record EpochRecord(int Epoch, double TrainLoss, double TrainAccuracy, double? ValidationAccuracy, double LearningRate, double Seconds, double StepSeconds);

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
internal sealed class TorchSgd(IReadOnlyList<(string Name, Tensor Parameter)> parameters, Hyperparameters hyper) : IDisposable
{
    private readonly Dictionary<string, Tensor> _velocity = new(StringComparer.Ordinal);

    public long Step { get; set; }

    public double Rate => hyper.RateAt(Step);

    public void Update()
    {
        using var _ = no_grad();
        // Every Scalar this step hands to libtorch is made here, once, and disposed at the end of the method, so each is
        // reachable until after the last native call that reads it. Why: TorchSharp 0.107 turns a double (and the
        // implicit 1 of add_(Tensor)) into a temporary Scalar and passes only its handle; once the handle is read the
        // temporary is garbage, and a collection during the native call lets its finalizer free it mid-use ("Unknown
        // scalar type", "alpha must not be a floating point number" in long runs). Holding them here fixes it where it
        // starts, whatever the collector does (tested with a thread collecting in a loop).
        using Scalar negativeRate = (-Rate).ToScalar(), weightDecay = hyper.WeightDecay.ToScalar(), momentum = hyper.Momentum.ToScalar(), one = 1.ToScalar();
        foreach (var (name, p) in parameters)
        {
            if (p.grad is not { } g) continue;
            using var grad = hyper.WeightDecay != 0 ? g.add(p, weightDecay) : g.clone();
            if (hyper.Momentum != 0)
            {
                if (_velocity.TryGetValue(name, out var v)) v.mul_(momentum).add_(grad, one);
                // The buffers outlive the step's dispose scope: they are the optimiser's state.
                else _velocity[name] = grad.clone().DetachFromDisposeScope();
                p.add_(_velocity[name], negativeRate);
            }
            else p.add_(grad, negativeRate);
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
/// Trains a <see cref="VggNet"/> on a training set, recording loss and accuracies per epoch, writing a checkpoint
/// after every epoch (atomically), resuming from it, and stopping with a diagnosis on a NaN or infinite loss or
/// gradient (<see cref="NonFiniteReport"/>: divergence, a numerical fault or a bad input, and the first bad tensor).
/// Everything random is drawn from the seed and the epoch number (data order, dropout masks), so a run resumed
/// from epoch k reaches the same weights as one that never stopped.
/// </summary>
public sealed class Trainer(TrainingConfig config, Device? device = null)
{
    public TrainingConfig Config { get; } = config;
    public Device Device { get; } = device ?? TorchRuntime.Device;

    /// <summary>For tests and benchmarks: stop (as if interrupted) after this many epochs of this run.</summary>
    public int? StopAfterEpochs { get; init; }

    /// <summary>Trains and returns the model, or resumes from <paramref name="checkpoint"/> when it exists.
    /// <paramref name="validation"/> (original crops of held-out cells) is scored after every epoch.</summary>
    public (VggNet Model, IReadOnlyList<EpochRecord> History) Train(SampleSet train, ColourNormalisation normalisation, SampleSet? validation,
        string? checkpoint = null, string name = "model", IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        Config.Validate();
        TorchRuntime.Initialise();
        TorchRuntime.Seed(Config.Seed);
        var model = new VggNet(Config.Network, (ulong)Config.Seed);
        model.to(Device);
        var named = model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();
        using var sgd = new TorchSgd(named, Config.Hyper);
        var history = new List<EpochRecord>();
        int start = 0;
        if (checkpoint is not null && File.Exists(checkpoint))
            start = RestoreCheckpoint(checkpoint, model, sgd, history);

        var monitor = new StepMonitor(named);
        var loader = new BatchLoader(train, normalisation, Config.BatchSize, Config.Seed);
        var clock = Stopwatch.StartNew();
        int ran = 0;
        for (int epoch = start; epoch < Config.Epochs; epoch++)
        {
            if (StopAfterEpochs is { } stop && ran >= stop) break;
            cancel.ThrowIfCancellationRequested();
            // Dropout masks from the seed and the epoch alone: a resumed run draws the same ones.
            torch.manual_seed(Rng.For(Config.Seed, Rng.Key("dropout"), epoch).Next(0, int.MaxValue));
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
                    var outcome = TorchRuntime.Step(() =>
                    {
                        using var scope = NewDisposeScope();
                        var (x, y) = batch.ToTensors(Device);
                        Tensor logits = model.forward(x);
                        Tensor loss = nn.functional.cross_entropy(logits, y);
                        double value = loss.item<float>();
                        if (!double.IsFinite(value))
                            return new StepOutcome(value, 0, 0, monitor.Diagnose(name, epoch + 1, step + 1, sgd.Rate, value, x, named, model.named_buffers(), null));
                        model.zero_grad();
                        loss.backward();
                        AfterBackward?.Invoke(sgd.Step, model);
                        // The guard: every gradient checked before the update, so a faulty kernel's NaN stops training
                        // here, named, instead of reaching the weights (issue 11).
                        float[] largest = LargestGradients(named);
                        if (!largest.All(float.IsFinite))
                            return new StepOutcome(value, 0, 0, monitor.Diagnose(name, epoch + 1, step + 1, sgd.Rate, value, x, named, model.named_buffers(), largest));
                        sgd.Update();
                        return new StepOutcome(value, logits.argmax(1).eq(y).sum().item<long>(), largest.Max(), null);
                    });
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
        return (model, history);
    }

    /// <summary>For tests: called after each backward pass, before the gradient check and the update, with the
    /// optimiser's step count and the model (e.g. to plant a NaN in a gradient as a faulty kernel would).</summary>
    internal Action<long, VggNet>? AfterBackward { get; init; }

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

    /// <summary>Softmax probabilities [n, classes] of every sample of <paramref name="set"/>, in order.</summary>
    public static float[,] Probabilities(VggNet model, SampleSet set, ColourNormalisation normalisation, int batchSize = 100)
    {
        model.eval();
        int k = model.Config.Classes;
        var result = new float[set.Count, k];
        var loader = new BatchLoader(set, normalisation, batchSize, seed: 0, shuffle: false);
        var device = model.parameters().First().device;
        using var _ = no_grad();
        foreach (Batch batch in loader.Epoch(0))
            using (batch)
            {
                float[] p = TorchRuntime.Step(() =>
                {
                    using var scope = NewDisposeScope();
                    var (x, _) = batch.ToTensors(device);
                    return nn.functional.softmax(model.forward(x), 1).cpu().data<float>().ToArray();
                });
                for (int i = 0; i < batch.Count; i++)
                    for (int c = 0; c < k; c++) result[batch.Samples[i], c] = p[i * k + c];
            }
        return result;
    }

    /// <summary>Softmax probabilities of <paramref name="count"/> inputs already normalised (count × 3 × 96 × 96
    /// floats, channel-first): for analyses that edit the input itself, such as occlusion.</summary>
    public static float[,] ProbabilitiesOf(VggNet model, float[] inputs, int count, int batchSize = 100)
    {
        const int per = 3 * OversamplingSettings.PatchSize * OversamplingSettings.PatchSize;
        if (inputs.Length < (long)count * per) throw new ArgumentException($"{inputs.Length} floats cannot hold {count} images of {per}", nameof(inputs));
        model.eval();
        int k = model.Config.Classes;
        var result = new float[count, k];
        var device = model.parameters().First().device;
        using var _ = no_grad();
        for (int start = 0; start < count; start += batchSize)
        {
            int n = Math.Min(batchSize, count - start), first = start;
            float[] p = TorchRuntime.Step(() =>
            {
                using var scope = NewDisposeScope();
                var x = torch.empty([n, 3, OversamplingSettings.PatchSize, OversamplingSettings.PatchSize], ScalarType.Float32);
                inputs.AsSpan(first * per, n * per).CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(x.bytes));
                return nn.functional.softmax(model.forward(x.to(device)), 1).cpu().data<float>().ToArray();
            });
            for (int i = 0; i < n; i++)
                for (int c = 0; c < k; c++) result[start + i, c] = p[i * k + c];
        }
        return result;
    }

    /// <summary>Index of the largest probability of each row.</summary>
    public static int[] ArgMax(float[,] probabilities) =>
        Enumerable.Range(0, probabilities.GetLength(0)).Select(i => Enumerable.Range(0, probabilities.GetLength(1)).MaxBy(c => probabilities[i, c])).ToArray();

    private static double Accuracy(VggNet model, SampleSet set, ColourNormalisation normalisation)
    {
        int[] predicted = ArgMax(Probabilities(model, set, normalisation));
        return (double)Enumerable.Range(0, set.Count).Count(i => predicted[i] == set.Label(i)) / set.Count;
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    private void SaveCheckpoint(string path, VggNet model, TorchSgd sgd, List<EpochRecord> history)
    {
        var tensors = model.state_dict().ToDictionary(kv => "model/" + kv.Key, kv => kv.Value, StringComparer.Ordinal);
        foreach (var (k, v) in sgd.State) tensors[k] = v;
        string header = JsonSerializer.Serialize(new CheckpointHeader(history.Count, sgd.Step, Config, history), Json);
        TensorArchive.Save(path, tensors, header);
    }

    private int RestoreCheckpoint(string path, VggNet model, TorchSgd sgd, List<EpochRecord> history)
    {
        var (header, tensors) = TensorArchive.Load(path);
        try
        {
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

    private sealed record CheckpointHeader(int Epochs, long Step, TrainingConfig Config, List<EpochRecord> History);

    /// <summary>The history as CSV (the paper's Fig 4A data).</summary>
    public static string HistoryCsv(IEnumerable<EpochRecord> history)
    {
        var csv = new StringBuilder("epoch,train_loss,train_accuracy,validation_accuracy,learning_rate,seconds,step_seconds\n");
        foreach (var e in history)
            csv.Append(string.Create(CultureInfo.InvariantCulture, $"{e.Epoch},{e.TrainLoss:R},{e.TrainAccuracy:R},{e.ValidationAccuracy?.ToString("R", CultureInfo.InvariantCulture) ?? ""},{e.LearningRate:R},{e.Seconds:0.###},{e.StepSeconds:0.###}\n"));
        return csv.ToString();
    }
}
