using System.Diagnostics;
using MarrowDiff.Model;
using MarrowDiff.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace MarrowDiff.Training;

/// <summary>Times training steps (forward, backward, SGD update) of a network on random input: the number behind
/// every "this would take N hours here" in the README.</summary>
public static class StepBenchmark
{
    /// <summary>Mean seconds per step over <paramref name="steps"/> steps, after one warm-up step. <paramref name="patch"/>
    /// is the side of the images fed in (default: the network's input size); a larger patch is average-pooled by the
    /// network itself, as the smoke profile feeds 96-px patches to a 48-px network.</summary>
    public static (double MeanSeconds, long Parameters, int Threads) Measure(NetworkConfig network, int batchSize = 40, int steps = 5, int? patch = null)
    {
        TorchRuntime.Initialise();
        TorchRuntime.Seed(1);
        using var model = new VggNet(network);
        var device = TorchRuntime.Device;
        model.to(device).train();
        var named = model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();
        using var sgd = new TorchSgd(named, new Hyperparameters(0.01, 0.9, 1e-4, 5e-4));
        int side = patch ?? network.InputSize;
        using var x = randn(batchSize, 3, side, side, device: device);
        using var y = randint(0, network.Classes, [batchSize], device: device);
        void Step()
        {
            using var scope = NewDisposeScope();
            var loss = nn.functional.cross_entropy(model.forward(x), y);
            model.zero_grad();
            loss.backward();
            sgd.Update();
            _ = loss.item<float>(); // waits for the device
        }
        Step();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) Step();
        return (clock.Elapsed.TotalSeconds / steps, model.ParameterCount, get_num_threads());
    }
}
