using TorchSharp.Modules;
// Our BatchNorm2d (foldable into the convolution before it), not TorchSharp's.
using BatchNorm2d = MarrowDiff.Torch.BatchNorm2d;
using TorchSharp;
using static TorchSharp.torch.nn;
using static TorchSharp.torch;
using MarrowDiff.Torch;

namespace MarrowDiff.Model;

/// <summary>
/// The shape of the paper's network. Defaults are the paper's: VGG-16 with batch normalisation for 96×96×3 input,
/// dropout 0.3–0.5 between convolutions, three fully connected layers of 512, 512 and the classes.
/// </summary>
/// <param name="Width">Multiplies every layer's channel count (1 = the paper's; 0.25 = a quarter-width net for a CPU).</param>
/// <param name="InputSize">Side of the square input patch; the classifier is sized from it (96 → 3×3 after five poolings).</param>
/// <param name="Classes">Outputs: 10 for the maturation stages, 2 for a dual stage's local model.</param>
/// <param name="ClassifierWidth">Units of the first two fully connected layers (512).</param>
/// <param name="FirstDropout">Dropout after the first convolution of a block (0.3, as in Torch7's VGG-BN for small images).</param>
/// <param name="Dropout">Dropout between the other convolutions of a block (0.4).</param>
/// <param name="ClassifierDropout">Dropout before each fully connected layer (0.5).</param>
public sealed record VggConfig(double Width = 1.0, int InputSize = 96, int Classes = 10, int ClassifierWidth = 512,
                               double FirstDropout = 0.3, double Dropout = 0.4, double ClassifierDropout = 0.5)
    : NetworkConfig(InputSize, Classes, ClassifierDropout)
{
    /// <summary>What the JSON and <c>--set backbone=</c> call the VGG.</summary>
    public const string KindName = "vgg";

    [System.Text.Json.Serialization.JsonIgnore]
    public override string Kind => KindName;

    /// <summary>VGG-16's five blocks: the output channels of each block's 3×3 convolutions. Every block ends in a 2×2
    /// max-pooling, so the plan needs no marker for it.</summary>
    public static readonly IReadOnlyList<IReadOnlyList<int>> Vgg16 = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]];

    /// <summary>Simonyan and Zisserman's shallower configurations with the same five blocks and channels: VGG-13 (their
    /// "B": two convolutions a block) and VGG-11 ("A": one in each of the first two blocks, two in the others).</summary>
    public static readonly IReadOnlyList<IReadOnlyList<int>> Vgg13 = [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
                                                             Vgg11 = [[64], [128], [256, 256], [512, 512], [512, 512]];

    /// <summary>Weight layers of the VGG configuration: 16, the paper's (13 convolutions + 3 fully connected);
    /// 13 or 11 drop convolutions from the blocks (<see cref="Vgg13"/>, <see cref="Vgg11"/>) and keep the rest.</summary>
    public int Depth { get; init; } = 16;

    /// <summary>The blocks this network follows (<see cref="Depth"/>). Not written to JSON: it follows from
    /// <see cref="Depth"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<IReadOnlyList<int>> Blocks => Depth switch
    {
        16 => Vgg16,
        13 => Vgg13,
        11 => Vgg11,
        _ => throw new ArgumentOutOfRangeException(nameof(Depth), $"depth {Depth}: VGG comes in 11, 13 or 16 weight layers"),
    };

    public int Channels(int paperChannels) => Math.Max(4, (int)Math.Round(paperChannels * Width));

    public override double ForwardFlops()
    {
        double flops = 0;
        int inChannels = 3, side = InputSize;
        foreach (var block in Blocks)
        {
            foreach (int paperChannels in block)
            {
                int outChannels = Channels(paperChannels);
                flops += 2.0 * inChannels * outChannels * 9 * side * side;
                inChannels = outChannels;
            }
            side /= 2;
        }
        int flat = GlobalPool ? inChannels : inChannels * FeatureSide * FeatureSide;
        flops += 2.0 * (flat * ClassifierWidth + ClassifierWidth * ClassifierWidth + ClassifierWidth * Classes);
        return flops;
    }

    /// <summary>The first block's output, at the input side.</summary>
    public override long WidestActivation()
    {
        long widest = 0;
        int side = InputSize;
        foreach (var block in Blocks)
        {
            foreach (int paperChannels in block) widest = Math.Max(widest, (long)Channels(paperChannels) * side * side);
            side /= 2;
        }
        return widest;
    }

    /// <summary>Side of the feature map the classifier sees: the input halved by each of the five poolings.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int FeatureSide => InputSize >> 5;

    /// <summary>Average each feature map over the whole image before the classifier (global average pooling) instead
    /// of flattening the 3×3 grid: the classifier then sees what is in the cell, not where, with 9× fewer weights in
    /// its first layer: fewer ways to memorise a few hundred cells. Off (the paper's flatten) unless a profile says.</summary>
    public bool GlobalPool { get; init; }

    public override void Validate()
    {
        if (Width is <= 0 or > 4) throw new ArgumentOutOfRangeException(nameof(Width), $"{Width}: use a width multiplier in (0, 4]");
        if (InputSize < 32 || FeatureSide < 1) throw new ArgumentOutOfRangeException(nameof(InputSize), $"{InputSize}: five 2×2 poolings need an input of at least 32 px");
        ValidateShared();
        _ = Blocks; // an unknown depth is named here, before any layer is built
        foreach (double p in new[] { FirstDropout, Dropout })
            if (p is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(Dropout), $"dropout {p}: use [0, 1)");
    }
}

/// <summary>
/// VGG-16-BN as the paper describes it (its Fig 3A; or VGG-13/11, <see cref="VggConfig.Depth"/>): 13 convolutions 3×3 (padding 1), each followed by batch
/// normalisation and ReLU, with dropout between the convolutions of a block and 2×2 max-pooling (stride 2) after
/// each block; then three fully connected layers with dropout; softmax cross-entropy is applied by the loss.
/// Weights start from MSRA initialisation (He et al.: zero-mean Gaussian, std √(2 / fan-in)).
/// </summary>
public sealed class VggNet : CellNetwork
{
    private readonly Sequential features;
    private readonly Sequential classifier;

    /// <param name="initialisationSeed">Seeds the MSRA initialisation. It is drawn from a generator of its own, never
    /// from libtorch's global one, so the same seed gives the same starting weights whatever else draws random numbers
    /// in the process (another training, a test running beside it).</param>
    public VggNet(VggConfig config, ulong initialisationSeed = 0) : base("VggNet")
    {
        config.Validate();
        Config = config;
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        int inChannels = 3, conv = 0;
        for (int block = 0; block < config.Blocks.Count; block++)
        {
            var convolutions = config.Blocks[block];
            for (int i = 0; i < convolutions.Count; i++)
            {
                int outChannels = config.Channels(convolutions[i]);
                conv++;
                // Block-aligned for oneDNN: the same convolution, routed around the padded AVX-512 kernels (docs/engine.md).
                layers.Add(($"conv{conv}", new BlockAlignedConv2d(inChannels, outChannels)));
                layers.Add(($"bn{conv}", new BatchNorm2d(outChannels)));
                layers.Add(($"relu{conv}", ReLU(inplace: true)));
                // Dropout between convolutions: after every convolution that another convolution follows, none
                // right before a pooling (the pooling and the next block's first dropout regularise there).
                if (i + 1 < convolutions.Count)
                    layers.Add(($"drop{conv}", new SeededDropout(i == 0 ? config.FirstDropout : config.Dropout, DropoutDraws)));
                inChannels = outChannels;
            }
            layers.Add(($"pool{block + 1}", MaxPool2d(2, 2)));
        }
        features = Sequential(layers);

        int flat = config.GlobalPool ? inChannels : inChannels * config.FeatureSide * config.FeatureSide;
        classifier = Sequential(
            ("drop_fc1", new SeededDropout(config.ClassifierDropout, DropoutDraws)),
            ("fc1", Linear(flat, config.ClassifierWidth)),
            ("relu_fc1", ReLU(inplace: true)),
            ("drop_fc2", new SeededDropout(config.ClassifierDropout, DropoutDraws)),
            ("fc2", Linear(config.ClassifierWidth, config.ClassifierWidth)),
            ("relu_fc2", ReLU(inplace: true)),
            ("fc3", Linear(config.ClassifierWidth, config.Classes)));
        RegisterComponents();
        InitialiseMsra(initialisationSeed);
    }

    public override VggConfig Config { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return classifier.forward(Flattened(input)).MoveToOuterDisposeScope();
    }

    public override Tensor Embedding(Tensor input)
    {
        using var scope = NewDisposeScope();
        // The classifier's layers but its last (fc3), one by one: the same modules, so the same numbers as forward's.
        Tensor x = Flattened(input);
        foreach (var layer in classifier.children().SkipLast(1)) x = ((nn.Module<Tensor, Tensor>)layer).forward(x);
        return x.MoveToOuterDisposeScope();
    }

    public override int EmbeddingSize => Config.ClassifierWidth;

    // The convolutional features as the classifier reads them: pooled to the network's input size, flattened.
    private Tensor Flattened(Tensor input)
    {
        Tensor x = input;
        long side = input.shape[^1];
        if (side != Config.InputSize)
        {
            // A smaller input size (the smoke profile's 48) means 96-px patches averaged down by an integer factor:
            // the same field of view at lower resolution, never a crop.
            if (side % Config.InputSize != 0)
                throw new ArgumentException($"input of {side} px cannot be pooled to the network's {Config.InputSize} px");
            x = nn.functional.avg_pool2d(x, (int)(side / Config.InputSize));
        }
        x = features.forward(x);
        if (Config.GlobalPool) x = x.mean([2, 3]);
        return x.flatten(1);
    }

    /// <summary>MSRA (Kaiming) initialisation, fan-in, for the ReLU network: weights ~ N(0, 2 / fan-in), zero biases;
    /// BN scale 1, shift 0. Drawn in module order from one generator seeded by <paramref name="seed"/>.</summary>
    private void InitialiseMsra(ulong seed)
    {
        using var _ = no_grad();
        using var generator = new Generator(seed);
        void Msra(Tensor weight, long fanIn)
        {
            using Scalar std = Math.Sqrt(2.0 / fanIn).ToScalar(); // held past the call: no temporary Scalar reaches native code
            using var draw = randn(weight.shape, generator: generator);
            weight.copy_(draw.mul_(std));
        }
        foreach (var (_, module) in named_modules())
        {
            switch (module)
            {
                case BlockAlignedConv2d c:
                    Msra(c.Weight, c.InChannels * 3 * 3);
                    init.zeros_(c.Bias);
                    break;
                case Linear l:
                    Msra(l.weight!, l.in_features);
                    if (l.bias is { } lb) init.zeros_(lb);
                    break;
                case BatchNorm2d b:
                    init.ones_(b.Weight); init.zeros_(b.Bias);
                    break;
            }
        }
    }

    /// <summary>How every convolution runs (<see cref="ConvolutionEngine"/>).</summary>
    public override ConvolutionEngine Engine
    {
        get => features.children().OfType<BlockAlignedConv2d>().First().Engine;
        set { foreach (var c in features.children().OfType<BlockAlignedConv2d>()) c.Engine = value; }
    }

    /// <summary>Folds every BatchNorm into the convolution before it, for inference (<see cref="BlockAlignedConv2d.FoldBatchNorm"/>).
    /// The parameters are untouched; <see cref="UnfoldBatchNorm"/> undoes it.</summary>
    public override void FoldBatchNorm()
    {
        var layers = features.children().ToList();
        for (int i = 0; i + 1 < layers.Count; i++)
            if (layers[i] is BlockAlignedConv2d conv && layers[i + 1] is BatchNorm2d bn)
            {
                conv.FoldBatchNorm(bn);
                bn.FoldedAway = true;
            }
    }

    /// <summary>Whether <see cref="FoldBatchNorm"/> is in force.</summary>
    public override bool BatchNormFolded => features.children().OfType<BlockAlignedConv2d>().Any(c => c.Folded);

    public override void UnfoldBatchNorm()
    {
        foreach (var m in features.children())
            switch (m)
            {
                case BlockAlignedConv2d c: c.Unfold(); break;
                case BatchNorm2d b: b.FoldedAway = false; break;
            }
    }
}
