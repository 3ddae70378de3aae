using System.Text.Json;
using MarrowDiff.Preparation;
using MarrowDiff.Tests.Preparation;
using MarrowDiff.Training;

namespace MarrowDiff.Tests.Training;

public class ExperimentTests(PreparedPhantomFixture fx) : IClassFixture<PreparedPhantomFixture>
{
    /// <summary>The smoke profile cut to seconds: one epoch, one learning rate, N = 5 and 10.</summary>
    private static ExperimentProfile Tiny => ExperimentProfile.Smoke.With("epochs", "1").With("cv_epochs", "1").With("lr", "0.01")
                                                                    .With("oversample", "5,10").With("cv_variant", "OS10");

    [Fact]
    public async Task TestSet_IsUntouchedUntilTheFinalEvaluation_ModelsAreCached_AndEvaluateWritesMetrics()
    {
        string models = Path.Combine(fx.Root, "models");
        var experiment = new Experiment(fx.Prep, Tiny, models);
        var testTiles = fx.Prep.Split.Test.Select(c => fx.Prep.Tiles[c]).ToList();

        var cv = experiment.CrossValidate();
        Assert.Single(cv.Rows);
        Assert.Equal(SplitOptions.Folds, cv.Rows[0].FoldAccuracy.Length);
        var trained = experiment.TrainAll(cv);
        Assert.Equal(["OG", "AG", "OS5", "OS10", "AG+OS5", "AG+OS10"], trained.Select(m => m.Card.Variant));
        Assert.All(testTiles, t => Assert.True(t.Renders == 0, $"test cell {t.Cell.CellId} was read before the final evaluation"));

        var table = experiment.Evaluate(trained);
        Assert.All(testTiles, t => Assert.True(t.Renders > 0));
        Assert.Equal(fx.Prep.Split.Test.Count, table.TestImages);
        Assert.Equal(6, table.Rows.Count);
        Assert.Contains("smoke", table.Markdown());
        Assert.Contains("not comparable to the paper", table.Markdown());
        Assert.Contains("95.68", table.Csv()); // the paper's AG+OS600 accuracy beside ours

        // A second experiment with the same settings reuses every model.
        var again = new Experiment(fx.Prep, Tiny, models);
        using (var cached = again.Train(fx.Prep.Variant("OS10"), cv.Chosen))
            Assert.Contains(again.Log, l => l.Contains("cached", StringComparison.Ordinal));
        // A changed setting trains afresh (another cache key).
        var other = new Experiment(fx.Prep, Tiny.With("epochs", "2"), models);
        using (var fresh = other.Train(fx.Prep.Variant("OG"), cv.Chosen))
            Assert.Equal(2, fresh.History.Count);

        // `marrow evaluate` on the test part gives the table's accuracy, with the documented keys.
        var og = trained[0];
        string json = Path.Combine(fx.Root, "og-metrics.json");
        int code = await MarrowDiff.Cli.Program.Main(["evaluate", "--model", og.Folder!, "--data", fx.Dataset.Root, "--part", "test", "--out", json]);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        foreach (string key in new[] { "accuracy", "macro_precision", "macro_recall", "macro_f1", "weighted_precision", "weighted_recall", "weighted_f1", "per_class", "confusion" })
            Assert.True(doc.RootElement.TryGetProperty(key, out _), key);
        Assert.Equal(table.Rows[0].Metrics.Accuracy, doc.RootElement.GetProperty("accuracy").GetDouble(), 9);
        foreach (var m in trained) m.Dispose();
    }

    [Fact]
    public void Profiles_AreValidatedOverridesOfOneRecord()
    {
        Assert.True(ExperimentProfile.Paper.ComparableToPaper);
        Assert.Equal(150, ExperimentProfile.Paper.Epochs);
        Assert.Equal(40, ExperimentProfile.Paper.BatchSize);
        Assert.Equal((300, 600), ExperimentProfile.Paper.OversampleTo);
        Assert.Equal(1.0, ExperimentProfile.Paper.Network.Width);
        Assert.False(ExperimentProfile.Smoke.ComparableToPaper);
        Assert.False(ExperimentProfile.Paper.With("epochs", "20").ComparableToPaper);
        Assert.Throws<ArgumentException>(() => ExperimentProfile.Smoke.With("colour", "blue"));
        Assert.Throws<ArgumentException>(() => ExperimentProfile.Smoke.With("oversample", "600,300"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ExperimentProfile.Smoke.With("width", "-1"));
        Assert.Contains("\"epochs\": 10", ExperimentProfile.Smoke.ToJson());
    }
}
