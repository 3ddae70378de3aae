using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Training;

namespace MarrowDiff.Counting;

/// <summary>
/// Classifies the 96-px patches of cells found in fields: the global 10-class model, or the paper's dual stage when a
/// local 2-class model is given (a cell whose global top class is one of the local model's pair is decided between the
/// two by the local model, <see cref="DualStage.Combine"/>).
/// </summary>
public sealed class PatchClassifier
{
    public PatchClassifier(TrainedModel global, TrainedModel? local = null)
    {
        if (!global.Outputs.Any(k => k.IsStage()) || global.Outputs.Count < 3)
            throw new ArgumentException($"{global.Folder}: the counting model must name the maturation stages; it answers {string.Join(", ", global.Outputs.Select(k => k.Code()))} (a local model?)");
        if (local is not null && local.Outputs.Count != 2) throw new ArgumentException($"{local.Folder}: a local model has 2 outputs, it has {local.Outputs.Count}");
        if (local is not null && local.Outputs.Any(k => !global.Outputs.Contains(k)))
            throw new ArgumentException($"{local.Folder}: the local model decides {local.Outputs[0].Code()}/{local.Outputs[1].Code()}, which the global model {global.Folder} does not both answer");
        Global = global; Local = local;
    }

    public TrainedModel Global { get; }
    public TrainedModel? Local { get; }

    public string Name => Local is null ? Global.Name : $"dual-stage ({Global.Card.Variant} + local {Local.Outputs[0].Code()}/{Local.Outputs[1].Code()})";

    /// <summary>What each column of <see cref="Probabilities"/> is: the global model's outputs.</summary>
    public IReadOnlyList<CellClass> Outputs => Global.Outputs;

    /// <summary>The global model's envelope of its training cells, if it has one (<c>marrow envelope</c>).</summary>
    public FeatureEnvelope? Envelope => Global.Envelope;

    /// <summary>For each patch, why it lies outside the global model's <see cref="Envelope"/>, or null (every one
    /// null without an envelope).</summary>
    public string?[] Unlike(IReadOnlyList<RgbImage> patches)
    {
        if (Envelope is not { } envelope || patches.Count == 0) return new string?[patches.Count];
        var embeddings = Global.PatchEmbeddings(patches);
        return [.. Enumerable.Range(0, patches.Count).Select(i => envelope.Distance(embeddings, i) is var d && envelope.IsOutside(d) ? envelope.Reason(d) : null)];
    }

    /// <summary>Probabilities [patches, <see cref="Outputs"/>].</summary>
    public float[,] Probabilities(IReadOnlyList<RgbImage> patches)
    {
        float[,] global = Global.PatchProbabilities(patches);
        if (Local is not { } local || patches.Count == 0) return global;
        var columns = Global.Outputs.ToList();
        return DualStage.Route(global, columns.IndexOf(local.Outputs[0]), columns.IndexOf(local.Outputs[1]),
                               routed => local.PatchProbabilities([.. routed.Select(i => patches[i])]), out _);
    }
}
