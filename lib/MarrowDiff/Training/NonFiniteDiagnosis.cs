using System.Globalization;
using static TorchSharp.torch;

namespace MarrowDiff.Training;

/// <summary>Why a training step produced a NaN or infinite value.</summary>
public enum NonFiniteCause
{
    /// <summary>The loss, the gradients or the weights were growing before the first non-finite value: the learning
    /// rate is too high for this network and data. Lowering it (or raising its decay) helps.</summary>
    Divergence,

    /// <summary>A non-finite value appeared from healthy ones: the loss was near its recent median, gradients and
    /// weights had not grown, inputs and weights were finite. The arithmetic itself went wrong (e.g. a faulty CPU
    /// kernel: docs/engine.md, "The AVX-512 fault"); the learning rate has nothing to do with it.</summary>
    NumericalFault,

    /// <summary>The input batch itself held NaN or ±∞ (a bad image, or a colour channel with zero spread).</summary>
    NonFiniteInput,
}

/// <summary>What the trainer found when a step went non-finite, and what to do about it.</summary>
/// <param name="Where">"loss" (the forward pass gave a non-finite loss) or "gradient" (the loss was finite, a
/// gradient of the backward pass was not; the weights were not updated with it).</param>
/// <param name="FirstNonFinite">The first tensor found non-finite, in the order input, weights, buffers, gradients
/// (e.g. "gradient of features.conv1.weight"); null when every tensor was finite (only the loss was not).</param>
/// <param name="Layer">The layer that tensor belongs to (e.g. "conv1"), when it is a weight, buffer or gradient.</param>
/// <param name="RecentLossMedian">Median loss of the last finite steps (up to <see cref="StepMonitor.Window"/>).</param>
/// <param name="Evidence">The numbers the cause was decided on, in words.</param>
public sealed record NonFiniteReport(NonFiniteCause Cause, string Model, int Epoch, int Step, double LearningRate, string Where, double Loss,
                                     string? FirstNonFinite, string? Layer, double RecentLossMedian, string Evidence)
{
    /// <summary>The message a person reads: what happened, where, which cause, and what to do.</summary>
    public string Message
    {
        get
        {
            string what = Where == "loss"
                ? $"the training loss became {Num(Loss)}"
                : $"a gradient became non-finite while the loss was {Num(Loss)}";
            string first = FirstNonFinite is null ? "" : $"; first non-finite tensor: {FirstNonFinite}{(Layer is null ? "" : $" (layer {Layer})")}";
            string head = $"{Model}: {what} at epoch {Epoch}, step {Step} (learning rate {LearningRate.ToString("G3", CultureInfo.InvariantCulture)}){first}. ";
            return head + Cause switch
            {
                NonFiniteCause.Divergence =>
                    $"Divergence: {Evidence}. Lower the learning rate or raise its decay.",
                NonFiniteCause.NumericalFault =>
                    $"A numerical fault, not divergence: {Evidence}. Lowering the learning rate will not help. " +
                    "Run `marrow doctor --selftest` to check this CPU's convolution kernels (docs/engine.md, \"The AVX-512 fault\"), and report its output.",
                NonFiniteCause.NonFiniteInput =>
                    $"The input batch holds NaN or infinite values: {Evidence}. Check the images and the colour normalisation " +
                    "(a channel with zero spread divides by zero).",
                _ => Evidence,
            };
        }
    }

    private static string Num(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}

/// <summary>Training stopped because a step produced a NaN or infinite loss or gradient. The weights were not updated
/// with it; the last good checkpoint (if any) is kept.</summary>
public sealed class NonFiniteTrainingException(NonFiniteReport report, string? checkpointNote = null)
    : Exception(report.Message + (checkpointNote is null ? "" : " " + checkpointNote))
{
    public NonFiniteReport Report { get; } = report;
}

/// <summary>
/// Keeps the recent history a diagnosis needs (losses and largest gradients of the last finite steps, the weights' norm
/// at the start of the run) and decides, when a step goes non-finite, between divergence and a numerical fault.
/// </summary>
internal sealed class StepMonitor
{
    /// <summary>Steps of history kept: enough for a stable median, short enough to follow the loss as it falls.</summary>
    public const int Window = 50;

    /// <summary>Growth that counts as divergence: the loss ×10 over its recent median, the largest gradient ×100 over
    /// its recent median, or the weights' norm ×10 over the start of the run. Normal SGD on this network moves by far
    /// less within 50 steps (its loss falls; its gradient norm stays within a factor of a few).</summary>
    public const double LossGrowth = 10, GradientGrowth = 100, WeightGrowth = 10;

    private readonly Queue<double> _losses = new(), _largestGradients = new();
    private readonly double _startWeightNorm;

    public StepMonitor(IReadOnlyList<(string Name, Tensor Parameter)> parameters) => _startWeightNorm = WeightNorm(parameters);

    /// <summary>Records a finite step: its loss and its largest gradient magnitude.</summary>
    public void Record(double loss, double largestGradient)
    {
        Push(_losses, loss);
        Push(_largestGradients, largestGradient);
    }

    private static void Push(Queue<double> q, double v)
    {
        q.Enqueue(v);
        if (q.Count > Window) q.Dequeue();
    }

    /// <summary>
    /// Diagnoses a step whose loss (<paramref name="largestGradients"/> null) or gradients went non-finite. Looks for the
    /// first non-finite tensor (input, then weights, buffers, gradients) and decides the cause from the growth of loss,
    /// gradients and weights before it.
    /// </summary>
    public NonFiniteReport Diagnose(string model, int epoch, int step, double rate, double loss, Tensor input,
                                    IReadOnlyList<(string Name, Tensor Parameter)> parameters, IEnumerable<(string Name, Tensor Buffer)> buffers,
                                    float[]? largestGradients)
    {
        string where = largestGradients is null ? "loss" : "gradient";
        double lossMedian = Median(_losses), gradientMedian = Median(_largestGradients);
        if (!Finite(input))
            return new(NonFiniteCause.NonFiniteInput, model, epoch, step, rate, where, loss, "input batch", null, lossMedian,
                       $"{input.isfinite().logical_not().sum().item<long>()} of {input.numel()} input values are not finite");

        string? first = null, layer = null;
        foreach (var (name, p) in parameters)
            if (!Finite(p)) { first = $"weights {name}"; layer = LayerOf(name); break; }
        if (first is null)
            foreach (var (name, b) in buffers)
                if (b.is_floating_point() && !Finite(b)) { first = $"buffer {name}"; layer = LayerOf(name); break; }
        if (first is null && largestGradients is not null)
            for (int i = 0; i < parameters.Count; i++)
                if (!float.IsFinite(largestGradients[i])) { first = $"gradient of {parameters[i].Name}"; layer = LayerOf(parameters[i].Name); break; }

        double weightGrowth = WeightNorm(parameters) / Math.Max(_startWeightNorm, 1e-30);
        double lastLoss = _losses.Count > 0 ? _losses.Last() : double.NaN;
        double lossNow = double.IsFinite(loss) ? loss : lastLoss;
        double lossGrowth = _losses.Count > 0 ? lossNow / Math.Max(lossMedian, 1e-30) : 1;
        double lastGradient = _largestGradients.Count > 0 ? _largestGradients.Last() : double.NaN;
        double gradientGrowth = _largestGradients.Count > 0 ? lastGradient / Math.Max(gradientMedian, 1e-30) : 1;

        var growing = new List<string>();
        if (lossGrowth > LossGrowth) growing.Add($"the loss grew to {G(lossNow)}, {G(lossGrowth)}x its median of the last {_losses.Count} steps ({G(lossMedian)})");
        if (gradientGrowth > GradientGrowth) growing.Add($"the largest gradient grew to {G(lastGradient)}, {G(gradientGrowth)}x its recent median ({G(gradientMedian)})");
        // The trainer never applies a non-finite gradient, so weights that are not finite overflowed in an update
        // (a finite gradient times the learning rate): that is divergence too.
        if (!double.IsFinite(weightGrowth)) growing.Add("the weights overflowed in the last update");
        else if (weightGrowth > WeightGrowth) growing.Add($"the weights' norm grew {G(weightGrowth)}x since the start of the run");
        if (growing.Count > 0)
            return new(NonFiniteCause.Divergence, model, epoch, step, rate, where, loss, first, layer, lossMedian, string.Join("; ", growing));

        string healthy = _losses.Count == 0
            ? "it was the run's first step"
            : $"the last finite loss was {G(lastLoss)} against a median of {G(lossMedian)} over the last {_losses.Count} steps, " +
              $"the largest gradient {G(lastGradient)} against {G(gradientMedian)}, the weights' norm {G(weightGrowth)}x its start";
        return new(NonFiniteCause.NumericalFault, model, epoch, step, rate, where, loss, first, layer, lossMedian,
                   $"the values jumped from healthy ones ({healthy}); inputs and weights finite");
    }

    private static bool Finite(Tensor t) => t.isfinite().all().item<bool>();

    private static double WeightNorm(IReadOnlyList<(string Name, Tensor Parameter)> parameters)
    {
        using var _ = no_grad();
        double sum = 0;
        foreach (var (_, p) in parameters)
        {
            using var n = p.detach().to(ScalarType.Float64).square().sum(); // square(), not pow(2): no temporary Scalar
            sum += n.item<double>();
        }
        return Math.Sqrt(sum);
    }

    /// <summary>"features.conv1.weight" → "conv1".</summary>
    private static string? LayerOf(string name) => name.Split('.') is { Length: >= 2 } parts ? parts[^2] : null;

    private static double Median(Queue<double> q)
    {
        if (q.Count == 0) return double.NaN;
        var sorted = q.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string G(double v) => v.ToString("G3", CultureInfo.InvariantCulture);
}
