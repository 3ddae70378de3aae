using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace MarrowDiff.Torch;

/// <summary>
/// A 3×3 convolution (stride 1, padding 1) with the parameters, names and arithmetic of <c>nn.Conv2d</c>, that hands
/// oneDNN only whole channel blocks.
/// <para>Why (docs/engine.md, "The AVX-512 fault"): on CPUs, LibTorch's convolutions run in oneDNN, which stores activations in blocks of 8 (AVX2)
/// or 16 (AVX-512) channels and pads a layer whose channel count is not a multiple of the block. On one kind of
/// AVX-512 CPU the backward pass through such a padded convolution (8 channels padded to 16, block 1 of the
/// 1/8-width network) returned NaN gradients at random: 170 of 800 iterations, none at 16 or 32 channels, none under
/// an AVX2 cap. So when a layer's channels are not whole blocks on this CPU, this module pads the weights (and the
/// input's channels) with zeros up to the block itself, convolves, and keeps the real output channels: oneDNN then
/// runs the unpadded kernels every full-width layer has always used. The zeros add exact zeros, so the layer computes
/// the same function with the same parameters on every CPU (a model trained on one loads on any other; results
/// differ across CPUs only by rounding, as they always did); where channels are whole blocks, as at full width,
/// nothing is padded and nothing costs.</para>
/// <para>Inference in channels-last (every <c>Inference</c> call; gradients off) is not padded: the fault was in the
/// backward pass, oneDNN's channels-last forward keeps the activations unpadded, and the padding doubled block 1's work
/// at 1/8 width (what it bought: docs/real-cells.md, "real-fast on an AVX-512 CPU").</para>
/// <para>The image's own 3 channels are not padded: oneDNN reads so few input channels in a plain layout, never a
/// padded block (its verbose log shows it; a test keeps it so).</para>
/// </summary>
public sealed class BlockAlignedConv2d : nn.Module<Tensor, Tensor>
{
    /// <summary>Input channels up to this many are read by oneDNN in a plain layout (the first layer's RGB).</summary>
    public const int PlainInputChannels = 4;

    // Field names are the parameter names: "weight" and "bias", as nn.Conv2d's, so state dicts and safetensors keep
    // PyTorch's keys (features.conv1.weight, …).
#pragma warning disable IDE1006 // parameter names as PyTorch spells them
    private readonly Parameter weight;
    private readonly Parameter bias;
#pragma warning restore IDE1006

    public BlockAlignedConv2d(long inChannels, long outChannels) : base(nameof(BlockAlignedConv2d))
    {
        InChannels = inChannels; OutChannels = outChannels;
        weight = new Parameter(empty(outChannels, inChannels, 3, 3));
        bias = new Parameter(zeros(outChannels));
        RegisterComponents();
    }

    public long InChannels { get; }
    public long OutChannels { get; }
    public Parameter Weight => weight;
    public Parameter Bias => bias;

    /// <summary>How this convolution runs on the CPU (an engine lever, measured by <c>bench/run.sh</c>; the default is
    /// what the paper's profiles train with). Not a parameter: it changes rounding, never the function.</summary>
    public ConvolutionEngine Engine { get; set; } = ConvolutionEngine.Default;

    /// <summary>BatchNorm folded into this convolution for inference (<see cref="FoldBatchNorm"/>): the weight and bias
    /// used instead of the parameters, or null.</summary>
    private (Tensor Weight, Tensor Bias)? _folded;

    /// <summary>
    /// Folds an inference-mode BatchNorm that follows this convolution into it: y = γ (conv(x) − μ) / √(σ² + ε) + β is
    /// conv with weight w·γ/√(σ² + ε) and bias (b − μ)·γ/√(σ² + ε) + β. One pass over the activations fewer per layer.
    /// Only for inference: the parameters stay as trained (a model saved afterwards is unchanged), and training again
    /// calls <see cref="Unfold"/> first.
    /// </summary>
    public void FoldBatchNorm(BatchNorm2d bn)
    {
        using var _ = no_grad();
        Unfold();
        // Every temporary held until its native call is over (TorchRuntime.Step): the intermediate tensors by this
        // scope, ε and add's alpha of 1 as Scalars of our own. Without them a collection could free one while libtorch
        // still read it; this fold runs before every validation pass, and the collector stress test caught it
        // ("toFloat", "Unknown scalar type", and a crash of the process).
        using var scope = NewDisposeScope();
        using Scalar eps = bn.Eps.ToScalar(), one = 1.ToScalar();
        var scale = bn.Weight.div(bn.RunningVar.add(eps, one).sqrt());
        var w = weight.mul(scale.reshape(-1, 1, 1, 1)).DetachFromDisposeScope();
        var b = bias.sub(bn.RunningMean).mul(scale).add(bn.Bias, one).DetachFromDisposeScope();
        _folded = (w, b);
    }

    public bool Folded => _folded is not null;

    /// <summary>Back to the trained parameters (drops a folded BatchNorm).</summary>
    public void Unfold()
    {
        if (_folded is var (w, b)) { w.Dispose(); b.Dispose(); }
        _folded = null;
    }

    /// <summary>The channel counts oneDNN sees for <paramref name="block"/>-channel blocks: (input, output).</summary>
    public (long In, long Out) AlignedChannels(int block) =>
        (InChannels <= PlainInputChannels ? InChannels : RoundUp(InChannels, block), RoundUp(OutChannels, block));

    public override Tensor forward(Tensor input)
    {
        Tensor weightNow = _folded?.Weight ?? weight, biasNow = _folded?.Bias ?? bias;
        // Only CPU convolutions go through oneDNN's blocked layouts; on a GPU the layer runs as it is.
        int block = input.device_type == DeviceType.CPU ? TorchRuntime.ConvolutionChannelBlock : 1;
        // An fp32 channels-last forward with gradients off (inference) needs no whole blocks (see the class summary);
        // training, any forward a backward may follow, and bf16 (not checked) keep them. Tested against float64.
        if (Engine == ConvolutionEngine.ChannelsLast && !torch.is_grad_enabled()) block = 1;
        var (inAligned, outAligned) = AlignedChannels(block);
        if (inAligned == InChannels && outAligned == OutChannels && Engine == ConvolutionEngine.Default)
            return nn.functional.conv2d(input, weightNow, biasNow, padding: [1, 1]);

        using var scope = NewDisposeScope();
        long inPad = inAligned - InChannels, outPad = outAligned - OutChannels;
        // pad lists (before, after) pairs from the last dimension: kernel width, kernel height, input, output channels.
        Tensor w = outPad == 0 && inPad == 0 ? weightNow : nn.functional.pad(weightNow, [0, 0, 0, 0, 0, inPad, 0, outPad]);
        Tensor b = outPad == 0 ? biasNow : nn.functional.pad(biasNow, [0, outPad]);
        Tensor x = inPad == 0 ? input : nn.functional.pad(input, [0, 0, 0, 0, 0, inPad]);
        if (Engine.HasFlag(ConvolutionEngine.ChannelsLast))
        {
            x = ChannelsLast(x);
            w = ChannelsLast(w);
        }
        Tensor y;
        if (Engine.HasFlag(ConvolutionEngine.BFloat16))
            // bf16 convolution, fp32 everywhere else: the weights stay fp32 masters (autograd casts their gradient back),
            // BatchNorm and the loss see fp32 (TorchSharp has no autocast, so the cast is explicit here).
            y = nn.functional.conv2d(x.to(ScalarType.BFloat16), w.to(ScalarType.BFloat16), b.to(ScalarType.BFloat16), padding: [1, 1]).to(ScalarType.Float32);
        else
            y = nn.functional.conv2d(x, w, b, padding: [1, 1]);
        return (outPad == 0 ? y : y.narrow(1, 0, OutChannels).contiguous()).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) Unfold();
        base.Dispose(disposing);
    }

    /// <summary>The same NCHW shape with NHWC strides. TorchSharp 0.107 has no memory_format argument; a permuted copy
    /// is what LibTorch reads as channels-last and hands to oneDNN without reordering. Shared with the ResNet's
    /// convolutions.</summary>
    internal static Tensor ChannelsLast(Tensor t) => t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    private static long RoundUp(long channels, int block) => (channels + block - 1) / block * block;
}

/// <summary>Engine levers of a convolution on the CPU (docs/engine.md): each is kept only where <c>bench/run.sh</c> shows it
/// wins on this machine, and none changes the function the layer computes beyond rounding.</summary>
[Flags]
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<ConvolutionEngine>))]
public enum ConvolutionEngine
{
    /// <summary>fp32, LibTorch's default (channels-first) layout: how the paper's profiles train.</summary>
    Default = 0,
    /// <summary>bf16 convolutions (oneDNN's AVX512_BF16 kernels where the CPU has them), fp32 weights and BatchNorm.</summary>
    BFloat16 = 1,
    /// <summary>Channels-last (NHWC) strides for the convolution's input and weight: how real-plus trains, and how every
    /// inference runs (<c>Inference.Probabilities</c>).</summary>
    ChannelsLast = 2,
}

/// <summary>What a person should know before a lever runs on this CPU. bf16 convolutions are only fast where oneDNN has
/// bf16 kernels (AVX512_BF16); elsewhere it emulates them, and a bf16 run takes several times as long as fp32 while
/// still giving bf16's rounding. The lever is an opt-in profile setting, so this is advice printed before the work
/// starts, not an error: the result is still correct, only slow.</summary>
public static class EngineAdvice
{
    /// <summary>Null when <paramref name="engine"/> suits <paramref name="cpu"/>; otherwise one sentence saying why not
    /// and what to use instead.</summary>
    public static string? For(ConvolutionEngine engine, CpuInfo cpu) =>
        engine.HasFlag(ConvolutionEngine.BFloat16) && !cpu.Avx512Bf16
            ? $"warning: bf16 convolutions on a CPU without AVX512_BF16 ({cpu}): oneDNN has no bf16 kernels here and emulates " +
              "them, so each step takes several times as long as fp32 (docs/measurements.md, \"bf16 without AVX512_BF16\"); " +
              "engine=fp32 or engine=channels-last are the fast paths on this CPU"
            : null;
}
