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
        using var net = new VggNet(new VggConfig());
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
        var config = new VggConfig(Width: 0.125, Classes: 5) { GlobalPool = true, Depth = depth };
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
        Assert.Contains("\"Depth\":16", System.Text.Json.JsonSerializer.Serialize(new VggConfig()));
        Assert.Equal(16, ((VggConfig)MarrowDiff.Experiments.ExperimentProfile.RealLite.With("depth", "16").Network).Depth);
        Assert.Equal(MarrowDiff.Experiments.ExperimentProfile.RealLite.Network, MarrowDiff.Experiments.ExperimentProfile.RealLite.With("depth", "16").Network);
        Assert.Throws<ArgumentOutOfRangeException>(() => new VggConfig() { Depth = 12 }.Validate());
    }

    [Fact]
    public void ANetwork_SaysItsKind_AndHoldsOnlyItsOwnSettings()
    {
        // The JSON every model key hashes and every model.json holds names the kind first and reads back as it was.
        NetworkConfig vgg = new VggConfig(Width: 0.25, Classes: 5) { GlobalPool = true, Depth = 13 };
        NetworkConfig resnet = new ResNetConfig(InputSize: 160, Classes: 5, ClassifierDropout: 0.2);
        foreach (var config in new[] { vgg, resnet })
        {
            string json = System.Text.Json.JsonSerializer.Serialize(config);
            Assert.StartsWith($"{{\"Kind\":\"{config.Kind}\"", json);
            Assert.Equal(config, System.Text.Json.JsonSerializer.Deserialize<NetworkConfig>(json));
        }
        // A ResNet has no VGG setting to ignore: none is written, and none can be set on a profile of it.
        string resnetJson = System.Text.Json.JsonSerializer.Serialize(resnet);
        foreach (string vggOnly in new[] { "Width", "Depth", "GlobalPool", "FirstDropout", "\"Dropout\"", "ClassifierWidth" })
            Assert.DoesNotContain(vggOnly, resnetJson);
        var transfer = MarrowDiff.Experiments.ExperimentProfile.RealTransfer;
        foreach (var (key, value) in new[] { ("width", "0.5"), ("depth", "11"), ("global_pool", "on"), ("conv_dropout", "0.1") })
        {
            var e = Assert.Throws<ArgumentException>(() => transfer.With(key, value));
            Assert.Contains("resnet18-imagenet", e.Message);
            Assert.Contains("backbone=vgg", e.Message);
        }
        // Settings both kinds have carry over when the kind changes; the other kind's own start at their defaults.
        var asVgg = Assert.IsType<VggConfig>(transfer.With("backbone", "vgg").Network);
        Assert.Equal((transfer.Network.InputSize, transfer.Network.Classes, transfer.Network.ClassifierDropout), (asVgg.InputSize, asVgg.Classes, asVgg.ClassifierDropout));
        Assert.Equal(new VggConfig().Width, asVgg.Width);
        Assert.Equal(0.3, Assert.IsType<ResNetConfig>(transfer.With("dropout", "0.3").Network).ClassifierDropout);
        Assert.Throws<ArgumentOutOfRangeException>(() => transfer.With("backbone", "resnet50"));
    }

    [Theory]
    [InlineData(0.125, 48, 1)]
    [InlineData(0.25, 64, 2)]
    [InlineData(0.125, 128, 4)]
    public void Classifier_IsSizedFromTheInput(double width, int input, int side)
    {
        TorchRuntime.Initialise();
        var config = new VggConfig(Width: width, InputSize: input, Classes: 2);
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
        Assert.Throws<ArgumentOutOfRangeException>(() => new VggConfig(InputSize: 16).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new VggConfig(Width: 0).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new VggConfig(Dropout: 1).Validate());
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
        using var net = new VggNet(new VggConfig(Width: 0.125, InputSize: 32, Classes: 3), 5);
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
