using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MarrowDiff.Torch;

/// <summary>The generator a network's dropout layers share (a network seeds it: <c>CellNetwork.SeedDropout</c>).</summary>
internal sealed class DropoutDraws : IDisposable
{
    private Generator? _generator;

    /// <summary>The generator masks are drawn from; before the first <see cref="Reseed"/>, one seeded 0 on the CPU.</summary>
    public Generator Generator => _generator ??= new Generator(0);

    public void Reseed(long seed, Device device)
    {
        _generator?.Dispose();
        // A fresh generator of the device's kind: the same state as torch.manual_seed(seed) leaves libtorch's default one in.
        _generator = new Generator((ulong)seed, device);
    }

    public void Dispose() { _generator?.Dispose(); _generator = null; }
}

/// <summary>
/// Dropout with its masks from the network's own generator: in training, each element is kept with probability 1 − p
/// and scaled by 1 / (1 − p); in evaluation (or at p = 0) the input passes unchanged. The same arithmetic as libtorch's
/// CPU dropout (a Bernoulli mask in the input's layout, divided by 1 − p, multiplied in), so with a generator in the same
/// state the output is bit-equal to nn.Dropout's. On CUDA, libtorch's dropout is a fused kernel with its own draws:
/// there the masks differ from nn.Dropout's (not measurable here; docs/machines.md says so under CUDA).
/// </summary>
internal sealed class SeededDropout(double p, DropoutDraws draws) : Module<Tensor, Tensor>("SeededDropout")
{
    public double P { get; } = p;

    public override Tensor forward(Tensor input)
    {
        if (!training || P == 0 || input.numel() == 0) return input.alias();
        using var noise = empty_like(input);
        noise.bernoulli_(1 - P, generator: draws.Generator);
        using Scalar keep = (1 - P).ToScalar(); // held past the call: no temporary Scalar reaches native code
        noise.div_(keep);
        return input.mul(noise);
    }
}
