using MarrowDiff.Imaging;
using MarrowDiff.Torch;
using TorchSharp;
using TorchSharp.Modules;
// Our BatchNorm2d (foldable into the convolution before it), not TorchSharp's.
using BatchNorm2d = MarrowDiff.Torch.BatchNorm2d;
using static TorchSharp.torch;

namespace MarrowDiff.Model;

/// <summary>
/// ResNet-18 (He et al. 2016) with ImageNet weights, fine-tuned on cells: the transfer profile's network
/// (<see cref="ResNetConfig"/>). A few hundred cells a class are too few to learn what a nucleus,
/// chromatin and granules look like from nothing; features learned on 1.2 million photographs are a better start, which
/// is how the single-cell literature reaches its numbers.
/// <para>The weights are CNTK's ImageNet ResNet-18 as ML.NET ships it (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18,
/// MIT; copied next to this library at build time) and are read from its ONNX file by <see cref="OnnxGraph"/>. CNTK pads
/// a stride-2 layer asymmetrically (one row and column before, none after; the 7×7 stem three before, two after):
/// kept, so every layer sees what it saw on ImageNet. Its input is BGR in 0–255 minus the mean ImageNet pixel; a fixed
/// 1×1 convolution (<see cref="AdaptInput"/>) turns the pipeline's normalised YUV planes back into exactly that, so
/// the data path (loader, stain jitter, test-time D4) is the one every network shares.</para>
/// <para>CNTK's ResNet-18 has three basic blocks in its last stage where He et al.'s and torchvision's have two
/// (blocks 2, 2, 2, 3: 22 weight layers with the shortcuts, 15.9 million parameters); it is built as the file has it.
/// Parameter names follow torchvision's (conv1, bn1, layer1.0.conv1, …, layer4.2.bn2, fc).
/// Every channel count is a whole oneDNN block (64 to 512) and the image's 3 channels are read plainly, so the padded
/// AVX-512 kernels of the fault (docs/engine.md) are never used (<see cref="BlockAlignedConv2d"/>).</para>
/// </summary>
public sealed class ResNet18 : CellNetwork
{
    /// <summary>Where the build puts the pretrained network: the NuGet package's DnnImageModels folder, next to the dll.</summary>
    public static string WeightsFile => Path.Combine(ModelsFolder, "ResNet18Onnx", "ResNet18.onnx");

    /// <summary>CNTK's preprocessing network: its 224×224 mean image gives the mean pixel subtracted from the input.</summary>
    public static string PreprocessFile => Path.Combine(ModelsFolder, "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    private static string ModelsFolder => Path.Combine(Path.GetDirectoryName(typeof(ResNet18).Assembly.Location)!, "DnnImageModels");

    // The 64 MB file is parsed once a process: every fold model starts from the same weights.
    private static readonly Lazy<(OnnxGraph Graph, float[] BgrMean)> ImageNet = new(ReadImageNet, LazyThreadSafetyMode.ExecutionAndPublication);

    // Field names are the state dict's (torchvision's, and the input adapter's).
#pragma warning disable IDE1006
    private readonly CntkConv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential layer1, layer2, layer3, layer4;
    private readonly SeededDropout drop_fc;
    private readonly Linear fc;
    private readonly Tensor input_weight;
    private readonly Tensor input_bias;
#pragma warning restore IDE1006

    /// <param name="pretrained">Copy the ImageNet weights in (false: a saved model's weights will replace them).</param>
    public ResNet18(ResNetConfig config, ulong initialisationSeed = 0, bool pretrained = true) : base(nameof(ResNet18))
    {
        config.Validate();
        Config = config;
        conv1 = new CntkConv2d(3, 64, 7, 2);
        bn1 = new BatchNorm2d(64);
        var stages = StagePlan.Select((stage, i) => Stage(i == 0 ? 64 : StagePlan[i - 1].Channels, stage.Channels, stage.Stride, stage.Blocks)).ToArray();
        (layer1, layer2, layer3, layer4) = (stages[0], stages[1], stages[2], stages[3]); // fields: their names are the parameters' (layer1.0.conv1, …)
        drop_fc = new SeededDropout(config.ClassifierDropout, DropoutDraws);
        fc = nn.Linear(512, config.Classes);
        input_weight = zeros(3, 3, 1, 1);
        input_bias = zeros(3);
        RegisterComponents();
        using (no_grad())
        {
            // The classifier is new: PyTorch's default draw for a linear layer, U(±1/√fan-in), from the seed alone,
            // zero bias.
            using var generator = new Generator(initialisationSeed);
            using var draw = rand(fc.weight!.shape, generator: generator);
            float bound = (float)(1 / Math.Sqrt(512));
            float[] u = draw.data<float>().ToArray();
            using var weights = tensor(u.Select(v => (2 * v - 1) * bound).ToArray()).reshape(fc.weight.shape);
            fc.weight.copy_(weights);
            fc.bias!.zero_();
        }
        // Until the trainer says how its inputs were normalised: YUV of RGB in [0, 1], unnormalised. A network built
        // to receive a saved model's state (not pretrained) reads no file: the state replaces the adapter too.
        var unnormalised = new ColourNormalisation(ColourNormalisation.YuvBt601, [0, 0, 0], [1, 1, 1], 0, "none");
        if (pretrained)
        {
            LoadImageNet();
            SetAdapter(unnormalised, ImageNet.Value.BgrMean);
        }
        else SetAdapter(unnormalised, [0, 0, 0]);
    }

    /// <summary>The four stages after the stem's 64 channels: each one's output channels, its first block's stride and
    /// its basic blocks (CNTK's last stage has three). The network and <see cref="ForwardFlops"/> both read it.</summary>
    private static readonly (int Channels, int Stride, int Blocks)[] StagePlan = [(64, 1, 2), (128, 2, 2), (256, 2, 2), (512, 2, 3)];

    private static Sequential Stage(int inChannels, int outChannels, int stride, int blocks) => nn.Sequential(
        Enumerable.Range(0, blocks).Select(i => (i.ToString(System.Globalization.CultureInfo.InvariantCulture),
            (nn.Module<Tensor, Tensor>)new BasicBlock(i == 0 ? inChannels : outChannels, outChannels, i == 0 ? stride : 1))));

    public override ResNetConfig Config { get; }

    /// <summary>
    /// Sets the fixed 1×1 convolution in front of the network so that it receives what ImageNet training gave it:
    /// x → BGR·255 − mean pixel, where the pipeline's input x is YUV normalised by <paramref name="normalisation"/>.
    /// YUV = std·x + mean, RGB = M⁻¹·YUV (<see cref="Yuv.ToRgbMatrix"/>), so the whole map is linear: weight
    /// 255·P·M⁻¹·diag(std), bias 255·P·M⁻¹·mean − mean pixel, with P the RGB → BGR swap. Not trained.
    /// </summary>
    public override void AdaptInput(ColourNormalisation normalisation) => SetAdapter(normalisation, ImageNet.Value.BgrMean);

    private void SetAdapter(ColourNormalisation normalisation, float[] bgrMean)
    {
        var w = new float[9];
        var b = new float[3];
        for (int o = 0; o < 3; o++)
        {
            int rgb = 2 - o; // output channel o is BGR: blue first
            double bias = 0;
            for (int i = 0; i < 3; i++)
            {
                w[o * 3 + i] = (float)(255 * Yuv.ToRgbMatrix[rgb, i] * normalisation.Std[i]);
                bias += 255 * Yuv.ToRgbMatrix[rgb, i] * normalisation.Mean[i];
            }
            b[o] = (float)(bias - bgrMean[o]);
        }
        using var _ = no_grad();
        using var wt = tensor(w).reshape(3, 3, 1, 1);
        using var bt = tensor(b);
        input_weight.copy_(wt);
        input_bias.copy_(bt);
    }

    /// <summary>The classifier (<c>fc</c>) is the one layer not read from ImageNet.</summary>
    public override bool IsNewOnPretrained(string parameterName) => parameterName.StartsWith("fc.", StringComparison.Ordinal);

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return fc.forward(drop_fc.forward(Embedding(input))).MoveToOuterDisposeScope();
    }

    public override Tensor Embedding(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor x = nn.functional.conv2d(input, input_weight, input_bias);
        if (input.shape[^1] != Config.InputSize)
            x = nn.functional.interpolate(x, [Config.InputSize, Config.InputSize], mode: InterpolationMode.Bilinear, align_corners: false);
        return Features(x).MoveToOuterDisposeScope();
    }

    public override int EmbeddingSize => 512;

    /// <summary>How every convolution of the backbone runs (<see cref="ConvolutionEngine"/>): bf16 where the CPU has
    /// AVX512_BF16 kernels, channels-last strides. The input adapter's fixed 1×1 convolution stays fp32: it is the exact
    /// colour transform into ImageNet's pixels.</summary>
    public override ConvolutionEngine Engine
    {
        get => conv1.Engine;
        set { foreach (var c in modules().OfType<CntkConv2d>()) c.Engine = value; }
    }

    /// <summary>The 512 ImageNet features (the mean of the last block's maps) of an input already as ImageNet
    /// training gave it: BGR in 0–255 minus the mean pixel. What the ONNX file computes (tested against ONNX Runtime).</summary>
    internal Tensor Features(Tensor bgr)
    {
        using var scope = NewDisposeScope();
        Tensor x = nn.functional.relu(bn1.forward(conv1.forward(bgr)));
        // CNTK's 3×3 max-pooling, stride 2, one row and column padded before. After a ReLU every value is ≥ 0 and a
        // window always holds a real value, so zero padding gives the same maxima as −∞ padding would.
        x = nn.functional.max_pool2d(nn.functional.pad(x, [1, 0, 1, 0]), [3, 3], [2, 2]);
        x = layer4.forward(layer3.forward(layer2.forward(layer1.forward(x))));
        return x.mean([2, 3]).MoveToOuterDisposeScope();
    }

    /// <summary>Floats of the widest activation of one image: the stem's 64 channels at half the input side (the
    /// max pooling after it, and every later stage, hold a quarter of that or less).</summary>
    public static long WidestActivation(int side)
    {
        int s = StemSide(side);
        return 64L * s * s;
    }

    /// <summary>The side of a convolution's output: kernel <paramref name="k"/> over <paramref name="s"/> px padded by
    /// <paramref name="padded"/> px in all (CNTK pads the stem's 7×7 by 5: 3 before, 2 after, <see cref="CntkConv2d"/>).</summary>
    private static int Out(int s, int k, int stride, int padded) => (s + padded - k) / stride + 1;

    /// <summary>The side of the stem's 7×7 stride-2 convolution's output for a <paramref name="side"/>-px input.</summary>
    private static int StemSide(int side) => Out(side, 7, 2, 5);

    /// <summary>Multiply-adds ×2 of one forward pass at <paramref name="side"/> px (the convolutions and the classifier).</summary>
    public static double ForwardFlops(int side, int classes)
    {
        double flops = 0;
        int s = StemSide(side);
        flops += 2.0 * 3 * 64 * 49 * s * s;
        s = Out(s, 3, 2, 1);
        int c = 64;
        foreach (var (outC, stride, blocks) in StagePlan)
        {
            int s2 = stride == 1 ? s : Out(s, 3, 2, 1);
            int more = 2 * blocks - 1; // 3×3 convolutions after block 0's first
            flops += 2.0 * c * outC * 9 * s2 * s2 + more * 2.0 * outC * outC * 9 * s2 * s2;
            if (stride != 1) flops += 2.0 * c * outC * s2 * s2;                        // the 1×1 shortcut
            s = s2; c = outC;
        }
        return flops + 2.0 * 512 * classes;
    }

    /// <summary>Copies the ImageNet weights into every convolution and BatchNorm (the classifier stays new). Each ONNX
    /// convolution is matched to its layer by position, and its shape, stride and padding are checked against the
    /// layer's, so a different file is named instead of loaded wrong.</summary>
    private void LoadImageNet()
    {
        var (graph, _) = ImageNet.Value;
        var pairs = new List<(OnnxNode Conv, OnnxNode Norm)>();
        foreach (var conv in graph.Nodes.Where(n => n.Op == "Conv"))
        {
            var norm = graph.Nodes.FirstOrDefault(n => n.Op == "BatchNormalization" && n.Inputs[0] == conv.Outputs[0])
                ?? throw new InvalidDataException($"{WeightsFile}: convolution {conv.Outputs[0]} has no BatchNormalization after it");
            pairs.Add((conv, norm));
        }
        // ONNX order (CNTK's): the stem, then each block's 1×1 shortcut (where it has one) before its two 3×3 convolutions.
        var layers = new List<(CntkConv2d Conv, BatchNorm2d Norm)> { (conv1, bn1) };
        foreach (var stage in new[] { layer1, layer2, layer3, layer4 })
            foreach (var block in stage.children().Cast<BasicBlock>())
            {
                if (block.Shortcut is { } shortcut) layers.Add(shortcut);
                layers.Add((block.Conv1, block.Bn1));
                layers.Add((block.Conv2, block.Bn2));
            }
        if (pairs.Count != layers.Count)
            throw new InvalidDataException($"{WeightsFile}: {pairs.Count} convolutions where ResNet-18 has {layers.Count}");
        using var _ = no_grad();
        for (int i = 0; i < pairs.Count; i++)
        {
            var (node, norm) = pairs[i];
            var (conv, bn) = layers[i];
            conv.CheckMatches(node, WeightsFile);
            Copy(graph, node.Inputs[1], conv.Weight);
            if (Math.Abs(norm.Floats.GetValueOrDefault("epsilon", 1e-5f) - BatchNorm2d.Epsilon) > 1e-9)
                throw new InvalidDataException($"{WeightsFile}: BatchNorm {norm.Outputs[0]} has ε {norm.Floats["epsilon"]}, not {BatchNorm2d.Epsilon}");
            Copy(graph, norm.Inputs[1], bn.Weight);
            Copy(graph, norm.Inputs[2], bn.Bias);
            Copy(graph, norm.Inputs[3], bn.RunningMean);
            Copy(graph, norm.Inputs[4], bn.RunningVar);
        }
    }

    private static void Copy(OnnxGraph graph, string name, Tensor target)
    {
        if (!graph.Initializers.TryGetValue(name, out var init))
            throw new InvalidDataException($"{WeightsFile}: no initializer {name}");
        // CNTK stores a BatchNorm's per-channel vectors as [C] or [C, 1, 1]: only the element count must agree.
        if (init.Data.Length != target.numel() || (init.Dims.Length == target.dim() && !init.Dims.SequenceEqual(target.shape)))
            throw new InvalidDataException($"{WeightsFile}: {name} is [{string.Join('x', init.Dims)}] where the layer has [{string.Join('x', target.shape)}]");
        using var source = tensor(init.Data).reshape(target.shape);
        target.copy_(source);
    }

    private static (OnnxGraph, float[]) ReadImageNet()
    {
        if (!File.Exists(WeightsFile))
            throw new FileNotFoundException(
                $"{WeightsFile}: the ImageNet ResNet-18 is missing. The build copies it from the NuGet package " +
                "Microsoft.ML.DnnImageFeaturizer.ResNet18 (lib/MarrowDiff/MarrowDiff.csproj); rebuild the library.", WeightsFile);
        return (OnnxGraph.Read(WeightsFile), ReadMeanPixel());
    }

    /// <summary>The mean of CNTK's 224×224 BGR mean image, per channel.</summary>
    private static float[] ReadMeanPixel()
    {
        if (!File.Exists(PreprocessFile))
            throw new FileNotFoundException($"{PreprocessFile}: CNTK's ResNet preprocessing (its mean image) is missing; rebuild the library.", PreprocessFile);
        var prep = OnnxGraph.Read(PreprocessFile);
        var mean = prep.Initializers.Values.FirstOrDefault(v => v.Dims.SequenceEqual(new long[] { 1, 3, 224, 224 }));
        if (mean.Data is null) throw new InvalidDataException($"{PreprocessFile}: no 1×3×224×224 mean image");
        const int plane = 224 * 224;
        return [.. Enumerable.Range(0, 3).Select(c => (float)mean.Data.AsSpan(c * plane, plane).ToArray().Average(v => (double)v))];
    }
}

/// <summary>
/// A convolution without bias, padded as CNTK padded it: at stride 1, k/2 on every side; at stride 2, k/2 rows and
/// columns before and one fewer after (a 1×1 shortcut none). <see cref="CheckMatches"/> holds it to the pads the
/// pretrained file records, so the layer computes what it computed on ImageNet.
/// </summary>
internal sealed class CntkConv2d : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // PyTorch's parameter name
    private readonly Parameter weight;
#pragma warning restore IDE1006

    public CntkConv2d(int inChannels, int outChannels, int kernel, int stride) : base(nameof(CntkConv2d))
    {
        Kernel = kernel; Stride = stride;
        weight = new Parameter(zeros(outChannels, inChannels, kernel, kernel));
        // CNTK's pads (ResNet18.onnx): k = 7, s = 2 → 3 before, 2 after; k = 3, s = 2 → 1, 0; k = 1 → 0, 0; s = 1 → k/2 both.
        (Before, After) = stride == 1 ? (kernel / 2, kernel / 2) : kernel == 1 ? (0, 0) : (kernel / 2, kernel / 2 - 1);
        RegisterComponents();
    }

    public int Kernel { get; }
    public int Stride { get; }
    public int Before { get; }
    public int After { get; }
    public Parameter Weight => weight;

    /// <summary>How the convolution runs (<see cref="ConvolutionEngine"/>), as <see cref="BlockAlignedConv2d"/> runs VGG's.
    /// Every channel count here is a whole oneDNN block (the stem reads the image's 3 channels plainly), so no lever
    /// needs padding; the function is the same up to rounding (tested against float64).</summary>
    public ConvolutionEngine Engine { get; set; }

    public override Tensor forward(Tensor x)
    {
        if (Engine == ConvolutionEngine.Default && Before == After)
            return nn.functional.conv2d(x, weight, null, strides: [Stride, Stride], padding: [Before, Before]);
        using var scope = NewDisposeScope();
        Tensor input = Before == After ? x : nn.functional.pad(x, [Before, After, Before, After]);
        long pad = Before == After ? Before : 0;
        Tensor w = weight;
        bool bf16 = Engine.HasFlag(ConvolutionEngine.BFloat16);
        if (Engine.HasFlag(ConvolutionEngine.ChannelsLast) && Kernel == 1)
        {
            // A 1×1 convolution channels-last is a matrix product over the channels of every Stride-th pixel. Written so
            // because LibTorch 2.10's own channels-last 1×1 convolution of 256 → 512 channels (the last stage's shortcut)
            // was found wrong on an AVX-512 CPU, while 64 → 128 and 128 → 256 were right (docs/measurements.md, "LibTorch's
            // channels-last 1×1 convolution").
            Tensor pixels = (Stride == 1 ? input : input.slice(2, 0, input.shape[2], Stride).slice(3, 0, input.shape[3], Stride)).permute(0, 2, 3, 1);
            Tensor map = w.reshape(w.shape[0], w.shape[1]).t();
            Tensor product = bf16 ? pixels.to(ScalarType.BFloat16).matmul(map.to(ScalarType.BFloat16)).to(ScalarType.Float32) : pixels.matmul(map);
            return product.permute(0, 3, 1, 2).MoveToOuterDisposeScope();
        }
        if (Engine.HasFlag(ConvolutionEngine.ChannelsLast))
        {
            input = BlockAlignedConv2d.ChannelsLast(input);
            w = BlockAlignedConv2d.ChannelsLast(w);
        }
        Tensor y = bf16
            // bf16 convolution, fp32 master weight (autograd casts its gradient back), BatchNorm and the rest fp32.
            ? nn.functional.conv2d(input.to(ScalarType.BFloat16), w.to(ScalarType.BFloat16), null, strides: [Stride, Stride], padding: [pad, pad]).to(ScalarType.Float32)
            : nn.functional.conv2d(input, w, null, strides: [Stride, Stride], padding: [pad, pad]);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Throws unless <paramref name="node"/> is this layer: kernel, stride and pads as ONNX records them.</summary>
    public void CheckMatches(OnnxNode node, string file)
    {
        long[] k = node.Ints.GetValueOrDefault("kernel_shape", []), s = node.Ints.GetValueOrDefault("strides", [1, 1]),
               p = node.Ints.GetValueOrDefault("pads", [0, 0, 0, 0]);
        bool same = k.SequenceEqual(new long[] { Kernel, Kernel }) && s.SequenceEqual(new long[] { Stride, Stride })
                    && p.SequenceEqual(new long[] { Before, Before, After, After });
        if (!same)
            throw new InvalidDataException($"{file}: convolution {node.Outputs[0]} has kernel [{string.Join(',', k)}], strides [{string.Join(',', s)}], " +
                                           $"pads [{string.Join(',', p)}] where ResNet-18's layer has {Kernel}, {Stride}, [{Before},{Before},{After},{After}]");
    }
}

/// <summary>ResNet's basic block: two 3×3 convolutions with BatchNorm, added to the input (through a 1×1 convolution and
/// BatchNorm where the block halves the side or changes the channels), then ReLU.</summary>
internal sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // torchvision's names
    private readonly CntkConv2d conv1, conv2;
    private readonly BatchNorm2d bn1, bn2;
    private readonly Sequential? downsample;
#pragma warning restore IDE1006
    // add_'s alpha, owned: a temporary Scalar could be collected while libtorch reads it (see BatchNorm2d).
    private readonly Scalar _one = 1.ToScalar();

    public BasicBlock(int inChannels, int outChannels, int stride) : base(nameof(BasicBlock))
    {
        conv1 = new CntkConv2d(inChannels, outChannels, 3, stride);
        bn1 = new BatchNorm2d(outChannels);
        conv2 = new CntkConv2d(outChannels, outChannels, 3, 1);
        bn2 = new BatchNorm2d(outChannels);
        if (stride != 1 || inChannels != outChannels)
            downsample = nn.Sequential(("0", new CntkConv2d(inChannels, outChannels, 1, stride)), ("1", new BatchNorm2d(outChannels)));
        RegisterComponents();
    }

    public CntkConv2d Conv1 => conv1;
    public CntkConv2d Conv2 => conv2;
    public BatchNorm2d Bn1 => bn1;
    public BatchNorm2d Bn2 => bn2;

    public (CntkConv2d Conv, BatchNorm2d Norm)? Shortcut =>
        downsample is null ? null : ((CntkConv2d)downsample.children().First(), (BatchNorm2d)downsample.children().Last());

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = bn2.forward(conv2.forward(nn.functional.relu(bn1.forward(conv1.forward(x)))));
        var identity = downsample is null ? x : downsample.forward(x);
        return nn.functional.relu(y.add_(identity, _one)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _one.Dispose();
        base.Dispose(disposing);
    }
}
