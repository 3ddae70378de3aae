using MarrowDiff.Evaluation;

namespace MarrowDiff.Tests.Evaluation;

public class MetricsTests
{
    private static readonly string[] Classes = ["A", "B", "C"];

    [Fact]
    public void Metrics_MatchAHandComputedConfusionMatrix()
    {
        // rows = true, columns = predicted
        //        A  B  C
        //   A    5  1  0     support 6
        //   B    2  3  1     support 6
        //   C    0  0  0     support 0 (absent from the truth)
        int[] truth = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
        int[] predicted = [0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 2];
        var m = ClassificationMetrics.From(truth, predicted, Classes);
        Assert.Equal(5, m.Confusion[0, 0]); Assert.Equal(1, m.Confusion[0, 1]); Assert.Equal(2, m.Confusion[1, 0]); Assert.Equal(1, m.Confusion[1, 2]);
        Assert.Equal(8.0 / 12, m.Accuracy, 12);
        // A: precision 5/7, recall 5/6; B: precision 3/4, recall 3/6; C: predicted once, never true → not in the averages.
        double pA = 5.0 / 7, rA = 5.0 / 6, pB = 3.0 / 4, rB = 0.5;
        double fA = 2 * pA * rA / (pA + rA), fB = 2 * pB * rB / (pB + rB);
        Assert.Equal(pA, m.PerClass[0].Precision, 12); Assert.Equal(rA, m.PerClass[0].Recall, 12); Assert.Equal(fA, m.PerClass[0].F1, 12);
        Assert.Equal(pB, m.PerClass[1].Precision, 12); Assert.Equal(rB, m.PerClass[1].Recall, 12);
        Assert.Equal(0, m.PerClass[2].Precision); Assert.Equal(0, m.PerClass[2].Support);
        Assert.Equal((pA + pB) / 2, m.MacroPrecision, 12);
        Assert.Equal((rA + rB) / 2, m.MacroRecall, 12);
        Assert.Equal((fA + fB) / 2, m.MacroF1, 12);
        Assert.Equal((pA * 6 + pB * 6) / 12, m.WeightedPrecision, 12);
        Assert.Equal(m.Accuracy, m.WeightedRecall, 12); // the paper's recall equals its accuracy
        Assert.Equal((fA * 6 + fB * 6) / 12, m.WeightedF1, 12);
    }

    [Fact]
    public void Json_HasTheDocumentedKeys()
    {
        var json = ClassificationMetrics.From([0, 1, 2], [0, 1, 1], Classes).ToJsonObject();
        foreach (string key in new[] { "accuracy", "macro_precision", "macro_recall", "macro_f1", "weighted_precision", "weighted_recall", "weighted_f1", "per_class", "confusion" })
            Assert.True(json.ContainsKey(key), key);
        string text = System.Text.Json.JsonSerializer.Serialize(json);
        Assert.Contains("\"per_class\":{\"A\":{\"precision\":1,\"recall\":1,\"f1\":1,\"support\":1}", text);
        Assert.Contains("\"confusion\":{\"classes\":[\"A\",\"B\",\"C\"],\"matrix\":[[1,0,0],[0,1,0],[0,1,0]]}", text);
    }

    [Fact]
    public void BadInput_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.From([0], [0, 1], Classes));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClassificationMetrics.From([3], [0], Classes));
    }
}
