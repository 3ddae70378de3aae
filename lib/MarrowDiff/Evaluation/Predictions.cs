using MarrowDiff.Data;
using MarrowDiff.Model;
using MarrowDiff.Preparation;

namespace MarrowDiff.Evaluation;

/// <summary>
/// One classifier's softmax outputs on a set of cells, with the truth: what every error view reads. Column c of
/// <see cref="Probabilities"/> is the probability of <c>Set.Outputs[c]</c>, and <c>Set.Label(i)</c> is the true column.
/// </summary>
public sealed class Predictions
{
    public Predictions(string model, SampleSet set, float[,] probabilities)
    {
        if (probabilities.GetLength(0) != set.Count || probabilities.GetLength(1) != set.Outputs.Count)
            throw new ArgumentException($"{model}: {probabilities.GetLength(0)}x{probabilities.GetLength(1)} probabilities for {set.Count} images of {set.Outputs.Count} classes");
        Model = model; Set = set; Probabilities = probabilities;
        Predicted = Inference.ArgMax(probabilities);
        Truth = Enumerable.Range(0, set.Count).Select(set.Label).ToArray();
    }

    public string Model { get; }
    public SampleSet Set { get; }
    public float[,] Probabilities { get; }
    public int[] Predicted { get; }
    public int[] Truth { get; }
    public int Count => Set.Count;
    public IReadOnlyList<CellClass> Classes => Set.Outputs;

    public bool Correct(int i) => Predicted[i] == Truth[i];

    /// <summary>The probability of the predicted class: how sure the network was.</summary>
    public float Confidence(int i) => Probabilities[i, Predicted[i]];

    public float[] Row(int i) => Enumerable.Range(0, Classes.Count).Select(c => Probabilities[i, c]).ToArray();

    /// <summary>The misclassified cells, most confident first: the wrong answers the network was surest of lead.</summary>
    public IReadOnlyList<int> Wrong => Enumerable.Range(0, Count).Where(i => !Correct(i)).OrderByDescending(Confidence).ThenBy(i => i).ToList();

    public ClassificationMetrics Metrics => ClassificationMetrics.From(Truth, Predicted, Classes.Select(c => c.Label()).ToList());

    public IReadOnlyList<bool> CorrectFlags => Enumerable.Range(0, Count).Select(Correct).ToList();
}
