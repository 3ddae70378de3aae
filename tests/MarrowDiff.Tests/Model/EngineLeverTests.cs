using MarrowDiff.Model;
using MarrowDiff.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace MarrowDiff.Tests.Model;

/// <summary>The engine levers of issue 13 compute the same function as the default path: BatchNorm folded for
/// inference, channels-last strides and bf16 convolutions (to bf16's precision), forward and backward.</summary>
public class EngineLeverTests
{
    private static VggNet TrainedALittle(VggConfig config)
    {
        TorchRuntime.Initialise();
        var net = new VggNet(config, 7);
        // Non-trivial BatchNorm statistics: a few training-mode passes move the running mean and variance.
        net.train();
        using (no_grad())
            for (int i = 0; i < 3; i++)
            {
                using var x = randn(new long[] { 8, 3, 96, 96 }, generator: new Generator((ulong)i)).mul(0.5).add(0.2);
                using var _ = net.forward(x);
            }
        net.eval();
        return net;
    }

    [Theory]
    [InlineData(0.125)] // channels not whole oneDNN blocks: the block-aligned path
    [InlineData(0.25)]
    public void FoldedBatchNorm_GivesTheSameOutputs_AndUnfoldsBack(double width)
    {
        using var net = TrainedALittle(new VggConfig(Width: width, FirstDropout: 0, Dropout: 0, ClassifierDropout: 0));
        using var _ = no_grad();
        using var x = randn(new long[] { 4, 3, 96, 96 }, generator: new Generator(11));
        using var plain = net.forward(x);
        var before = net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        net.FoldBatchNorm();
        using var folded = net.forward(x);
        Assert.True(folded.allclose(plain, rtol: 1e-3, atol: 1e-4), $"largest difference {(folded - plain).abs().max().item<float>()}");
        // The parameters are untouched: a model saved after folding is the trained one.
        foreach (var (k, v) in net.state_dict()) Assert.True(v.allclose(before[k], rtol: 0, atol: 0), k);
        Assert.Throws<InvalidOperationException>(() => { net.train(); using var __ = net.forward(x); });
        net.UnfoldBatchNorm();
        net.eval();
        using var again = net.forward(x);
        Assert.True(again.allclose(plain, rtol: 0, atol: 0));
    }

    [Theory]
    [InlineData(0.125, false)]
    [InlineData(0.25, true)]
    public void Inference_RunsChannelsLastWithBatchNormFolded_ToTheSameSoftmax_AndLeavesTheModelAsItWas(double width, bool testTimeD4)
    {
        using var net = TrainedALittle(new VggConfig(Width: width, Classes: 5));
        var inputs = new float[6 * 3 * 96 * 96];
        var rng = new Random(5);
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)(rng.NextDouble() * 2 - 1);
        float[,] asTrained = Inference.ProbabilitiesOf(net, inputs, 6, batchSize: 4, testTimeD4: testTimeD4, channelsLast: false, foldBatchNorm: false);
        float[,] fast = Inference.ProbabilitiesOf(net, inputs, 6, batchSize: 4, testTimeD4: testTimeD4);
        Assert.Equal(ConvolutionEngine.Default, net.Engine);
        Assert.False(net.BatchNormFolded); // folded for the call only: the network trains on afterwards
        net.train();
        using (no_grad()) { using var x = torch.zeros(2, 3, 96, 96); using var __ = net.forward(x); }
        net.eval();
        double largest = 0;
        for (int i = 0; i < 6; i++)
            for (int c = 0; c < 5; c++) largest = Math.Max(largest, Math.Abs(fast[i, c] - asTrained[i, c]));
        Assert.InRange(largest, 0, 1e-4);
        // A model trained with bf16 convolutions keeps its engine after inference.
        net.Engine = ConvolutionEngine.BFloat16;
        _ = Inference.ProbabilitiesOf(net, inputs, 2);
        Assert.Equal(ConvolutionEngine.BFloat16, net.Engine);
    }

    [Fact]
    public void Streams_GiveTheSameSoftmaxOnEveryRun_AsOneThreadAlone_AndGiveTheThreadsBack()
    {
        using var net = TrainedALittle(new VggConfig(Width: 0.125, Classes: 5));
        const int count = 9; // batches of 2: five of them, the last one short
        var inputs = new float[count * 3 * 96 * 96];
        var rng = new Random(6);
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)(rng.NextDouble() * 2 - 1);
        int threads = get_num_threads();
        // Cells in flight are shared among the streams: 4 cells in flight on 2 streams, 6 on 3, are batches of 2 each.
        float[,] two = Inference.ProbabilitiesOf(net, inputs, count, batchSize: 4, streams: 2);
        Assert.Equal(threads, get_num_threads());
        float[,] three = Inference.ProbabilitiesOf(net, inputs, count, batchSize: 6, streams: 3);
        float[,] twoAgain = Inference.ProbabilitiesOf(net, inputs, count, batchSize: 4, streams: 2);
        float[,] shared = Inference.ProbabilitiesOf(net, inputs, count, batchSize: 2, streams: 1);
        float[,] alone;
        set_num_threads(1);
        try { alone = Inference.ProbabilitiesOf(net, inputs, count, batchSize: 2, streams: 1); }
        finally { set_num_threads(threads); }
        // Whichever stream takes a batch computes it with the same single-threaded kernels: equal to the last bit.
        Assert.Equal(alone, two);
        Assert.Equal(alone, three);
        Assert.Equal(two, twoAgain);
        for (int i = 0; i < count; i++)
            for (int c = 0; c < 5; c++) Assert.InRange(Math.Abs(two[i, c] - shared[i, c]), 0, 1e-5);
        Assert.Equal([100, 50, 3, 1, 34], new[] { (100, 1), (100, 2), (5, 2), (1, 3), (100, 3) }.Select(p => Inference.StreamBatch(p.Item1, p.Item2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Inference.StreamBatch(0, 2));
        Assert.Equal(1, Inference.StreamsFor(CPU, 1));
        Assert.Equal(threads, Inference.StreamsFor(CPU));
    }

    [Fact]
    public void AWideNetwork_RunsOnOneStream_ANarrowOneOnAStreamAThread()
    {
        TorchRuntime.Initialise();
        // The largest activation of one image, in floats: VGG's first block at the input side, ResNet's stem at half.
        Assert.Equal(8L * 96 * 96, new VggConfig(Width: 0.125).WidestActivation());
        Assert.Equal(16L * 96 * 96, new VggConfig(Width: 0.25).WidestActivation());
        Assert.Equal(64L * 64 * 64, new ResNetConfig(InputSize: 128).WidestActivation());
        Assert.Equal(64L * 80 * 80, new ResNetConfig(InputSize: 160).WidestActivation());

        int threads = get_num_threads();
        using var narrow = new VggNet(new VggConfig(Width: 0.125, Classes: 5), 7);
        using var resnet = CellNetwork.Create(new ResNetConfig(InputSize: 128, Classes: 5), 7, pretrained: false);
        // real-fast's network keeps a stream a thread on batches of 100 (50 a stream: 14.7 MiB); the ResNet's 50 stems
        // at 128 px (52 MiB) would outgrow a stream's heap, so every thread works on one batch.
        Assert.Equal(threads, Inference.StreamsFor(narrow, 100));
        Assert.Equal(1, Inference.StreamsFor(resnet, 100));
        // Small enough batches fit again (8 a stream: 8 MiB); an explicit count is taken as asked.
        Assert.Equal(threads, Inference.StreamsFor(resnet, 16));
        Assert.Equal(2, Inference.StreamsFor(resnet, 100, requested: 2));
        Assert.Equal(1, Inference.StreamsFor(narrow, 100, requested: 1));
    }

    [Fact]
    public void AStreamThatFails_StopsTheCall_WithItsOwnError()
    {
        // A 64-px network cannot take 96-px cells: every batch fails in the forward pass, on whichever stream.
        TorchRuntime.Initialise();
        using var net = new VggNet(new VggConfig(Width: 0.125, Classes: 5, InputSize: 64), 7);
        var inputs = new float[8 * 3 * 96 * 96];
        int threads = get_num_threads();
        var error = Assert.Throws<ArgumentException>(() => Inference.ProbabilitiesOf(net, inputs, 8, batchSize: 1, streams: 2));
        Assert.Contains("cannot be pooled to the network's 64 px", error.Message);
        Assert.Equal(threads, get_num_threads());
        Assert.Throws<ArgumentOutOfRangeException>(() => Inference.StreamsFor(CPU, -1));
    }

    [Fact]
    public void Bf16OnACpuWithoutItsKernels_IsAdvisedAgainst_BeforeTheWorkStarts()
    {
        var zen3 = new CpuInfo("AMD EPYC", 25, 1, Avx512: false, Avx512Bf16: false, Threads: 2);
        var zen5 = new CpuInfo("AMD EPYC", 26, 2, Avx512: true, Avx512Bf16: true, Threads: 2);
        var avx512Only = zen5 with { Avx512Bf16 = false };
        foreach (var engine in new[] { ConvolutionEngine.BFloat16, ConvolutionEngine.BFloat16 | ConvolutionEngine.ChannelsLast })
        {
            string? advice = EngineAdvice.For(engine, zen3);
            Assert.NotNull(advice);
            Assert.Contains("without AVX512_BF16", advice);
            Assert.Contains("family 25", advice); // names the CPU it judged
            Assert.Contains("engine=fp32", advice); // and what to use instead
            Assert.NotNull(EngineAdvice.For(engine, avx512Only)); // AVX-512 alone has no bf16 kernels either
            Assert.Null(EngineAdvice.For(engine, zen5));
        }
        foreach (var engine in new[] { ConvolutionEngine.Default, ConvolutionEngine.ChannelsLast })
        {
            Assert.Null(EngineAdvice.For(engine, zen3));
            Assert.Null(EngineAdvice.For(engine, zen5));
        }
    }

    [Theory]
    [InlineData(ConvolutionEngine.ChannelsLast, 1e-4)]
    [InlineData(ConvolutionEngine.BFloat16, 5e-2)]
    [InlineData(ConvolutionEngine.BFloat16 | ConvolutionEngine.ChannelsLast, 5e-2)]
    public void EveryEngine_ComputesTheSameConvolution_AndItsGradient(ConvolutionEngine engine, double tolerance)
    {
        TorchRuntime.Initialise();
        foreach (long channels in new long[] { 8, 16 })
        {
            using var conv = new BlockAlignedConv2d(channels, 32);
            using (no_grad())
            {
                using var w = randn(conv.Weight.shape, generator: new Generator(3)).mul(0.1);
                conv.Weight.copy_(w);
            }
            using var x = randn(new long[] { 4, channels, 24, 24 }, generator: new Generator(4));
            var (y0, g0) = Run(conv, x, ConvolutionEngine.Default);
            var (y1, g1) = Run(conv, x, engine);
            double scale = y0.abs().max().item<float>(), gScale = g0.abs().max().item<float>();
            Assert.True((y1 - y0).abs().max().item<float>() <= tolerance * scale, $"{engine}, {channels} channels: output");
            Assert.True((g1 - g0).abs().max().item<float>() <= tolerance * gScale, $"{engine}, {channels} channels: weight gradient");
            Assert.Equal(ScalarType.Float32, y1.dtype);
            Assert.Equal(ScalarType.Float32, conv.Weight.dtype); // fp32 master weights
        }
    }

    /// <summary>
    /// Issue 11's fault was in the backward pass through 8-channel convolutions padded to AVX-512's 16-channel blocks.
    /// Inference in channels-last reads them unpadded (<see cref="BlockAlignedConv2d"/>), so their forward pass must be
    /// right on every pass: block 1 of the 1/8-width network (3 → 8 → 8 channels, ReLU between), on both threads,
    /// against the same convolutions in float64 (LibTorch's own loops, not oneDNN), 200 batches of 40 at 48 px.
    /// </summary>
    [Fact]
    public void NarrowConvolutions_InChannelsLastInference_MatchFloat64_OnEveryPass()
    {
        TorchRuntime.Initialise();
        using var conv1 = new BlockAlignedConv2d(3, 8) { Engine = ConvolutionEngine.ChannelsLast };
        using var conv2 = new BlockAlignedConv2d(8, 8) { Engine = ConvolutionEngine.ChannelsLast };
        using var _ = no_grad();
        foreach (var (conv, seed) in new[] { (conv1, 21UL), (conv2, 22UL) })
        {
            using var w = randn(conv.Weight.shape, generator: new Generator(seed)).mul(0.3);
            using var b = randn(conv.Bias.shape, generator: new Generator(seed + 10)).mul(0.1);
            conv.Weight.copy_(w); conv.Bias.copy_(b);
        }
        using var w1 = conv1.Weight.to(ScalarType.Float64); using var b1 = conv1.Bias.to(ScalarType.Float64);
        using var w2 = conv2.Weight.to(ScalarType.Float64); using var b2 = conv2.Bias.to(ScalarType.Float64);
        int wrong = 0;
        double worst = 0;
        for (int i = 0; i < 200; i++)
        {
            using var scope = NewDisposeScope();
            var x = randn(new long[] { 40, 3, 48, 48 }, generator: new Generator((ulong)(1000 + i)));
            var y = nn.functional.relu(conv2.forward(nn.functional.relu(conv1.forward(x))));
            var x64 = x.to(ScalarType.Float64);
            var reference = nn.functional.relu(nn.functional.conv2d(nn.functional.relu(nn.functional.conv2d(x64, w1, b1, padding: [1, 1])), w2, b2, padding: [1, 1]));
            double error = RelativeError(y, reference);
            if (!y.isfinite().all().item<bool>() || error > 1e-5) wrong++;
            worst = Math.Max(worst, error);
        }
        Assert.True(wrong == 0, $"{wrong} of 200 passes wrong (largest relative error {worst:G3}) on {CpuInfo.Current()}");
    }

    /// <summary>The same for any channel count an inference pass may meet unpadded (a width of the user's choosing): on
    /// the Zen 5 where plain nn.Conv2d of 19 → 37 channels is off in its blocked layout (README, issue 11), the channels-last forward
    /// of the same layer is within 1e-5 of float64.</summary>
    [Theory]
    [InlineData(3, 8)]
    [InlineData(8, 16)]
    [InlineData(19, 37)]
    [InlineData(40, 24)]
    public void AnyChannelCount_InChannelsLastInference_MatchesFloat64(int inChannels, int outChannels)
    {
        TorchRuntime.Initialise();
        using var scope = NewDisposeScope();
        using var conv = new BlockAlignedConv2d(inChannels, outChannels) { Engine = ConvolutionEngine.ChannelsLast };
        using var gen = new Generator(7);
        using (no_grad())
        {
            conv.Weight.copy_(randn(conv.Weight.shape, generator: gen));
            conv.Bias.copy_(randn(conv.Bias.shape, generator: gen));
        }
        var x = randn(new long[] { 6, inChannels, 20, 20 }, generator: gen);
        var reference = nn.functional.conv2d(x.to(ScalarType.Float64), conv.Weight.detach().to(ScalarType.Float64), conv.Bias.detach().to(ScalarType.Float64), padding: [1, 1]);
        using var _ = no_grad();
        var y = conv.forward(x);
        double error = RelativeError(y, reference);
        Assert.True(error <= 1e-5, $"{inChannels} → {outChannels}: {error:G3} of the largest output on {CpuInfo.Current()}");
    }

    /// <summary>The largest difference from the float64 reference, as a share of the reference's largest value (also
    /// ResNet18Tests').</summary>
    internal static double RelativeError(Tensor got, Tensor reference) =>
        (got.to(ScalarType.Float64) - reference).abs().max().item<double>() / reference.abs().max().item<double>();

    private static (Tensor Output, Tensor WeightGradient) Run(BlockAlignedConv2d conv, Tensor x, ConvolutionEngine engine)
    {
        conv.Engine = engine;
        conv.zero_grad();
        var y = conv.forward(x);
        using (var loss = y.square().sum()) loss.backward();
        var g = conv.Weight.grad!.clone();
        conv.Engine = ConvolutionEngine.Default;
        return (y.detach(), g);
    }
}
