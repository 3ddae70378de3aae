using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Preparation;
using MarrowDiff.Training;

namespace MarrowDiff.Analysis;

/// <summary>
/// Notebook 06 and <c>marrow errors</c>: what a network thought about the cells it got wrong (softmax bars, most
/// confident first), where in the image its decision came from (occlusion), how far its predictions survive moving
/// and turning the crop (Fig 5B/C, compared between models), and whether its probabilities can be taken at face
/// value (reliability diagram, ECE). Built after training on cells that took no part in it. Its views (tables,
/// galleries, charts, the HTML report) are in <c>Reports.ErrorAnalysisViews</c>.
/// </summary>
public sealed class ErrorAnalysis
{
    public ErrorAnalysis(Predictions predictions, TrainedModel model, CellTiles tiles, IReadOnlyList<CellImage> cells, Provenance provenance, string caveat)
    {
        Predictions = predictions; Model = model; Tiles = tiles; Cells = cells; Provenance = provenance;
        Caveat = provenance.Synthetic ? $"{caveat}; synthetic data" : caveat;
    }

    public Predictions Predictions { get; }

    /// <summary>The network behind the predictions (a dual stage's global model), for occlusion.</summary>
    public TrainedModel Model { get; }
    public CellTiles Tiles { get; }

    /// <summary>The cells analysed (the test set), in the order of <see cref="Predictions"/>.</summary>
    public IReadOnlyList<CellImage> Cells { get; }
    public Provenance Provenance { get; }
    public string Caveat { get; }

    /// <summary>Occlusion maps of the <paramref name="max"/> most confident wrong cells.</summary>
    public IReadOnlyList<OcclusionMap> Occlusions(int max = 4, int window = 16, int stride = 8)
    {
        if (Model.Outputs.Count != Predictions.Classes.Count) throw new InvalidOperationException($"occlusion needs the model behind the predictions; {Model.Name} has {Model.Outputs.Count} outputs");
        return Predictions.Wrong.Take(max).Select(i => OcclusionMap.Compute(Model, Predictions.Set, i, null, window, stride)).ToList();
    }

    public Calibration Calibration() => Evaluation.Calibration.Of(Predictions);

    public IReadOnlyList<LocationInvariance> Location(IEnumerable<ICellClassifier> classifiers, IReadOnlyList<int>? distances = null) =>
        classifiers.Select(c => Invariance.Location(c, Tiles, Cells, distances)).ToList();

    public IReadOnlyList<RotationInvariance> Rotation(IEnumerable<ICellClassifier> classifiers) =>
        classifiers.Select(c => Invariance.Rotation(c, Tiles, Cells)).ToList();

    /// <summary>Another classifier's predictions on the same cells.</summary>
    public Predictions PredictionsOf(ICellClassifier classifier)
    {
        SampleSet set = Predictions.Set;
        return new Predictions(classifier.Name, set, classifier.Probabilities(set));
    }
}
