using MarrowDiff.Data;
using MarrowDiff.Model;
using MarrowDiff.Torch;
using MarrowDiff.Training;
using static TorchSharp.torch;

namespace MarrowDiff.Tests.Training;

public class FeatureEnvelopeTests
{
    // Rows of two Gaussian classes in d dimensions with correlated, unequal variances (as a network's features are).
    private static (float[,] Rows, int[] Labels) Draw(Random rng, int n, int d, double shift = 0)
    {
        var rows = new float[n, d];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = i % 2;
            double common = Normal(rng);
            for (int j = 0; j < d; j++)
                rows[i, j] = (float)((labels[i] == 0 ? 0 : 3) + (j + 1) * 0.5 * Normal(rng) + 2 * common + (j % 2 == 0 ? shift : -shift));
        }
        return (rows, labels);
    }

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    [Fact]
    public void CellsLikeTheTrainingCells_AreInsideAtItsQuantile_AndCellsFarFromThemOutside()
    {
        var rng = new Random(11);
        const int d = 12;
        var (training, labels) = Draw(rng, 3000, d);
        var (calibration, _) = Draw(rng, 2000, d);
        var envelope = FeatureEnvelope.Fit(training, labels, [CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil], calibration, "test draws", quantile: 0.95);
        Assert.Equal([CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil], envelope.Classes);

        // New draws of the same two classes: about 5% beyond the threshold (binomial sd 0.5% over 2,000).
        var (fresh, _) = Draw(rng, 2000, d);
        double outside = envelope.Distances(fresh).Count(envelope.IsOutside) / 2000.0;
        Assert.InRange(outside, 0.03, 0.07);
        // Cells of neither class (shifted 6 units up and down in turn, against the features' shared swing; about one sd of the
        // widest feature) lie outside almost all.
        var (far, _) = Draw(rng, 500, d, shift: 6);
        Assert.True(envelope.Distances(far).Count(envelope.IsOutside) > 0.9 * 500);
        // The shrinkage keeps the covariance invertible when rows are fewer than dimensions.
        var (few, fewLabels) = Draw(rng, 8, 40);
        Assert.True(FeatureEnvelope.Fit(few, fewLabels, [CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil], few, "few").Threshold > 0);
    }

    [Fact]
    public void ASavedEnvelope_ReadsBack_WithTheSameDistances_AndABrokenFileIsNamed()
    {
        var rng = new Random(5);
        var (training, labels) = Draw(rng, 400, 6);
        var envelope = FeatureEnvelope.Fit(training, labels, [CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil, CellClass.Lymphocyte], training, "training cells");
        // A class without a training row draws nothing: it is not in the envelope.
        Assert.Equal([CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil], envelope.Classes);
        string folder = Directory.CreateTempSubdirectory("envelope-").FullName;
        try
        {
            Assert.Null(FeatureEnvelope.TryLoad(folder));
            envelope.Save(folder);
            var back = FeatureEnvelope.TryLoad(folder)!;
            Assert.Equal(envelope.Threshold, back.Threshold);
            Assert.Equal(envelope.Distances(training), back.Distances(training));
            Assert.StartsWith("unlike the training cells: distance", back.Reason(back.Threshold + 1));
            File.WriteAllText(Path.Combine(folder, FeatureEnvelope.FileName), "{\"dimension\": 6}");
            var e = Assert.Throws<InvalidDataException>(() => FeatureEnvelope.TryLoad(folder));
            Assert.Contains(FeatureEnvelope.FileName, e.Message);
        }
        finally { Directory.Delete(folder, true); }
        Assert.Throws<ArgumentException>(() => FeatureEnvelope.Fit(training, labels, [CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil], new float[0, 6], "none"));
        Assert.Throws<ArgumentOutOfRangeException>(() => FeatureEnvelope.Fit(training, labels, [CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil], training, "q", quantile: 1));
    }

    /// <summary>The embedding is exactly what the last layer reads: applying that layer's weights to it gives the
    /// network's output, for both backbones.</summary>
    [Theory]
    [InlineData("vgg", "classifier.fc3")]
    [InlineData("resnet", "fc")]
    public void TheEmbedding_IsWhatTheLastLayerReads(string kind, string last)
    {
        TorchRuntime.Initialise();
        using CellNetwork net = kind == "vgg"
            ? new VggNet(new VggConfig(Width: 0.125, Classes: 5, ClassifierWidth: 64), 7)
            : CellNetwork.Create(new ResNetConfig(InputSize: 128, Classes: 5), 7, pretrained: false);
        net.eval();
        using var _ = no_grad();
        using var x = randn([3, 3, 96, 96], generator: new TorchSharp.torch.Generator(3));
        using var output = net.forward(x);
        using var embedding = net.Embedding(x);
        Assert.Equal([3L, net.EmbeddingSize], embedding.shape);
        var state = net.state_dict();
        using var again = nn.functional.linear(embedding, state[$"{last}.weight"], state[$"{last}.bias"]);
        Assert.True(allclose(output, again, rtol: 1e-5, atol: 1e-5), $"{kind}: largest difference {(output - again).abs().max().item<float>()}");
    }
}
