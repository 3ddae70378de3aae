using System.Globalization;
using MarrowDiff.Model;
using MarrowDiff.Torch;
using MarrowDiff.Training;

namespace MarrowDiff.Experiments;

/// <summary>A profile's settings in words, made from its values: what a reader of <c>profile.json</c>, a notebook or
/// <c>--help</c> needs to know which network was trained on what, how, and which protocol made the classifier.</summary>
public static class ProfileDescription
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <param name="settings">The table of settings whose own phrases are added (<see cref="ProfileSettings.All"/>).</param>
    public static string Settings(ExperimentProfile p, IReadOnlyList<ProfileSetting>? settings = null)
    {
        var parts = new List<string>
        {
            Network(p.Network),
            Epochs(p),
            $"OS {p.OversampleTo.Low}/{p.OversampleTo.High}" + (p.TrainingSet is { } set ? $", the classifier trained on {set}" : ""),
            Optimiser(p),
        };
        if (p.Refinements is { } r) parts.Add(Refinements(r));
        parts.Add(Protocol(p));
        if (p.Engine != ConvolutionEngine.Default)
            parts.Add("convolutions trained " + p.Engine switch { ConvolutionEngine.BFloat16 => "in bf16", ConvolutionEngine.ChannelsLast => "channels-last", _ => "in bf16, channels-last" });
        if (p.SideBySide) parts.Add("models train side by side, one thread each");
        parts.AddRange((settings ?? ProfileSettings.All).Select(s => s.Describe?.Invoke(p)).OfType<string>());
        return string.Join("; ", parts);
    }

    public static string Network(NetworkConfig n)
    {
        string input = n.InputSize == 96 ? "at 96x96"
            : n.InputSize < 96 ? $"on 96x96 patches average-pooled to {n.InputSize}x{n.InputSize}"
            : $"on 96x96 patches resized to {n.InputSize}x{n.InputSize}";
        if (n is not VggConfig vgg)
            return $"ImageNet-pretrained ResNet-18 fine-tuned {input}" + (n.ClassifierDropout > 0 ? $", dropout {Num(n.ClassifierDropout)} before its classifier" : "");
        string width = vgg.Width == 1 ? "full-width" : 1 / vgg.Width is var k && Math.Abs(k - Math.Round(k)) < 1e-9 ? $"1/{Math.Round(k)}-width" : $"{Num(vgg.Width)}-width";
        string dropout = vgg.FirstDropout == 0 && vgg.Dropout == 0
            ? vgg.ClassifierDropout == 0 ? " without dropout" : $", no dropout in the convolutions, {Num(vgg.ClassifierDropout)} in the classifier"
            : $", dropout {Num(vgg.FirstDropout)}/{Num(vgg.Dropout)} in the convolutions and {Num(vgg.ClassifierDropout)} in the classifier";
        return $"{width} VGG-{vgg.Depth}-BN{(vgg.GlobalPool ? " with global average pooling" : "")} {input}{dropout}";
    }

    private static string Epochs(ExperimentProfile p) => p.EqualSteps is { } steps
        ? $"about {steps.ToString("N0", Inv)} SGD steps for every model of Table 1 and the local model (the epochs that come closest), batch {p.BatchSize}"
        : $"{p.Epochs} epoch{(p.Epochs == 1 ? "" : "s")}" + (p.LocalModelEpochs != p.Epochs ? $" (local model {p.LocalModelEpochs})" : "") + $", batch {p.BatchSize}";

    private static string Optimiser(ExperimentProfile p)
    {
        if (p.Grid.Count > 1)
            return $"SGD, {p.Grid.Count} hyper-parameter sets (learning rates {string.Join(", ", p.Grid.Select(h => h.LearningRate).Distinct().Select(Num))}) " +
                   $"searched by 5-fold cross-validation of {p.CrossValidationEpochs} epochs on {p.CrossValidationVariant}";
        var h = p.Grid[0];
        string text = $"SGD lr {Num(h.LearningRate)}, momentum {Num(h.Momentum)}, weight decay {Num(h.WeightDecay)}";
        if (p.LocalLearningRate is { } local) text += $" (local model lr {Num(local)})";
        return text;
    }

    private static string Refinements(Refinements refinements)
    {
        var (r, a, i) = (refinements.Optimisation, refinements.Augmentation, refinements.Inference);
        var parts = new List<string>
        {
            r.Schedule == LearningRateSchedule.Cosine ? "warm-up and cosine decay" : "the paper's lr decay",
        };
        if (r.LabelSmoothing > 0) parts.Add($"label smoothing {Num(r.LabelSmoothing)}");
        if (a.StainJitter > 0) parts.Add($"stain jitter {Num(a.StainJitter)}");
        if (a.Mixup > 0) parts.Add($"mixup α {Num(a.Mixup)}");
        if (a.Rotation) parts.Add("every image turned by its own random angle each epoch");
        if (r.ClassifierRate is { } c) parts.Add($"the new classifier at {Num(c)}x the rate");
        parts.Add(i.TestTimeD4 ? "test-time D4 (8 passes a cell)" : "one pass a cell");
        return string.Join(", ", parts);
    }

    private static string Protocol(ExperimentProfile p)
    {
        string local = p.LocalFromGlobal ? "; the local band/segmented model starts from the global model" : "";
        return p.Protocol switch
        {
            Experiments.Protocol.Search when p.Grid.Count > 1 => "the chosen hyper-parameters train one model per training set" + local,
            Experiments.Protocol.Search => "one model per training set, no search" + local,
            Experiments.Protocol.FoldEnsemble => $"the {p.EnsembleFolds} fold models are the cross-validation and answer together" + local,
            _ => $"{p.EnsembleFolds}-fold cross-validation, then the classifier: one more model on all five folds" + local,
        };
    }

    private static string Num(double v) => v.ToString("0.#####", Inv);
}
