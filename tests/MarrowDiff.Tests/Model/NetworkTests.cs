using MarrowDiff.Model;
using MarrowDiff.Torch;
using static TorchSharp.torch;

namespace MarrowDiff.Tests.Model;

public class NetworkTests
{
    [Fact]
    public void FullNetwork_For96px_HasThePapersShapeAndParameterCount()
    {
        TorchRuntime.Initialise();
        using var net = new VggNet(new NetworkConfig());
        net.eval();
        using var x = randn(2, 3, 96, 96);
        using var y = net.forward(x);
        Assert.Equal([2L, 10], y.shape);

        // Counted by hand from the VGG-16 plan: 13 convolutions 3x3 with bias, 13 batch norms (scale and shift),
        // then 3x3x512 → 512 → 512 → 10.
        int[] plan = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512];
        long conv = 0, bn = 0;
        int inC = 3;
        foreach (int c in plan) { conv += 9L * inC * c + c; bn += 2L * c; inC = c; }
        long fc = (3 * 3 * 512 * 512 + 512) + (512 * 512 + 512) + (512 * 10 + 10);
        Assert.Equal(conv + bn + fc, net.ParameterCount);
        Assert.Equal(17_350_730L, net.ParameterCount);
    }

    [Theory]
    [InlineData(13, new[] { 64, 64, 128, 128, 256, 256, 512, 512, 512, 512 })]
    [InlineData(11, new[] { 64, 128, 256, 256, 512, 512, 512, 512 })]
    public void ShallowerVgg_DropsConvolutionsFromTheBlocks_AndKeepsTheRest(int depth, int[] plan)
    {
        // Simonyan and Zisserman's configurations B and A: the same five blocks and poolings, fewer convolutions.
        TorchRuntime.Initialise();
        var config = new NetworkConfig(Width: 0.125, Classes: 5) { GlobalPool = true, Depth = depth };
        using var net = new VggNet(config);
        net.eval();
        using (var x = randn(2, 3, 96, 96)) { using var y = net.forward(x); Assert.Equal([2L, 5], y.shape); }
        Assert.Equal(plan.Length, net.modules().OfType<BlockAlignedConv2d>().Count());
        long conv = 0, bn = 0;
        int inC = 3;
        foreach (int c in plan.Select(config.Channels)) { conv += 9L * inC * c + c; bn += 2L * c; inC = c; }
        long fc = (inC * 512 + 512) + (512 * 512 + 512) + (512 * 5 + 5);
        Assert.Equal(conv + bn + fc, net.ParameterCount);
        Assert.True(config.ForwardFlops() < (config with { Depth = 16 }).ForwardFlops());
        // Every depth is written, the paper's 16 too: the JSON is the whole network (ModelKey hashes it).
        Assert.Contains($"\"Depth\":{depth}", System.Text.Json.JsonSerializer.Serialize(config));
        Assert.Contains("\"Depth\":16", System.Text.Json.JsonSerializer.Serialize(new NetworkConfig()));
        Assert.Equal(16, MarrowDiff.Experiments.ExperimentProfile.RealLite.With("depth", "16").Network.Depth);
        Assert.Equal(MarrowDiff.Experiments.ExperimentProfile.RealLite.Network, MarrowDiff.Experiments.ExperimentProfile.RealLite.With("depth", "16").Network);
        Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkConfig() { Depth = 12 }.Validate());
    }

    [Theory]
    [InlineData(0.125, 48, 1)]
    [InlineData(0.25, 64, 2)]
    [InlineData(0.125, 128, 4)]
    public void Classifier_IsSizedFromTheInput(double width, int input, int side)
    {
        TorchRuntime.Initialise();
        var config = new NetworkConfig(Width: width, InputSize: input, Classes: 2);
        Assert.Equal(side, config.FeatureSide);
        using var net = new VggNet(config);
        net.eval();
        using var x = randn(3, 3, input, input);
        using var y = net.forward(x);
        Assert.Equal([3L, 2], y.shape);
        // A 96-px patch is average-pooled to a smaller input size, never cropped.
        if (96 % input == 0)
        {
            using var patch = randn(1, 3, 96, 96);
            using var out96 = net.forward(patch);
            Assert.Equal([1L, 2], out96.shape);
        }
    }

    [Fact]
    public void BadConfigs_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkConfig(InputSize: 16).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkConfig(Width: 0).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkConfig(Dropout: 1).Validate());
    }

    [Fact]
    public void Dropout_DrawsFromTheNetworksOwnGenerator_BitEqualToTorchsDropoutSeededAlike_AndUnmovedByOtherDraws()
    {
        TorchRuntime.Initialise();
        using var generator = new Generator(7);
        using var x = randn([4, 8, 12, 12], generator: generator);
        using var draws = new DropoutDraws();
        var layer = new SeededDropout(0.3, draws);
        layer.train();
        foreach (bool channelsLast in new[] { false, true })
        {
            using var input = channelsLast ? x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : x.contiguous(); // NHWC strides, as channels-last training has
            // Every model trained before drew its masks from libtorch's generator, seeded per epoch: the same masks now.
            manual_seed(1234);
            using var reference = nn.functional.dropout(input, 0.3, training: true);
            draws.Reseed(1234, CPU);
            using var ours = layer.forward(input);
            Assert.True(BitEqual(ours, reference), $"channels-last {channelsLast}: the masks differ from torch's dropout");
        }
        layer.eval();
        using (var passed = layer.forward(x)) Assert.True(BitEqual(passed, x));

        // A whole network in training mode: draws from libtorch's generator in between (another model training beside
        // it) do not move its masks.
        using var net = new VggNet(new NetworkConfig(Width: 0.125, InputSize: 32, Classes: 3), 5);
        net.train();
        using var batch = randn([2, 3, 32, 32], generator: generator);
        net.SeedDropout(99, CPU);
        using var first = net.forward(batch);
        net.SeedDropout(99, CPU);
        manual_seed(5);
        using (var other = rand(1000)) { }
        using var second = net.forward(batch);
        Assert.True(BitEqual(first, second));
        net.SeedDropout(100, CPU);
        using var third = net.forward(batch);
        Assert.False(BitEqual(first, third)); // and the seed does choose the masks
    }

    // Equal to the bit (as raw bytes, so a −0 is not a 0), in any layout.
    private static bool BitEqual(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.contiguous().bytes.SequenceEqual(b.contiguous().bytes);
}
