using System.Diagnostics;
using MarrowDiff.Model;
using MarrowDiff.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace MarrowDiff.Training;

/// <summary>What one benchmark measured: seconds per step, and the arithmetic rate those seconds imply.</summary>
/// <param name="Mode">"train" (forward, backward, SGD update) or "infer" (forward without gradients, eval mode).</param>
/// <param name="GflopPerStep">Convolution and fully connected arithmetic of one step: the forward pass per image ×
/// batch, three times that for training.</param>
public sealed record BenchResult(string Mode, NetworkConfig Network, int Batch, int Patch, ConvolutionEngine Engine, bool FoldedBatchNorm,
                                 double SecondsPerStep, long Parameters, int Threads, double GflopPerStep)
{
    public double GflopPerSecond => GflopPerStep / SecondsPerStep;
    public double ImagesPerSecond => Batch / SecondsPerStep;
}

/// <summary>Times training or inference steps of a network on random input: the number behind every "this would take
/// N hours here" in the docs, and the TorchSharp half of <c>bench/run.sh</c> (whose PyTorch half,
/// <c>bench/vgg_twin.py</c>, times the same network the same way).</summary>
public static class StepBenchmark
{
    /// <summary>Mean seconds per step over <paramref name="steps"/> steps, after one warm-up step. <paramref name="patch"/>
    /// is the side of the images fed in (default: the network's input size); a larger patch is average-pooled by the
    /// network itself, as the smoke profile feeds 96-px patches to a 48-px network.</summary>
    public static BenchResult Measure(NetworkConfig network, int batchSize = 40, int steps = 5, int? patch = null, bool train = true,
                                      ConvolutionEngine engine = ConvolutionEngine.Default, bool foldBatchNorm = false)
    {
        if (train && foldBatchNorm) throw new ArgumentException("BatchNorm folding is an inference lever: it cannot train");
        TorchRuntime.Initialise();
        TorchRuntime.Seed(1);
        using var model = CellNetwork.Create(network);
        var device = TorchRuntime.Device;
        model.to(device);
        model.Engine = engine;
        if (train) model.train();
        else
        {
            model.eval();
            if (foldBatchNorm) model.FoldBatchNorm();
        }
        var named = model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();
        using var sgd = new TorchSgd(named, new Hyperparameters(0.01, 0.9, 1e-4, 5e-4));
        int side = patch ?? network.InputSize;
        using var x = randn(batchSize, 3, side, side, device: device);
        using var y = randint(0, network.Classes, [batchSize], device: device);
        void Step()
        {
            using var scope = NewDisposeScope();
            if (train)
            {
                var loss = nn.functional.cross_entropy(model.forward(x), y);
                model.zero_grad();
                loss.backward();
                sgd.Update();
                _ = loss.item<float>(); // waits for the device
            }
            else
            {
                using var noGrad = no_grad();
                _ = nn.functional.softmax(model.forward(x), 1).sum().item<float>();
            }
        }
        Step();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) Step();
        double seconds = clock.Elapsed.TotalSeconds / steps;
        double gflop = network.ForwardFlops() * batchSize * (train ? 3 : 1) / 1e9;
        return new BenchResult(train ? "train" : "infer", network, batchSize, side, engine, foldBatchNorm, seconds, model.ParameterCount, get_num_threads(), gflop);
    }

    /// <summary>
    /// Cells per second of a saved classifier (a model or a fold ensemble, with its own test-time D4) on real cells,
    /// end to end from prepared tiles to softmax: channels-first (LibTorch's default layout; the label was "as trained"
    /// until real-plus began to train channels-last) and channels-last, each as one stream on every thread, then
    /// channels-last on one single-threaded stream per thread (<see cref="Inference"/>'s default for networks
    /// whose activations fit a stream, <see cref="Inference.StreamsFor(CellNetwork, int, int)"/>), interleaved round by round after one warm-up of each, so that all meet the
    /// same machine load. Each timing repeats the whole set until <paramref name="minSeconds"/> have passed and reports
    /// seconds per pass, with the page faults a pass cost (<see cref="TorchRuntime.KeepFreedTensorMemory"/>). Nothing is
    /// scored: the cells are only timed.
    /// </summary>
    public static IReadOnlyList<ClassifierSpeed> Classifier(ISavedClassifier classifier, Preparation.SampleSet cells, int rounds = 2, double minSeconds = 5)
    {
        var members = FoldEnsemble.MembersOf(classifier);
        int passes = FoldEnsemble.PassesPerCell(classifier);
        // Every thread's stream is timed even where the default is one stream, so that the choice stays checkable.
        int streams = Inference.StreamsFor(members[0].Network.parameters().First().device);
        // (path, channels-last, streams): each lever alone, then both. One stream is every thread on one batch.
        var paths = new List<(string Name, bool ChannelsLast, int Streams)> { ("channels-first", false, 1), ("channels-last", true, 1) };
        if (streams > 1) paths.Add(($"channels-last, {streams} streams", true, streams));
        // Seconds per pass over the set, over as many passes as fill minSeconds: a few hundred cells take under a second,
        // where a shared machine's noise moves single timings by a third.
        (double Seconds, int Repeats, long? Faults) Time((string Name, bool ChannelsLast, int Streams) path, Preparation.SampleSet set, double atLeast)
        {
            long? faultsBefore = TorchRuntime.MinorPageFaults();
            var clock = Stopwatch.StartNew();
            int repeats = 0;
            do
            {
                foreach (var m in members)
                    _ = Inference.Probabilities(m.Network, set, m.Normalisation, testTimeD4: m.TestTimeD4, channelsLast: path.ChannelsLast, streams: path.Streams);
                repeats++;
            } while (clock.Elapsed.TotalSeconds < atLeast);
            double seconds = clock.Elapsed.TotalSeconds / repeats;
            return (seconds, repeats, TorchRuntime.MinorPageFaults() - faultsBefore is { } f ? f / repeats : null);
        }
        var warm = cells.Subset([.. Enumerable.Range(0, Math.Min(cells.Count, 200))], "warm-up");
        foreach (var path in paths) Time(path, warm, 0);
        var rows = new List<ClassifierSpeed>();
        for (int round = 1; round <= rounds; round++)
            foreach (var path in paths)
            {
                var (seconds, repeats, faults) = Time(path, cells, minSeconds);
                rows.Add(new ClassifierSpeed(round, path.Name, cells.Count, passes, seconds, get_num_threads(), path.Streams, repeats, faults));
            }
        return rows;
    }
}

/// <summary>One timing of <see cref="StepBenchmark.Classifier"/>.</summary>
/// <param name="Seconds">Seconds per pass over the cells, the mean of <paramref name="Repeats"/> passes.</param>
/// <param name="PageFaults">Minor page faults of the process per pass (<see cref="TorchRuntime.MinorPageFaults"/>), null off Linux.</param>
public sealed record ClassifierSpeed(int Round, string Path, int Cells, int PassesPerCell, double Seconds, int Threads, int Streams, int Repeats, long? PageFaults)
{
    public double CellsPerSecond => Cells / Seconds;
}
