using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MarrowDiff.Model;
using MarrowDiff.Torch;
using MarrowDiff.Training;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow bench</c>: seconds per training (or inference) step of the paper's network or a narrower one here,
/// with the engine levers (docs/engine.md: bf16 convolutions, channels-last, BatchNorm folded for inference).</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var width = new Option<double>("--width") { Description = "channel width relative to VGG-16 (1: the paper's network)", DefaultValueFactory = _ => 1 };
        var depth = new Option<int>("--depth") { Description = "weight layers of the VGG configuration: 16 (the paper's), 13 or 11", DefaultValueFactory = _ => 16 };
        var backbone = new Option<string?>("--backbone") { Description = "time another network than VGG: resnet18-imagenet (the real-transfer profile's; --width, --depth, --global-pool and --dropout do not apply)", HelpName = "NAME" };
        var input = new Option<int>("--input") { Description = "the network's input side in px", DefaultValueFactory = _ => 96 };
        var patch = new Option<int?>("--patch") { Description = "feed larger patches that the network average-pools to --input (the smoke profile: --input 48 --patch 96)", HelpName = "N" };
        var batch = new Option<int>("--batch") { Description = "batch size", DefaultValueFactory = _ => 40 };
        var steps = new Option<int>("--steps") { Description = "timed steps (after one warm-up)", DefaultValueFactory = _ => 5 };
        var dropout = new Option<double?>("--dropout") { Description = "dropout of every layer (default: the paper's)", HelpName = "P" };
        var globalPool = new Option<bool>("--global-pool") { Description = "global average pooling before the classifier (the real-plus profile's network)" };
        var mode = new Option<string>("--mode") { Description = "train: forward, backward and SGD update; infer: forward only, eval mode", DefaultValueFactory = _ => "train" };
        mode.AcceptOnlyFromAmong("train", "infer");
        var bf16 = new Option<bool>("--bf16") { Description = "bf16 convolutions, fp32 weights and BatchNorm" };
        var channelsLast = new Option<bool>("--channels-last") { Description = "channels-last strides for the convolutions" };
        var foldBn = new Option<bool>("--fold-bn") { Description = "BatchNorm folded into the convolutions (--mode infer only)" };
        var json = new Option<bool>("--json") { Description = "one JSON line instead of a sentence (for bench/run.sh)" };
        var model = new Option<string?>("--model") { Description = "time a saved classifier (a model or a fold-ensemble folder) on the cells of --data instead: cells per second, channels-first and channels-last (BatchNorm folded in both, as every inference runs)", HelpName = "DIR" };
        var data = new Option<string?>("--data") { Description = "with --model: the cells to time (any layout the loader reads; resampled as evaluate does)", HelpName = "PATH" };
        var seconds = new Option<double>("--seconds") { Description = "with --model: repeat the cells until each timing lasts this long (a shared machine's noise moves a one-second timing by a third)", DefaultValueFactory = _ => 5 };
        var rounds = new Option<int>("--rounds") { Description = "with --model: interleaved rounds of every path", DefaultValueFactory = _ => 2 };
        var command = new Command("bench", "Times training or inference steps of the paper's network (or a narrower one) on this machine.")
        {
            width, depth, backbone, input, patch, batch, steps, dropout, globalPool, mode, bf16, channelsLast, foldBn, json, model, data, rounds, seconds,
        };
        command.SetAction(r =>
        {
            if (r.GetValue(model) is { } folder)
                return Classifier(folder, r.GetValue(data) ?? throw new ArgumentException("--model: give the cells to time with --data"), r.GetValue(rounds), r.GetValue(seconds));
            if (r.GetValue(data) is not null) throw new ArgumentException("--data: times a saved classifier; give it with --model");
            var vgg = new VggConfig(Width: r.GetValue(width), InputSize: r.GetValue(input)) { GlobalPool = r.GetValue(globalPool), Depth = r.GetValue(depth) };
            if (r.GetValue(dropout) is { } p) vgg = vgg with { FirstDropout = p, Dropout = p, ClassifierDropout = p };
            NetworkConfig network = r.GetValue(backbone) is { } name ? new VggConfig(InputSize: r.GetValue(input), ClassifierDropout: 0).WithKind(name) : vgg;
            bool train = r.GetValue(mode) == "train";
            if (train && r.GetValue(foldBn)) throw new ArgumentException("--fold-bn: BatchNorm folding is for inference; add --mode infer");
            var engine = (r.GetValue(bf16) ? ConvolutionEngine.BFloat16 : 0) | (r.GetValue(channelsLast) ? ConvolutionEngine.ChannelsLast : 0);
            int b = r.GetValue(batch), n = r.GetValue(steps);
            var cpu = CpuInfo.Current();
            if (EngineAdvice.For(engine, cpu) is { } advice) Console.WriteLine(advice);
            var result = StepBenchmark.Measure(network, b, n, r.GetValue(patch) ?? network.InputSize, train, engine, r.GetValue(foldBn));
            if (r.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["engine"] = $"torchsharp {typeof(TorchSharp.torch).Assembly.GetName().Version}", ["mode"] = result.Mode, ["network"] = network.Kind, ["width"] = (object?)(network as VggConfig)?.Width ?? "none", ["depth"] = r.GetValue(depth),
                    ["input"] = network.InputSize, ["patch"] = result.Patch, ["batch"] = b, ["levers"] = Levers(result), ["seconds_per_step"] = result.SecondsPerStep,
                    ["parameters"] = result.Parameters, ["threads"] = result.Threads, ["gflop_per_step"] = result.GflopPerStep,
                    ["gflop_per_second"] = result.GflopPerSecond, ["images_per_second"] = result.ImagesPerSecond, ["cpu"] = cpu.ToString(),
                }));
                return 0;
            }
            string fed = result.Patch == network.InputSize ? "" : $" (fed {result.Patch}-px patches, pooled)";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(network is VggConfig v ? $"width {v.Width}{(v.Depth != 16 ? $", VGG-{v.Depth}" : "")}" : network.Kind)}, input {network.InputSize}{fed}, batch {b}, {result.Mode} ({Levers(result)}): {result.Parameters:N0} parameters, " +
                $"{result.SecondsPerStep:0.000} s per step, {result.ImagesPerSecond:0} images/s, {result.GflopPerSecond:0.0} GFLOP/s ({n} steps, {result.Threads} threads, {TorchRuntime.Device.type}) on {cpu}"));
            return 0;
        });
        return command;
    }

    private static int Classifier(string folder, string data, int rounds, double seconds)
    {
        if (rounds < 1) throw new ArgumentOutOfRangeException(nameof(rounds), $"--rounds {rounds}: at least 1");
        if (seconds is < 0 or > 600) throw new ArgumentOutOfRangeException(nameof(seconds), $"--seconds {seconds}: 0 to 600");
        using var classifier = FoldEnsemble.LoadAny(folder);
        var (_, tiles, cells) = CellsToScore.Read(classifier.Card, data, "all", "smoke", classifier.Card.Config.Seed, new ConsoleProgress(), null);
        var set = Preparation.SampleSet.Original(tiles, cells, "all cells");
        var cpu = CpuInfo.Current();
        foreach (var row in StepBenchmark.Classifier(classifier, set, rounds, seconds))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {row.Round}, {row.Path}: {row.Cells} cells in {row.Seconds:0.000} s (mean of {row.Repeats}) = {row.CellsPerSecond:0.0} cells/s ({row.PassesPerCell} forward passes a cell, {Inference.StreamsText(row.Streams)}{(row.PageFaults is { } f ? $", {f:N0} page faults a pass" : "")}) on {cpu}"));
        return 0;
    }

    private static string Levers(BenchResult r)
    {
        var on = new List<string>();
        if (r.Engine.HasFlag(ConvolutionEngine.BFloat16)) on.Add("bf16");
        if (r.Engine.HasFlag(ConvolutionEngine.ChannelsLast)) on.Add("channels-last");
        if (r.FoldedBatchNorm) on.Add("folded BN");
        return on.Count == 0 ? "fp32" : string.Join("+", on);
    }
}
