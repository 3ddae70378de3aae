using MarrowDiff.Training;
using MarrowDiff.Torch;
using MarrowDiff.Reports;
using MarrowDiff.Evaluation;
using MarrowDiff.Model;
using static TorchSharp.torch;

namespace MarrowDiff.Tests.Training;

public class NetworkTests
{
    [Fact]
    public void FullNetwork_For96px_HasThePapersShapeAndParameterCount()
    {
        TorchRuntime.Initialise();
        using var net = new VggNet(new NetworkConfig());
        net.eval();
        using var x = randn(2, 3, 96, 96);
        using var y = net.forward(x);
        Assert.Equal([2L, 10], y.shape);

        // Counted by hand from the VGG-16 plan: 13 convolutions 3x3 with bias, 13 batch norms (scale and shift),
        // then 3x3x512 → 512 → 512 → 10.
        int[] plan = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512];
        long conv = 0, bn = 0;
        int inC = 3;
        foreach (int c in plan) { conv += 9L * inC * c + c; bn += 2L * c; inC = c; }
        long fc = (3 * 3 * 512 * 512 + 512) + (512 * 512 + 512) + (512 * 10 + 10);
        Assert.Equal(conv + bn + fc, net.ParameterCount);
        Assert.Equal(17_350_730L, net.ParameterCount);
    }

    [Theory]
    [InlineData(0.125, 48, 1)]
    [InlineData(0.25, 64, 2)]
    [InlineData(0.125, 128, 4)]
    public void Classifier_IsSizedFromTheInput(double width, int input, int side)
    {
        TorchRuntime.Initialise();
        var config = new NetworkConfig(Width: width, InputSize: input, Classes: 2);
        Assert.Equal(side, config.FeatureSide);
        using var net = new VggNet(config);
        net.eval();
        using var x = randn(3, 3, input, input);
        using var y = net.forward(x);
        Assert.Equal([3L, 2], y.shape);
        // A 96-px patch is average-pooled to a smaller input size, never cropped.
        if (96 % input == 0)
        {
            using var patch = randn(1, 3, 96, 96);
            using var out96 = net.forward(patch);
            Assert.Equal([1L, 2], out96.shape);
        }
    }

    [Fact]
    public void BadConfigs_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkConfig(InputSize: 16).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkConfig(Width: 0).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkConfig(Dropout: 1).Validate());
    }
}

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

public class Table1Tests
{
    [Theory]
    [InlineData(0.5, 100, "40.38-59.62")]
    [InlineData(1.0, 39, "91.03-100.00")]
    public void WilsonInterval_MatchesHandComputedValues(double p, int n, string expected) =>
        Assert.Equal(expected, Table1Views.WilsonText(p, n));
}
