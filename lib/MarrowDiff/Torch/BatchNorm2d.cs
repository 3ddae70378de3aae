using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace MarrowDiff.Torch;

/// <summary>
/// Batch normalisation over the channels of a 4-D input, as <c>nn.BatchNorm2d</c> (momentum 0.1, eps 1e-5, affine,
/// tracking running statistics), with its parameter and buffer names, so state dicts and safetensors are unchanged.
/// <para>Why not TorchSharp's own: in training it counts batches with <c>num_batches_tracked.add_(1)</c>, which turns
/// the 1 into a temporary Scalar whose handle goes to libtorch while the Scalar itself is already garbage; a
/// collection during that call lets its finalizer free it mid-use (the hazard behind "Unknown scalar type" failures of
/// long runs). Here the 1 is a Scalar the module owns, alive as long as the module, passed as both the value and the
/// alpha; the rest is the functional batch norm, which takes plain doubles.</para>
/// </summary>
public sealed class BatchNorm2d : nn.Module<Tensor, Tensor>
{
    public const double Momentum = 0.1, Epsilon = 1e-5;

    // Field names are PyTorch's parameter and buffer names.
#pragma warning disable IDE1006
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly Tensor running_mean;
    private readonly Tensor running_var;
    private readonly Tensor num_batches_tracked;
#pragma warning restore IDE1006
    private readonly Scalar _one = 1.ToScalar();

    public BatchNorm2d(long channels) : base(nameof(BatchNorm2d))
    {
        Channels = channels;
        weight = new Parameter(ones(channels));
        bias = new Parameter(zeros(channels));
        running_mean = zeros(channels);
        running_var = ones(channels);
        num_batches_tracked = zeros(1, ScalarType.Int64).squeeze();
        RegisterComponents();
    }

    public long Channels { get; }
    public Parameter Weight => weight;
    public Parameter Bias => bias;
    public Tensor RunningMean => running_mean;
    public Tensor RunningVar => running_var;
    public double Eps => Epsilon;

    /// <summary>Set when this layer is folded into the convolution before it (inference only): it passes its input on.</summary>
    public bool FoldedAway { get; set; }

    public override Tensor forward(Tensor input)
    {
        if (FoldedAway)
            return training ? throw new InvalidOperationException("a BatchNorm folded for inference cannot train: unfold the network first") : input.alias();
        if (input.dim() != 4) throw new ArgumentException($"BatchNorm2d expects a 4-D input (N, C, H, W), not {input.dim()}-D");
        // add_(value, alpha) with both Scalars owned: TorchSharp's add_(value) would make alpha = 1 a temporary itself
        // (found by the garbage-collection stress test: "alpha must not be a floating point number").
        if (training)
            using (no_grad()) num_batches_tracked.add_(_one, _one);
        return nn.functional.batch_norm(input, running_mean, running_var, weight, bias, training, Momentum, Epsilon);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _one.Dispose();
        base.Dispose(disposing);
    }
}
