using System.Text.Json.Serialization;

namespace MarrowDiff.Evaluation;

/// <summary>Precision, recall, F1 and support of one class.</summary>
public sealed record ClassMetrics(
    [property: JsonPropertyName("precision")] double Precision,
    [property: JsonPropertyName("recall")] double Recall,
    [property: JsonPropertyName("f1")] double F1,
    [property: JsonPropertyName("support")] int Support);

/// <summary>
/// The paper's evaluation (its equation 4) as pure functions of two label arrays. "Weighted" averages weight each
/// class by its support, which is how the paper's recall equals its accuracy; "macro" averages the classes present
/// in the truth equally, which is what an unbalanced differential count needs to be read fairly. A class that is
/// never predicted has precision 0 (no correct positive), as scikit-learn's zero_division=0.
/// </summary>
public sealed record ClassificationMetrics(
    double Accuracy, double MacroPrecision, double MacroRecall, double MacroF1,
    double WeightedPrecision, double WeightedRecall, double WeightedF1,
    IReadOnlyList<string> Classes, IReadOnlyList<ClassMetrics> PerClass, int[,] Confusion)
{
    /// <summary>Metrics of <paramref name="predicted"/> against <paramref name="truth"/>; labels index <paramref name="classes"/>.</summary>
    public static ClassificationMetrics From(IReadOnlyList<int> truth, IReadOnlyList<int> predicted, IReadOnlyList<string> classes)
    {
        if (truth.Count != predicted.Count) throw new ArgumentException($"{truth.Count} true labels but {predicted.Count} predictions");
        if (truth.Count == 0) throw new ArgumentException("no labels to evaluate");
        int k = classes.Count;
        var confusion = new int[k, k];
        for (int i = 0; i < truth.Count; i++)
        {
            if ((uint)truth[i] >= k || (uint)predicted[i] >= k) throw new ArgumentOutOfRangeException(nameof(truth), $"label {truth[i]} or {predicted[i]} outside 0…{k - 1}");
            confusion[truth[i], predicted[i]]++;
        }
        return FromConfusion(confusion, classes);
    }

    /// <summary>Metrics from a confusion matrix (rows: true class, columns: predicted class).</summary>
    public static ClassificationMetrics FromConfusion(int[,] confusion, IReadOnlyList<string> classes)
    {
        int k = classes.Count, n = 0, correct = 0;
        var per = new List<ClassMetrics>(k);
        for (int c = 0; c < k; c++)
        {
            int tp = confusion[c, c], support = 0, predicted = 0;
            for (int j = 0; j < k; j++) { support += confusion[c, j]; predicted += confusion[j, c]; }
            double precision = predicted == 0 ? 0 : (double)tp / predicted;
            double recall = support == 0 ? 0 : (double)tp / support;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            per.Add(new ClassMetrics(precision, recall, f1, support));
            n += support; correct += tp;
        }
        var present = per.Where(p => p.Support > 0).ToList();
        double Weighted(Func<ClassMetrics, double> f) => present.Sum(p => f(p) * p.Support) / n;
        return new ClassificationMetrics((double)correct / n,
            present.Average(p => p.Precision), present.Average(p => p.Recall), present.Average(p => p.F1),
            Weighted(p => p.Precision), Weighted(p => p.Recall), Weighted(p => p.F1), classes, per, confusion);
    }

    /// <summary>The JSON object of <c>marrow evaluate</c>: accuracy, macro_* and weighted_* averages, per_class
    /// (by class name) and the confusion matrix with its class order.</summary>
    public Dictionary<string, object> ToJsonObject() => new()
    {
        ["accuracy"] = Accuracy,
        ["macro_precision"] = MacroPrecision, ["macro_recall"] = MacroRecall, ["macro_f1"] = MacroF1,
        ["weighted_precision"] = WeightedPrecision, ["weighted_recall"] = WeightedRecall, ["weighted_f1"] = WeightedF1,
        ["per_class"] = Classes.Select((c, i) => (c, PerClass[i])).ToDictionary(x => x.c, x => x.Item2),
        ["confusion"] = new Dictionary<string, object>
        {
            ["classes"] = Classes,
            ["matrix"] = Enumerable.Range(0, Classes.Count).Select(r => Enumerable.Range(0, Classes.Count).Select(c => Confusion[r, c]).ToArray()).ToArray(),
        },
    };
}
