using System.CommandLine;
using System.Globalization;
using MarrowDiff.Model;
using MarrowDiff.Torch;
using MarrowDiff.Training;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow bench</c>: seconds per training step of the paper's network (or a narrower one) here.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var width = new Option<double>("--width") { Description = "channel width relative to VGG-16 (1: the paper's network)", DefaultValueFactory = _ => 1 };
        var input = new Option<int>("--input") { Description = "the network's input side in px", DefaultValueFactory = _ => 96 };
        var patch = new Option<int?>("--patch") { Description = "feed larger patches that the network average-pools to --input (the smoke profile: --input 48 --patch 96)", HelpName = "N" };
        var batch = new Option<int>("--batch") { Description = "batch size", DefaultValueFactory = _ => 40 };
        var steps = new Option<int>("--steps") { Description = "timed steps (after one warm-up)", DefaultValueFactory = _ => 5 };
        var dropout = new Option<double?>("--dropout") { Description = "dropout of every layer (default: the paper's)", HelpName = "P" };
        var command = new Command("bench", "Times training steps of the paper's network (or a narrower one) on this machine.")
        {
            width, input, patch, batch, steps, dropout,
        };
        command.SetAction(r =>
        {
            var network = new NetworkConfig(Width: r.GetValue(width), InputSize: r.GetValue(input));
            if (r.GetValue(dropout) is { } p) network = network with { FirstDropout = p, Dropout = p, ClassifierDropout = p };
            int b = r.GetValue(batch), n = r.GetValue(steps), fedPatch = r.GetValue(patch) ?? network.InputSize;
            var (mean, parameters, threads) = StepBenchmark.Measure(network, b, n, fedPatch);
            string fed = fedPatch == network.InputSize ? "" : $" (fed {fedPatch}-px patches, pooled)";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"width {network.Width}, input {network.InputSize}{fed}, batch {b}: {parameters:N0} parameters, {mean:0.000} s per training step ({n} steps, {threads} threads, {TorchRuntime.Device.type}) on {CpuInfo.Current()}"));
            return 0;
        });
        return command;
    }
}
