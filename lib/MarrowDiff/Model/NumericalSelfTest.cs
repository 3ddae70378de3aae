using System.Diagnostics;
using System.Globalization;
using MarrowDiff.Core;
using MarrowDiff.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace MarrowDiff.Model;

/// <summary>One configuration of the convolution self-test and what it found.</summary>
/// <param name="Channels">Channels of both convolutions (input 3 → C → C).</param>
/// <param name="UsedByProject">True when the convolution runs as MarrowDiff's network runs it
/// (<see cref="BlockAlignedConv2d"/>); false for a plain <c>nn.Conv2d</c>, kept only to detect the fault.</param>
/// <param name="NonFinite">Iterations in which a gradient (of the second convolution's input, or of the first
/// convolution's weight or bias) held NaN or ±∞.</param>
/// <param name="Wrong">Iterations in which the gradient of the second convolution's input, finite, differed from
/// the float64 reference by more than <see cref="NumericalSelfTest.Tolerance"/> of its largest value.</param>
/// <param name="MaxRelativeError">Largest |float32 − float64| / max |float64| of that gradient over the iterations.</param>
public sealed record ConvolutionCheck(string Name, int Channels, bool UsedByProject, int Iterations, int NonFinite, int Wrong, double MaxRelativeError, TimeSpan Elapsed)
{
    public bool Passed => NonFinite == 0 && Wrong == 0;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{(Passed ? "ok  " : "FAIL")} {Name}: {Iterations} iterations, {NonFinite} with non-finite gradients, {Wrong} wrong against float64 " +
        $"(largest relative error {MaxRelativeError:0.0e+0}), {Elapsed.TotalSeconds:0.0} s");
}

/// <summary>
/// The minimal reproduction of the AVX-512 fault (docs/engine.md) as a self-test a user runs on their own CPU (`marrow doctor --selftest`)
/// and CI runs on its own (a unit test). Two 3×3 convolutions, nothing else: x (40 patches of 96 px, average-pooled
/// to 48 as the smoke profile feeds the network) → conv 3→C → ReLU → h → conv C→C → ReLU → mean of squares; backward.
/// <para>Where the fault lives: the gradient that reaches the first convolution comes from the second convolution's
/// backward pass with respect to its input h (oneDNN's backward-data kernel). On one kind of AVX-512 CPU
/// that pass returned NaN at random when C was below 16 (oneDNN pads such a convolution to one 16-channel block):
/// 170 of 800 iterations at C = 8, none at C = 16 or 32; only the first layer's parameters then turned NaN in
/// training. So each iteration checks (1) the gradient of h against the same backward pass in float64, which LibTorch
/// runs on its own reference kernels (oneDNN has no float64 path), so the reference never shares the suspect code;
/// each element of it sums only 9·C products, so a correct kernel agrees to about 1e-6 and anything else is a fault;
/// and (2) that the first convolution's weight and bias gradients, which training would apply, are finite.</para>
/// <para>The project never runs the narrow case as plain <c>nn.Conv2d</c> runs it: <see cref="BlockAlignedConv2d"/>
/// hands oneDNN whole channel blocks. The self-test runs both, the plain one to tell a user whether their CPU has the
/// fault, the project's to show that what trains is correct, at the widths of the 1/8-width network's first blocks.</para>
/// </summary>
public static class NumericalSelfTest
{
    /// <summary>Largest accepted |float32 − float64| / max |float64| of the backward-data result: a correct kernel
    /// stays near 1e-6 (docs/engine.md gives the measured errors); a corrupted one is off by orders of magnitude.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>The narrow width that showed the fault (block 1 of the 1/8-width network).</summary>
    public const int NarrowChannels = 8;

    /// <summary>The checks `marrow doctor --selftest` runs: the narrow convolution as plain nn.Conv2d runs it (detects
    /// the fault), the same as MarrowDiff runs it, the next width the 1/8-width network builds, and the first block of
    /// the real-plus network as it trains, channels-last (oneDNN's NHWC kernels: other code than the blocked ones that
    /// faulted, so checked on its own).</summary>
    public static IReadOnlyList<(string Name, int Channels, bool UsedByProject, ConvolutionEngine Engine)> Configurations { get; } =
    [
        ($"{NarrowChannels} channels as plain nn.Conv2d runs them (padded to a 16-channel block under AVX-512: the faulty case; MarrowDiff does not run it so)", NarrowChannels, false, ConvolutionEngine.Default),
        ($"{NarrowChannels} channels as MarrowDiff runs them (block-aligned; block 1 of the 1/8-width network)", NarrowChannels, true, ConvolutionEngine.Default),
        ($"{2 * NarrowChannels} channels as MarrowDiff runs them (block 2 of the 1/8-width network)", 2 * NarrowChannels, true, ConvolutionEngine.Default),
        ($"{2 * NarrowChannels} channels channels-last, as real-plus trains them (block 1 of the 1/4-width network)", 2 * NarrowChannels, true, ConvolutionEngine.ChannelsLast),
    ];

    /// <summary>Runs every configuration of <see cref="Configurations"/>.</summary>
    public static IReadOnlyList<ConvolutionCheck> RunAll(int iterations = 300, IProgress<WorkProgress>? progress = null) =>
        Configurations.Select(c => Check(c.Name, c.Channels, c.UsedByProject, iterations, progress: progress, engine: c.Engine)).ToList();

    /// <summary>Runs <paramref name="iterations"/> forward/backward passes of the two-convolution network with
    /// <paramref name="channels"/> channels, each on fresh random input, with MarrowDiff's block-aligned convolutions
    /// (<paramref name="usedByProject"/>) or plain nn.Conv2d. Draws from its own generator: the global
    /// torch generator (which training seeds) is left untouched. <paramref name="engine"/>: how the project's
    /// convolutions run (ignored for plain nn.Conv2d).</summary>
    public static ConvolutionCheck Check(string name, int channels, bool usedByProject, int iterations = 300, int batch = 40, int patch = 96, int seed = 11,
                                         IProgress<WorkProgress>? progress = null, ConvolutionEngine engine = ConvolutionEngine.Default) =>
        Check(name, channels, usedByProject, iterations, batch, patch, seed, progress, tamper: null, engine);

    /// <param name="tamper">For tests of the detector itself: edits the backward-data result (the gradient of h) of an
    /// iteration in place, as a faulty kernel would, before it is checked.</param>
    internal static ConvolutionCheck Check(string name, int channels, bool usedByProject, int iterations, int batch, int patch, int seed,
                                           IProgress<WorkProgress>? progress, Action<int, Tensor>? tamper,
                                           ConvolutionEngine engine = ConvolutionEngine.Default)
    {
        TorchRuntime.Initialise();
        var clock = Stopwatch.StartNew();
        using var generator = new Generator((ulong)seed);
        nn.Module<Tensor, Tensor> Convolution(int inChannels) => usedByProject
            ? new BlockAlignedConv2d(inChannels, channels) { Engine = engine }
            : nn.Conv2d(inChannels, channels, 3, padding: 1);
        using var conv1 = Convolution(3);
        using var conv2 = Convolution(channels);
        using var reference = nn.Conv2d(channels, channels, 3, padding: 1, dtype: ScalarType.Float64);
        Tensor W(nn.Module m) => m.named_parameters().Single(p => p.name == "weight").parameter;
        Tensor B(nn.Module m) => m.named_parameters().Single(p => p.name == "bias").parameter;
        using (no_grad())
        {
            // MSRA-scaled weights from the private generator; the float64 twin of the second convolution copies them.
            foreach (var (c, fanIn) in new[] { (conv1, 27), (conv2, 9 * channels) })
            {
                using Scalar std = Math.Sqrt(2.0 / fanIn).ToScalar(), tenth = 0.1.ToScalar();
                W(c).copy_(randn(W(c).shape, generator: generator).mul_(std));
                B(c).copy_(randn(B(c).shape, generator: generator).mul_(tenth));
            }
            reference.weight!.copy_(W(conv2)); reference.bias!.copy_(B(conv2));
        }
        foreach (var p in reference.parameters()) p.requires_grad = false; // the reference needs only the input's gradient

        int nonFinite = 0, wrong = 0;
        double maxRelative = 0;
        for (int i = 0; i < iterations; i++)
        {
            using var scope = NewDisposeScope();
            var patches = randn([batch, 3, patch, patch], generator: generator);
            var x = patch == 48 ? patches : nn.functional.avg_pool2d(patches, patch / 48);
            conv1.zero_grad(); conv2.zero_grad();
            var h = nn.functional.relu(conv1.forward(x));
            h.retain_grad();
            Loss(conv2, h).backward();

            var h64 = h.detach().to(ScalarType.Float64).requires_grad_(true);
            Loss(reference, h64).backward();

            Tensor got = h.grad!, want = h64.grad!;
            tamper?.Invoke(i, got);
            bool finite = got.isfinite().all().item<bool>() && W(conv1).grad!.isfinite().all().item<bool>() && B(conv1).grad!.isfinite().all().item<bool>();
            if (!finite) nonFinite++;
            else
            {
                double relative = got.to(ScalarType.Float64).sub(want).abs().max().item<double>() / Math.Max(want.abs().max().item<double>(), 1e-300);
                if (relative > Tolerance) wrong++;
                maxRelative = Math.Max(maxRelative, relative);
            }
            progress?.Report(new WorkProgress($"self-test, {channels} channels", i + 1, iterations, clock.Elapsed));
        }
        return new ConvolutionCheck(name, channels, usedByProject, iterations, nonFinite, wrong, maxRelative, clock.Elapsed);
    }

    private static Tensor Loss(nn.Module<Tensor, Tensor> conv, Tensor h) => nn.functional.relu(conv.forward(h)).square().mean();
}
