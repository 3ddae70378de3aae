using MarrowDiff.Core;
using MarrowDiff.Imaging;
using MarrowDiff.Preparation;
using MarrowDiff.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace MarrowDiff.Model;

/// <summary>A network's softmax outputs on cells: the one forward pass that training's validation, the test-set
/// evaluation and every analysis share.</summary>
public static class Inference
{
    /// <summary>Cells in flight at once unless a caller says otherwise: every default batch of this class, and what a
    /// caller reporting the streams a model runs on (<see cref="StreamsFor(CellNetwork, int, int)"/>) must ask about.</summary>
    public const int DefaultBatch = 100;

    /// <summary>Softmax probabilities [n, classes] of every sample of <paramref name="set"/>, in order.</summary>
    /// <param name="testTimeD4">Average over the eight rotations and flips of each image (<see cref="Softmax"/>).</param>
    /// <param name="channelsLast">Run the convolutions with channels-last strides (<see cref="Levers"/>); false: the model's own engine (channels-first for a loaded model).</param>
    /// <param name="foldBatchNorm">Fold every BatchNorm into the convolution before it for the call (<see cref="Levers"/>); false: the layers as trained.</param>
    /// <param name="batchSize">Cells in flight at once; several streams share them (<see cref="StreamBatch"/>).</param>
    /// <param name="streams">Forward passes at once (<see cref="StreamsFor(CellNetwork, int, int)"/>): 0 automatic, 1 every thread on one batch.</param>
    public static float[,] Probabilities(CellNetwork model, SampleSet set, ColourNormalisation normalisation, int batchSize = DefaultBatch, bool testTimeD4 = false, bool channelsLast = true,
                                         bool foldBatchNorm = true, int streams = 0) =>
        Rows(model, set, normalisation, model.Config.Classes, x => Softmax(model, x, testTimeD4), batchSize, channelsLast, foldBatchNorm, streams);

    /// <summary>The <see cref="CellNetwork.Embedding"/> [n, <see cref="CellNetwork.EmbeddingSize"/>] of every sample of
    /// <paramref name="set"/>, in order, each image as it is (no test-time turns): the space a <c>FeatureEnvelope</c> is
    /// drawn in.</summary>
    public static float[,] Embeddings(CellNetwork model, SampleSet set, ColourNormalisation normalisation, int batchSize = DefaultBatch) =>
        Rows(model, set, normalisation, model.EmbeddingSize, model.Embedding, batchSize, channelsLast: true, foldBatchNorm: true, streams: 0);

    /// <summary>The embedding of <paramref name="count"/> inputs already normalised, as <see cref="ProbabilitiesOf"/> takes them.</summary>
    public static float[,] EmbeddingsOf(CellNetwork model, float[] inputs, int count, int batchSize = DefaultBatch) =>
        RowsOf(model, inputs, count, model.EmbeddingSize, model.Embedding, batchSize, channelsLast: true, foldBatchNorm: true, streams: 0);

    // One row of k numbers a sample from pass (softmax or embedding), batches on streams, each stream writing its own rows.
    private static float[,] Rows(CellNetwork model, SampleSet set, ColourNormalisation normalisation, int k, Func<Tensor, Tensor> pass, int batchSize, bool channelsLast,
                                 bool foldBatchNorm, int streams)
    {
        model.eval();
        var result = new float[set.Count, k];
        var device = model.parameters().First().device;
        streams = StreamsFor(model, batchSize, streams);
        // One batch waiting per stream, so that no stream idles while the loader's thread renders the next.
        var loader = new BatchLoader(set, normalisation, StreamBatch(batchSize, streams), seed: 0, shuffle: false, prefetch: Math.Max(2, streams));
        using var levers = Levers(model, channelsLast, foldBatchNorm);
        OnStreams(loader.Epoch(0), streams,
            batch =>
            {
                using var scope = NewDisposeScope();
                var (x, _) = batch.ToTensors(device);
                return pass(x).cpu().data<float>().ToArray();
            },
            (batch, p) =>
            {
                // Each batch writes only its own samples' rows: streams never share a row.
                for (int i = 0; i < batch.Count; i++)
                    for (int c = 0; c < k; c++) result[batch.Samples[i], c] = p[i * k + c];
            },
            batch => batch.Dispose());
        return result;
    }

    /// <summary>Softmax probabilities of <paramref name="count"/> inputs already normalised (count × 3 × 96 × 96
    /// floats, channel-first): for analyses that edit the input itself, such as occlusion.</summary>
    public static float[,] ProbabilitiesOf(CellNetwork model, float[] inputs, int count, int batchSize = DefaultBatch, bool testTimeD4 = false, bool channelsLast = true,
                                           bool foldBatchNorm = true, int streams = 0) =>
        RowsOf(model, inputs, count, model.Config.Classes, x => Softmax(model, x, testTimeD4), batchSize, channelsLast, foldBatchNorm, streams);

    private static float[,] RowsOf(CellNetwork model, float[] inputs, int count, int k, Func<Tensor, Tensor> pass, int batchSize, bool channelsLast,
                                   bool foldBatchNorm, int streams)
    {
        const int per = 3 * CellPatch.Size * CellPatch.Size;
        if (inputs.Length < (long)count * per) throw new ArgumentException($"{inputs.Length} floats cannot hold {count} images of {per}", nameof(inputs));
        model.eval();
        var result = new float[count, k];
        var device = model.parameters().First().device;
        using var levers = Levers(model, channelsLast, foldBatchNorm);
        streams = StreamsFor(model, batchSize, streams);
        batchSize = StreamBatch(batchSize, streams);
        var starts = Enumerable.Range(0, (count + batchSize - 1) / batchSize).Select(b => b * batchSize);
        OnStreams(starts, streams,
            first =>
            {
                int n = Math.Min(batchSize, count - first);
                using var scope = NewDisposeScope();
                var x = torch.empty([n, 3, CellPatch.Size, CellPatch.Size], ScalarType.Float32);
                inputs.AsSpan(first * per, n * per).CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(x.bytes));
                return pass(x.to(device)).cpu().data<float>().ToArray();
            },
            (first, p) =>
            {
                for (int i = 0; i < p.Length / k; i++)
                    for (int c = 0; c < k; c++) result[first + i, c] = p[i * k + c];
            });
        return result;
    }

    /// <summary>
    /// Forward passes that run at once: on the CPU, one single-threaded stream per intra-op thread, each taking whole
    /// batches; elsewhere one. Why: a 1/8-width network's convolutions have 8–64 channels, too little work per layer for
    /// oneDNN to split across two cores well; two batches side by side, one core each, keep both busy (the images a
    /// second either way, and end to end with `marrow bench --model DIR --data …`: docs/measurements.md, "Inference
    /// streams").
    /// </summary>
    /// <param name="requested">0: that default; otherwise the count asked for (1: one stream on every thread, as before).</param>
    public static int StreamsFor(Device device, int requested = 0)
    {
        if (requested < 0) throw new ArgumentOutOfRangeException(nameof(requested), $"streams {requested}: 0 (automatic) or more");
        if (device.type != DeviceType.CPU) return 1;
        return requested > 0 ? requested : Math.Max(1, get_num_threads());
    }

    /// <summary>
    /// The streams an automatic call runs for <paramref name="network"/> on batches of <paramref name="batchSize"/>
    /// cells: <see cref="StreamsFor(Device, int)"/>'s, unless a stream's share of the batch would make an activation
    /// larger than <see cref="StreamActivationBytes"/>; then one stream of every thread. Why: a stream's thread
    /// allocates from its own glibc arena, whose heaps hold at most 64 MB and are unmapped when emptied (<see
    /// cref="StreamBatch"/>), so a larger tensor is mapped and faulted in afresh every batch; and so wide a layer has
    /// work enough for oneDNN to split over the threads. The ResNet-18 of real-transfer (its stem 1 MiB a cell) takes one
    /// stream; the 1/8- and 1/4-width VGGs (14.7 and 29.5 MiB a stream) keep their two (docs/measurements.md,
    /// "Inference streams").
    /// </summary>
    /// <param name="requested">0: that choice; otherwise the count asked for, whatever the network.</param>
    public static int StreamsFor(CellNetwork network, int batchSize, int requested = 0)
    {
        int streams = StreamsFor(network.parameters().First().device, requested);
        if (requested > 0 || streams <= 1) return streams;
        long bytes = StreamBatch(batchSize, streams) * network.Config.WidestActivation() * sizeof(float);
        return bytes <= StreamActivationBytes ? streams : 1;
    }

    /// <summary>The largest activation a stream's batch may make and still run on streams: half of a glibc heap
    /// (64 MB), leaving room for the layer's input beside it.</summary>
    public const long StreamActivationBytes = 32L << 20;

    /// <summary>
    /// The batch each of <paramref name="streams"/> streams takes: an equal share of <paramref name="batchSize"/>, the
    /// cells in flight at once, so that memory in flight stays what the caller asked for. Why it matters beyond memory:
    /// a stream's thread allocates from its own glibc arena, whose heaps hold at most 64 MB and are unmapped when
    /// emptied, so a stream on batches of 100 cells at 1/8 width (tensors of 29.5 MB) faulted its pages in afresh every
    /// batch and ran no faster than one stream of two threads, while batches of 50 did (docs/measurements.md,
    /// "Inference streams").
    /// </summary>
    public static int StreamBatch(int batchSize, int streams)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batch size {batchSize}: at least 1");
        return streams <= 1 ? batchSize : Math.Max(1, (batchSize + streams - 1) / streams);
    }

    /// <summary>How forward passes on <paramref name="streams"/> streams run, for a report: "2 streams of 1 thread", "2 threads".</summary>
    public static string StreamsText(int streams) => streams > 1 ? $"{streams} streams of 1 thread" : $"{get_num_threads()} threads";

    // Each forward pass on a stream (TorchStreams: the same numbers for any number of streams above one), under the
    // collector's quiet region (TorchRuntime.Step).
    private static void OnStreams<T>(IEnumerable<T> work, int streams, Func<T, float[]> forward, Action<T, float[]> store, Action<T>? release = null) =>
        TorchStreams.Run(work, streams, (item, _) => store(item, TorchRuntime.Step(() => forward(item))), gradients: false, release, "inference stream");

    /// <summary>
    /// Switches the inference levers on for one call and back afterwards (the model's own engine, which a resumed
    /// training run reads, is restored, and a BatchNorm folded here is unfolded). Both compute the same function up to
    /// rounding (tested to 1e-4), and each was kept where `marrow bench` measured it:
    /// <list type="bullet">
    /// <item>Channels-last strides: `bench/run.sh` measured them 1.2–1.6× faster for inference at every width (1.62× at
    /// real-plus's quarter width, 1.23× at real's 1/8 width on 48-px input).</item>
    /// <item>BatchNorm folded into the convolutions (one pass over the activations fewer per layer): it matters where a
    /// layer's few channels make BatchNorm a memory-bound pass as long as the convolution's, at 1/8 width under AVX2,
    /// and not at quarter width under AVX-512 (docs/measurements.md, "Inference streams"). No
    /// forward-pass measurement found it slower, so always on.</item>
    /// </list>
    /// Not kept: bf16 (its rounding moves a softmax by about 1e-2, enough to change a borderline cell). Only CPU
    /// convolutions have a layout to choose. A network in training mode is never folded (its BatchNorm must learn).
    /// </summary>
    private static LeverRestorer Levers(CellNetwork model, bool channelsLast, bool foldBatchNorm)
    {
        var before = model.Engine;
        if (channelsLast && model.parameters().First().device_type == DeviceType.CPU) model.Engine = before | ConvolutionEngine.ChannelsLast;
        // Folded by a caller already (a benchmark): leave it to that caller.
        bool fold = foldBatchNorm && !model.training && !model.BatchNormFolded;
        if (fold) model.FoldBatchNorm();
        return new LeverRestorer(model, before, fold);
    }

    private readonly struct LeverRestorer(CellNetwork model, ConvolutionEngine before, bool unfold) : IDisposable
    {
        public void Dispose()
        {
            model.Engine = before;
            if (unfold) model.UnfoldBatchNorm();
        }
    }

    /// <summary>The softmax of a batch; with <paramref name="testTimeD4"/>, the mean softmax over the batch turned by each
    /// of the eight elements of D4 (four quarter turns, each with and without a mirror), the same group the AG training
    /// set is made of. Quarter turns and mirrors of a square image move pixels exactly, so nothing is interpolated.</summary>
    public static Tensor Softmax(CellNetwork model, Tensor x, bool testTimeD4)
    {
        if (!testTimeD4) return nn.functional.softmax(model.forward(x), 1);
        using var scope = NewDisposeScope();
        // Scalars held past their calls (a bare 8, or add_'s default alpha, would be a temporary: TorchRuntime.Step).
        using Scalar one = 1.ToScalar(), poses = 8.ToScalar();
        Tensor sum = zeros(x.shape[0], model.Config.Classes, device: x.device);
        for (int quarter = 0; quarter < 4; quarter++)
        {
            Tensor turned = quarter == 0 ? x : x.rot90(quarter, (2, 3));
            sum.add_(nn.functional.softmax(model.forward(turned), 1), one);
            sum.add_(nn.functional.softmax(model.forward(turned.flip(3)), 1), one);
        }
        return sum.div_(poses).MoveToOuterDisposeScope();
    }

    /// <summary>Index of the largest probability of each row.</summary>
    public static int[] ArgMax(float[,] probabilities) =>
        Enumerable.Range(0, probabilities.GetLength(0)).Select(i => Enumerable.Range(0, probabilities.GetLength(1)).MaxBy(c => probabilities[i, c])).ToArray();
}
