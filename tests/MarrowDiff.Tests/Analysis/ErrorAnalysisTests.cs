using MarrowDiff.Analysis;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Imaging;
using MarrowDiff.Model;
using MarrowDiff.Preparation;
using MarrowDiff.Reports;
using MarrowDiff.Tests.Preparation;
using MarrowDiff.Training;

namespace MarrowDiff.Tests.Analysis;

public class ErrorAnalysisTests(PreparedPhantomFixture fx) : IClassFixture<PreparedPhantomFixture>
{
    private IReadOnlyList<CellImage> Cells => fx.Prep.Split.Test;

    [Fact]
    public void LocationCurve_IsFlatForAnInvariantModel_AndFallsForAShiftSensitiveOne()
    {
        int[] distances = [0, 2, 4, 6, 8, 10];
        var invariant = Invariance.Location(RuleClassifier.Invariant, fx.Prep.Tiles, Cells, distances);
        var sensitive = Invariance.Location(RuleClassifier.ShiftSensitive, fx.Prep.Tiles, Cells, distances);
        var within = Invariance.Location(RuleClassifier.Within6Px, fx.Prep.Tiles, Cells, distances);

        Assert.Equal(distances, invariant.Points.Select(p => p.Distance));
        Assert.All(invariant.Points, p => { Assert.Equal(1.0, p.SamePrediction); Assert.Equal(1.0, p.Correct); });
        Assert.Equal(1.0, sensitive.Points[0].SamePrediction);
        Assert.All(sensitive.Points.Skip(1), p => Assert.Equal(0.0, p.SamePrediction));
        // Diagonal shifts are as long as axial ones: at 6 px the diagonal crop moves (4, 4), inside the 6-px disc.
        Assert.Equal([1.0, 1.0, 1.0, 1.0, 0.0, 0.0], within.Points.Select(p => p.SamePrediction));
        // Every point is over the same cells: one crop per cell at 0 px, eight per distance beyond.
        Assert.Equal(invariant.Cells, invariant.Points[0].Crops);
        Assert.All(invariant.Points.Skip(1), p => Assert.Equal(8 * invariant.Cells, p.Crops));
        Assert.Equal(Cells.Count, invariant.Cells + invariant.CellsLeftOut);
    }

    [Fact]
    public void LocationCurve_LeavesOutCellsWhoseImageIsTooSmall_AndRefusesDistancesBeyondEveryCell()
    {
        var curve = Invariance.Location(RuleClassifier.Invariant, fx.Prep.Tiles, Cells, [0, fx.Prep.Tiles.Settings.MaxShiftPx]);
        Assert.Equal(Cells.Count(c => fx.Prep.Tiles[c].Reach >= fx.Prep.Tiles.Settings.MaxShiftPx), curve.Cells);
        Assert.Throws<InvalidOperationException>(() => Invariance.Location(RuleClassifier.Invariant, fx.Prep.Tiles, Cells, [0, 40]));
        Assert.Throws<ArgumentException>(() => Invariance.Location(RuleClassifier.Invariant, fx.Prep.Tiles, Cells, [2, 4]));

        // Every phantom test cell reaches the full 12 px, so the leave-out rule is seen on other cells: a bare 96x96
        // patch cannot move at all (reach 0), a larger crop can move the full 12 px. At 4 px the bare patches are left out.
        string root = Directory.CreateTempSubdirectory("marrow-reach-").FullName;
        try
        {
            var rng = new MarrowDiff.Core.Rng(9);
            foreach (var (size, n) in new[] { (96, 3), (124, 4) })
                for (int i = 0; i < n; i++)
                {
                    var img = new RgbImage(size, size);
                    for (int k = 0; k < img.Pixels.Length; k++) img.Pixels[k] = (byte)rng.Next(0, 256);
                    img.SavePng(Path.Combine(root, "promyelocyte", $"s{size}-{i}.png"));
                }
            var crops = CellDatasetLoader.Load(root).PaperCells.ToList();
            var tiles = CellTiles.Build(crops, new OversamplingSettings());
            Assert.Equal([0, 0, 0, 12, 12, 12, 12], crops.Select(c => tiles[c].Reach).Order());
            var partial = Invariance.Location(RuleClassifier.Invariant, tiles, crops, [0, 4]);
            Assert.Equal(3, partial.CellsLeftOut);
            Assert.Equal(4, partial.Cells);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void RotationAgreement_IsOneForAPixelMultisetModel_AndFallsForAnOrientedOne()
    {
        var mean = Invariance.Rotation(RuleClassifier.MeanBrightness, fx.Prep.Tiles, Cells);
        Assert.Equal(1.0, mean.Agreement);
        Assert.Equal(1.0, mean.AllEight);
        Assert.All(mean.AgreementPerElement, a => Assert.Equal(1.0, a));

        var oriented = Invariance.Rotation(RuleClassifier.BrighterHalf, fx.Prep.Tiles, Cells);
        Assert.Equal(1.0, oriented.AgreementPerElement[0]); // the identity agrees with itself
        Assert.True(oriented.AgreementPerElement[2] < 0.1, $"rot180 swaps both halves, yet {oriented.AgreementPerElement[2]:P0} kept the answer");
        Assert.True(oriented.Agreement < 0.6 && oriented.AllEight < 0.1, $"agreement {oriented.Agreement:P0}, all eight {oriented.AllEight:P0}");
        Assert.Equal(Cells.Count, oriented.Cells);
    }

    [Fact]
    public void Calibration_HandComputedCase()
    {
        // 10 test cells, each given 0.9 for one class: the first 5 right, the last 5 wrong.
        var set = SampleSet.Original(fx.Prep.Tiles, Cells.Take(10).ToList(), "ten cells");
        var p = new float[10, 10];
        for (int i = 0; i < 10; i++)
        {
            int predicted = i < 5 ? set.Label(i) : (set.Label(i) + 1) % 10;
            p[i, predicted] = 0.9f;
            p[i, (predicted + 5) % 10] = 0.1f;
        }
        var predictions = new Predictions("hand-made", set, p);
        var calibration = Calibration.Of(predictions);
        var bin = Assert.Single(calibration.Bins, b => b.Count > 0);
        Assert.Equal(10, bin.Count);
        Assert.Equal(0.9, bin.MeanConfidence, 6);
        Assert.Equal(0.5, bin.Accuracy, 9);
        Assert.Equal(0.4, calibration.ExpectedCalibrationError, 6); // |0.5 − 0.9|, all cells in one bin
        Assert.Equal([5, 6, 7, 8, 9], predictions.Wrong.OrderBy(i => i));
        Assert.Equal(0.5, predictions.Metrics.Accuracy);
    }

    [Fact]
    public void Wrong_IsSortedByConfidence_MostConfidentFirst()
    {
        var set = SampleSet.Original(fx.Prep.Tiles, Cells.Take(4).ToList(), "four cells");
        var p = new float[4, 10];
        float[] confidence = [0.6f, 0.95f, 0.7f, 0.99f];
        for (int i = 0; i < 4; i++) { p[i, (set.Label(i) + 1) % 10] = confidence[i]; p[i, set.Label(i)] = 1 - confidence[i]; }
        var predictions = new Predictions("hand-made", set, p);
        Assert.Equal([3, 1, 2, 0], predictions.Wrong);
        var gallery = AnalysisFigures.GalleryHtml(predictions, predictions.Wrong, "test");
        Assert.Equal(4, System.Text.RegularExpressions.Regex.Matches(gallery.Html, "<img ").Count);
        // Readable with every style stripped (as GitHub shows a written copy): the bars are text, the roles are words.
        string unstyled = System.Text.RegularExpressions.Regex.Replace(gallery.Html, " style=\"[^\"]*\"", "");
        Assert.Equal(4, System.Text.RegularExpressions.Regex.Matches(unstyled, "\\(true\\)").Count);
        Assert.Equal(4, System.Text.RegularExpressions.Regex.Matches(unstyled, "\\(called\\)").Count);
        Assert.Contains(new string('\u2588', 20), unstyled); // cell 3's answer at 99%: a full bar
        Assert.Equal("", AnalysisFigures.TextBar(0));
        Assert.Equal("\u258f", AnalysisFigures.TextBar(0.01f));
        Assert.Equal(new string('\u2588', 10), AnalysisFigures.TextBar(0.5f));

        // Only the classes asked for get bars, and a cell's true and called classes always do.
        var few = AnalysisFigures.GalleryHtml(predictions, [3], "test", shownClasses: new HashSet<int> { 9 });
        int rows = System.Text.RegularExpressions.Regex.Matches(few.Html, "<tr>").Count;
        var expected = new HashSet<int> { 9, set.Label(3), (set.Label(3) + 1) % 10 };
        Assert.Equal(expected.Count, rows);
    }

    [Fact]
    public void Restrict_RelabelsThePairAndKeepsOnlyItsImages()
    {
        var set = fx.Prep.Build("AG+OS10");
        var pair = set.Restrict([CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil]);
        int bands = Enumerable.Range(0, set.Count).Count(i => set.Label(i) == 8), segs = Enumerable.Range(0, set.Count).Count(i => set.Label(i) == 9);
        Assert.Equal(bands + segs, pair.Count);
        Assert.Equal(bands, Enumerable.Range(0, pair.Count).Count(i => pair.Label(i) == 0));
        Assert.Equal(segs, Enumerable.Range(0, pair.Count).Count(i => pair.Label(i) == 1));
        Assert.All(Enumerable.Range(0, pair.Count), i => Assert.Contains(pair.CellOf(i).Label.Class!.Value, new[] { CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil }));
        Assert.Throws<ArgumentException>(() => set.Restrict([CellClass.BandNeutrophil, CellClass.BandNeutrophil]));
        Assert.Equal((CellClass.Myelocyte, CellClass.Metamyelocyte), CellTaxonomy.ParsePair("C7/c8"));
        Assert.Throws<ArgumentException>(() => CellTaxonomy.ParsePair("C9"));
        Assert.Throws<ArgumentException>(() => CellTaxonomy.ParsePair("C9/C11"));
    }

    [Fact]
    public void Occlusion_BaselineIsTheModelsOwnProbability()
    {
        // An untrained 1/8-width network is enough: the occlusion path (edited inputs) must see the image exactly as
        // the normal path (rendered samples) does.
        var config = new TrainingConfig(new VggConfig(Width: 0.125, InputSize: 48, FirstDropout: 0, Dropout: 0, ClassifierDropout: 0), new Hyperparameters(0.01, 0.9, 0, 0), 1);
        MarrowDiff.Torch.TorchRuntime.Initialise();
        MarrowDiff.Torch.TorchRuntime.Seed(3);
        using var network = new VggNet((VggConfig)config.Network);
        var set = SampleSet.Original(fx.Prep.Tiles, Cells.Take(3).ToList(), "three cells");
        var normalisation = set.Normalisation("test");
        using var model = new TrainedModel(network, normalisation, new ModelCard("OG", config, "smoke", "phantom", "", "", 3, null, "", true), []);
        float[,] direct = model.Probabilities(set);
        var map = OcclusionMap.Compute(model, set, 1, window: 32, stride: 16);
        int predicted = Enumerable.Range(0, 10).MaxBy(c => direct[1, c]);
        Assert.Equal(direct[1, predicted], map.Baseline, 5);
        Assert.Equal(CellTaxonomy.FromIndex(predicted), map.Class);
        Assert.Equal(96, map.Drop.GetLength(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => OcclusionMap.Compute(model, set, 0, window: 200));
    }
}
