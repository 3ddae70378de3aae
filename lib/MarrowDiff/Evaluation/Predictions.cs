using MarrowDiff.Data;
using MarrowDiff.Model;
using MarrowDiff.Preparation;

namespace MarrowDiff.Evaluation;

/// <summary>
/// A classifier's answers (<see cref="CellPredictions"/>, the one form answers are kept, saved and tabulated in) together
/// with the images they were given, for the views that show a cell: galleries of wrong cells, occlusion maps. Column c
/// of <see cref="Probabilities"/> is the probability of <c>Set.Outputs[c]</c>, and <c>Set.Label(i)</c> is the true column.
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
        Answers = new CellPredictions(model, Classes, Enumerable.Range(0, Count).Select(i =>
        {
            var cell = set.CellOf(i);
            return new PredictedCell(cell.CellId, cell.Source, Classes[Truth[i]], Classes[Predicted[i]], Row(i));
        }).ToList());
    }

    /// <summary>Saved answers joined again with the images of their cells (<paramref name="set"/>: the same cells, in the
    /// same order, restricted to the same outputs), under the model's name in <paramref name="model"/> if given.</summary>
    /// <exception cref="InvalidDataException">The set holds other cells, in another order, or other outputs.</exception>
    public static Predictions Of(CellPredictions answers, SampleSet set, string? model = null)
    {
        if (set.Count != answers.Count || !set.Outputs.SequenceEqual(answers.Outputs))
            throw new InvalidDataException($"{answers.Model}: {answers.Count} saved answers over {answers.Outputs.Count} outputs, but {set.Count} images over {set.Outputs.Count}");
        var probabilities = new float[answers.Count, answers.Outputs.Count];
        for (int i = 0; i < answers.Count; i++)
        {
            if (set.CellOf(i).CellId != answers.Cells[i].Cell)
                throw new InvalidDataException($"{answers.Model}: saved answer {i + 1} is of cell {answers.Cells[i].Cell}, the image of {set.CellOf(i).CellId}");
            for (int k = 0; k < answers.Outputs.Count; k++) probabilities[i, k] = answers.Cells[i].Probabilities[k];
        }
        return new Predictions(model ?? answers.Model, set, probabilities);
    }

    /// <summary>The answers without the images: what is saved, tabulated and compared.</summary>
    public CellPredictions Answers { get; }

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
