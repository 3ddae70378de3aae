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
/// N hours here" in the README, and the TorchSharp half of <c>bench/run.sh</c> (whose PyTorch half,
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
        using var model = new VggNet(network);
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
}
