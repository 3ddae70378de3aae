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
        if (global.Outputs.Count != CellTaxonomy.All.Count) throw new ArgumentException($"{global.Folder}: the counting model must have the 10 outputs C1…C10, it has {global.Outputs.Count}");
        if (local is not null && local.Outputs.Count != 2) throw new ArgumentException($"{local.Folder}: a local model has 2 outputs, it has {local.Outputs.Count}");
        Global = global; Local = local;
    }

    public TrainedModel Global { get; }
    public TrainedModel? Local { get; }

    public string Name => Local is null ? Global.Name : $"dual-stage ({Global.Card.Variant} + local {Local.Outputs[0].Code()}/{Local.Outputs[1].Code()})";

    /// <summary>Probabilities [patches, C1…C10].</summary>
    public float[,] Probabilities(IReadOnlyList<RgbImage> patches)
    {
        float[,] global = Global.PatchProbabilities(patches);
        if (Local is not { } local || patches.Count == 0) return global;
        return DualStage.Route(global, local.Outputs[0].Index(), local.Outputs[1].Index(),
                               routed => local.PatchProbabilities([.. routed.Select(i => patches[i])]), out _);
    }
}
