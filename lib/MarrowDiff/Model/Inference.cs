using MarrowDiff.Core;
using MarrowDiff.Preparation;
using MarrowDiff.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace MarrowDiff.Model;

/// <summary>A network's softmax outputs on cells: the one forward pass that training's validation, the test-set
/// evaluation and every analysis share.</summary>
public static class Inference
{
    /// <summary>Softmax probabilities [n, classes] of every sample of <paramref name="set"/>, in order.</summary>
    /// <param name="testTimeD4">Average over the eight rotations and flips of each image (<see cref="Softmax"/>).</param>
    /// <param name="channelsLast">Run the convolutions with channels-last strides (<see cref="Levers"/>); false: the model's own engine (channels-first for a loaded model).</param>
    public static float[,] Probabilities(VggNet model, SampleSet set, ColourNormalisation normalisation, int batchSize = 100, bool testTimeD4 = false, bool channelsLast = true)
    {
        model.eval();
        int k = model.Config.Classes;
        var result = new float[set.Count, k];
        var loader = new BatchLoader(set, normalisation, batchSize, seed: 0, shuffle: false);
        var device = model.parameters().First().device;
        using var _ = no_grad();
        using var levers = Levers(model, channelsLast);
        foreach (Batch batch in loader.Epoch(0))
            using (batch)
            {
                float[] p = TorchRuntime.Step(() =>
                {
                    using var scope = NewDisposeScope();
                    var (x, _) = batch.ToTensors(device);
                    return Softmax(model, x, testTimeD4).cpu().data<float>().ToArray();
                });
                for (int i = 0; i < batch.Count; i++)
                    for (int c = 0; c < k; c++) result[batch.Samples[i], c] = p[i * k + c];
            }
        return result;
    }

    /// <summary>Softmax probabilities of <paramref name="count"/> inputs already normalised (count × 3 × 96 × 96
    /// floats, channel-first): for analyses that edit the input itself, such as occlusion.</summary>
    public static float[,] ProbabilitiesOf(VggNet model, float[] inputs, int count, int batchSize = 100, bool testTimeD4 = false, bool channelsLast = true)
    {
        const int per = 3 * CellPatch.Size * CellPatch.Size;
        if (inputs.Length < (long)count * per) throw new ArgumentException($"{inputs.Length} floats cannot hold {count} images of {per}", nameof(inputs));
        model.eval();
        int k = model.Config.Classes;
        var result = new float[count, k];
        var device = model.parameters().First().device;
        using var _ = no_grad();
        using var levers = Levers(model, channelsLast);
        for (int start = 0; start < count; start += batchSize)
        {
            int n = Math.Min(batchSize, count - start), first = start;
            float[] p = TorchRuntime.Step(() =>
            {
                using var scope = NewDisposeScope();
                var x = torch.empty([n, 3, CellPatch.Size, CellPatch.Size], ScalarType.Float32);
                inputs.AsSpan(first * per, n * per).CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(x.bytes));
                return Softmax(model, x.to(device), testTimeD4).cpu().data<float>().ToArray();
            });
            for (int i = 0; i < n; i++)
                for (int c = 0; c < k; c++) result[start + i, c] = p[i * k + c];
        }
        return result;
    }

    /// <summary>
    /// Switches the inference levers on for one call and back afterwards (the model's own engine, which a resumed
    /// training run reads, is restored). Kept: channels-last strides, which `bench/run.sh` measured 1.2–1.6× faster for
    /// inference at every width on this machine (1.62× at real-plus's quarter width, 1.23× at real's 1/8 width on 48-px
    /// input) and which compute the same function up to rounding (tested to 1e-4). Not kept: folded BatchNorm (1.00× at
    /// the quarter width) and bf16 (its rounding moves a softmax by about 1e-2, enough to change a borderline cell).
    /// Only CPU convolutions have a layout to choose.
    /// </summary>
    private static EngineRestorer Levers(VggNet model, bool channelsLast)
    {
        var before = model.Engine;
        if (channelsLast && model.parameters().First().device_type == DeviceType.CPU) model.Engine = before | ConvolutionEngine.ChannelsLast;
        return new EngineRestorer(model, before);
    }

    private readonly struct EngineRestorer(VggNet model, ConvolutionEngine before) : IDisposable
    {
        public void Dispose() => model.Engine = before;
    }

    /// <summary>The softmax of a batch; with <paramref name="testTimeD4"/>, the mean softmax over the batch turned by each
    /// of the eight elements of D4 (four quarter turns, each with and without a mirror), the same group the AG training
    /// set is made of. Quarter turns and mirrors of a square image move pixels exactly, so nothing is interpolated.</summary>
    public static Tensor Softmax(VggNet model, Tensor x, bool testTimeD4)
    {
        if (!testTimeD4) return nn.functional.softmax(model.forward(x), 1);
        using var scope = NewDisposeScope();
        Tensor sum = zeros(x.shape[0], model.Config.Classes, device: x.device);
        for (int quarter = 0; quarter < 4; quarter++)
        {
            Tensor turned = quarter == 0 ? x : x.rot90(quarter, (2, 3));
            sum.add_(nn.functional.softmax(model.forward(turned), 1));
            sum.add_(nn.functional.softmax(model.forward(turned.flip(3)), 1));
        }
        return sum.div_(8).MoveToOuterDisposeScope();
    }

    /// <summary>Forward passes a classifier makes a cell: eight with test-time D4, summed over an ensemble's members.</summary>
    public static int PassesPerCell(ISavedClassifier classifier) => FoldEnsemble.MembersOf(classifier).Sum(m => m.TestTimeD4 ? 8 : 1);

    /// <summary>Index of the largest probability of each row.</summary>
    public static int[] ArgMax(float[,] probabilities) =>
        Enumerable.Range(0, probabilities.GetLength(0)).Select(i => Enumerable.Range(0, probabilities.GetLength(1)).MaxBy(c => probabilities[i, c])).ToArray();

    /// <summary>Softmax probabilities of 96-px RGB patches (cells found in a field), prepared exactly as training
    /// prepared its images: YUV, normalised with the model's own training statistics.</summary>
    public static float[,] PatchProbabilities(TrainedModel model, IReadOnlyList<Imaging.RgbImage> patches, int batchSize = 100)
    {
        const int per = 3 * CellPatch.Size * CellPatch.Size;
        var inputs = new float[patches.Count * per];
        for (int i = 0; i < patches.Count; i++)
        {
            if (patches[i].Width != CellPatch.Size || patches[i].Height != CellPatch.Size)
                throw new ArgumentException($"patch {i} is {patches[i].Width}x{patches[i].Height}; the network takes {CellPatch.Size}x{CellPatch.Size}", nameof(patches));
            model.Normalisation.ToInput(patches[i], inputs.AsSpan(i * per, per));
        }
        return patches.Count == 0 ? new float[0, model.Outputs.Count] : ProbabilitiesOf(model.Network, inputs, patches.Count, batchSize, model.TestTimeD4);
    }
}
