using MarrowDiff.Torch;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace MarrowDiff.Model;

/// <summary>
/// A 3×3 convolution (stride 1, padding 1) with the parameters, names and arithmetic of <c>nn.Conv2d</c>, that hands
/// oneDNN only whole channel blocks.
/// <para>Why (issue 11): on CPUs, LibTorch's convolutions run in oneDNN, which stores activations in blocks of 8 (AVX2)
/// or 16 (AVX-512) channels and pads a layer whose channel count is not a multiple of the block. On an AMD EPYC
/// (Zen 4) the AVX-512 backward pass through such a padded convolution (8 channels padded to 16, block 1 of the
/// 1/8-width network) returned NaN gradients at random: 170 of 800 iterations, none at 16 or 32 channels, none under
/// an AVX2 cap. So when a layer's channels are not whole blocks on this CPU, this module pads the weights (and the
/// input's channels) with zeros up to the block itself, convolves, and keeps the real output channels: oneDNN then
/// runs the unpadded kernels every full-width layer has always used. The zeros add exact zeros, so the layer computes
/// the same function with the same parameters on every CPU (a model trained on one loads on any other; results
/// differ across CPUs only by rounding, as they always did); where channels are whole blocks, as at full width,
/// nothing is padded and nothing costs.</para>
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

    /// <summary>The channel counts oneDNN sees for <paramref name="block"/>-channel blocks: (input, output).</summary>
    public (long In, long Out) AlignedChannels(int block) =>
        (InChannels <= PlainInputChannels ? InChannels : RoundUp(InChannels, block), RoundUp(OutChannels, block));

    public override Tensor forward(Tensor input)
    {
        // Only CPU convolutions go through oneDNN's blocked layouts; on a GPU the layer runs as it is.
        int block = input.device_type == DeviceType.CPU ? TorchRuntime.ConvolutionChannelBlock : 1;
        var (inAligned, outAligned) = AlignedChannels(block);
        if (inAligned == InChannels && outAligned == OutChannels)
            return nn.functional.conv2d(input, weight, bias, padding: [1, 1]);

        using var scope = NewDisposeScope();
        long inPad = inAligned - InChannels, outPad = outAligned - OutChannels;
        // pad lists (before, after) pairs from the last dimension: kernel width, kernel height, input, output channels.
        Tensor w = nn.functional.pad(weight, [0, 0, 0, 0, 0, inPad, 0, outPad]);
        Tensor b = nn.functional.pad(bias, [0, outPad]);
        Tensor x = inPad == 0 ? input : nn.functional.pad(input, [0, 0, 0, 0, 0, inPad]);
        Tensor y = nn.functional.conv2d(x, w, b, padding: [1, 1]);
        return (outPad == 0 ? y : y.narrow(1, 0, OutChannels).contiguous()).MoveToOuterDisposeScope();
    }

    private static long RoundUp(long channels, int block) => (channels + block - 1) / block * block;
}
