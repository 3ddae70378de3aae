using System.Text.Json;
using MarrowDiff.Data;
using MarrowDiff.Experiments;
using MarrowDiff.Model;
using MarrowDiff.Preparation;
using MarrowDiff.Reports;
using MarrowDiff.Tests.Preparation;
using MarrowDiff.Torch;
using MarrowDiff.Training;

namespace MarrowDiff.Tests.Experiments;

public class ExperimentTests(PreparedPhantomFixture fx) : IClassFixture<PreparedPhantomFixture>
{
    /// <summary>The smoke profile cut to seconds: one epoch, one learning rate, N = 5 and 10; the fixture's seed.</summary>
    private ExperimentProfile Tiny => ExperimentProfile.Smoke.WithSeed(fx.Prep.Provenance.Seed).With("epochs", "1").With("local_epochs", "1").With("cv_epochs", "1").With("lr", "0.01")
                                                                    .With("oversample", "5,10").With("cv_variant", "OS10");

    /// <summary>A description is made from the values, so an override shows in it and no profile's words can drift from
    /// its settings; only the purpose sentence is written by hand.</summary>
    [Fact]
    public void EveryProfilesDescription_FollowsItsValues_AndAnOverride()
    {
        foreach (var p in ExperimentProfile.All)
        {
            Assert.StartsWith($"{p.Caveat}. {p.Purpose} ", p.Description);
            Assert.Contains($"{p.Epochs} epoch", p.Description);
            Assert.Contains($"OS {p.OversampleTo.Low}/{p.OversampleTo.High}", p.Description);
            Assert.Contains(p.Network is VggConfig v ? $"VGG-{v.Depth}-BN" : "ResNet-18", p.Description);
        }
        Assert.Contains("1/8-width VGG-16-BN on 96x96 patches average-pooled to 48x48 without dropout; 10 epochs (local model 50), batch 40", ExperimentProfile.Smoke.Description);
        Assert.Contains("searched by 5-fold cross-validation of 5 epochs on OS60", ExperimentProfile.Smoke.Description);
        Assert.Contains("ImageNet-pretrained ResNet-18 fine-tuned on 96x96 patches resized to 128x128", ExperimentProfile.RealTransferOs.Description);
        Assert.Contains("the classifier trained on OS480", ExperimentProfile.RealTransferOs.Description);
        Assert.Contains("one pass a cell", ExperimentProfile.RealTransferOs.Description);
        Assert.Contains("test-time D4 (8 passes a cell)", ExperimentProfile.RealTransfer.Description);
        Assert.Contains("5-fold cross-validation, then the classifier: one more model on all five folds", ExperimentProfile.RealFast.Description);
        Assert.Contains("the 5 fold models are the cross-validation and answer together", ExperimentProfile.RealLite.Description);
        Assert.Contains("convolutions trained channels-last", ExperimentProfile.RealPlus.Description);
        Assert.Contains("models train side by side", ExperimentProfile.RealTable1.Description);

        var longer = ExperimentProfile.Smoke.With("epochs", "12");
        Assert.StartsWith("smoke+epochs=12 profile: not comparable to the paper. ", longer.Description);
        Assert.Contains("12 epochs (local model 50)", longer.Description);
        Assert.DoesNotContain("10 epochs", longer.Description);
        Assert.Contains("Full-width VGG-13-BN", ExperimentProfile.Paper.With("depth", "13").Description);
    }

    [Fact]
    public void AProfileWithAnotherSeed_IsRefused_NamingBoth()
    {
        var e = Assert.Throws<ArgumentException>(() => new Experiment(fx.Prep, Tiny.WithSeed(fx.Prep.Provenance.Seed + 1), Path.Combine(fx.Root, "models-refused")));
        Assert.Contains($"seed {fx.Prep.Provenance.Seed + 1}", e.Message);
        Assert.Contains($"seed {fx.Prep.Provenance.Seed}", e.Message);
    }

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

        // The dual stage's local model: 2 outputs, trained on AG+OS10's band and segmented images only, and it
        // does not read the test set either.
        CellClass band = CellClass.BandNeutrophil, seg = CellClass.SegmentedNeutrophil;
        using (var local = experiment.TrainLocal(fx.Prep.Variant("AG+OS10"), cv.Chosen, band, seg))
        {
            Assert.Equal(2, local.Network.Config.Classes);
            Assert.Equal([band, seg], local.Outputs);
            var global = fx.Prep.Build("AG+OS10", Tiny.ValidationFold);
            Assert.Equal(Enumerable.Range(0, global.Count).Count(i => global.Label(i) >= 8), local.Card.TrainingImages);
        }
        Assert.All(testTiles, t => Assert.True(t.Renders == 0, $"test cell {t.Cell.CellId} was read by the local model's training"));

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
        // Each score with its 95% interval, around it: Wilson's for accuracy, a seeded bootstrap over cells for macro F1.
        foreach (var (key, interval) in new[] { ("accuracy", "accuracy_ci95_wilson"), ("macro_f1", "macro_f1_ci95_bootstrap") })
        {
            double[] ci = [.. doc.RootElement.GetProperty(interval).EnumerateArray().Select(e => e.GetDouble())];
            Assert.Equal(2, ci.Length);
            Assert.InRange(doc.RootElement.GetProperty(key).GetDouble(), ci[0], ci[1]);
            Assert.True(ci[1] - ci[0] > 0.01, $"{interval}: [{ci[0]}, {ci[1]}] on {table.Rows[0].Metrics.Confusion.Cast<int>().Sum()} cells is too narrow");
        }

        // The dual stage (Fig 7): the local model comes from the cache; only cells the global model put in the pair
        // can change, and only within the pair; McNemar counts the discordant cells.
        using var localAgain = experiment.TrainLocal(fx.Prep.Variant("AG+OS10"), cv.Chosen, band, seg);
        Assert.Contains(experiment.Log, l => l.Contains("local-C9-C10-AG+OS10: cached", StringComparison.Ordinal));
        var comparison = experiment.CompareDualStage(trained[5], localAgain);
        Assert.Equal(table.Rows[5].Metrics.Accuracy, comparison.Global.Metrics.Accuracy, 12);
        for (int i = 0; i < comparison.Global.Count; i++)
        {
            if (comparison.Global.Predicted[i] < 8) Assert.Equal(comparison.Global.Predicted[i], comparison.Dual.Predicted[i]);
            else Assert.InRange(comparison.Dual.Predicted[i], 8, 9);
            float sum = Enumerable.Range(0, 10).Sum(c => comparison.Dual.Probabilities[i, c]);
            Assert.Equal(1f, sum, 4);
        }
        int firstOnly = Enumerable.Range(0, comparison.Global.Count).Count(i => comparison.Global.Correct(i) && !comparison.Dual.Correct(i));
        Assert.Equal(firstOnly, comparison.McNemar.FirstOnlyCorrect);
        Assert.Contains("McNemar", comparison.McNemarSummary().ToString());

        // `marrow evaluate` scores a local model on its two classes; `marrow errors` writes one page for the dual stage.
        string localJson = Path.Combine(fx.Root, "local-metrics.json");
        Assert.Equal(0, await MarrowDiff.Cli.Program.Main(["evaluate", "--model", localAgain.Folder!, "--data", fx.Dataset.Root, "--part", "test", "--out", localJson]));
        using (var localDoc = JsonDocument.Parse(File.ReadAllText(localJson)))
            Assert.Equal(2, localDoc.RootElement.GetProperty("per_class").EnumerateObject().Count());
        string report = Path.Combine(fx.Root, "errors");
        Assert.Equal(0, await MarrowDiff.Cli.Program.Main(["errors", "--model", trained[5].Folder!, "--model", trained[1].Folder!, "--local", localAgain.Folder!,
                                                           "--data", fx.Dataset.Root, "--out", report, "--occlusions", "2"]));
        string page = File.ReadAllText(Path.Combine(report, "index.html"));
        Assert.Contains("dual-stage (AG+OS10 + local C9/C10)", page);
        Assert.Contains("Location invariance", page);
        Assert.Contains("ECE", page);
        Assert.True(File.Exists(Path.Combine(report, "wrong-cells.png")));
        Assert.False(Directory.Exists(report + ".writing"));
        foreach (var m in trained) m.Dispose();
    }

    [Fact]
    public void LocalFromGlobal_StartsFromTheGlobalModelThatHeldOutTheValidationFold_AndRefusesAnyOther()
    {
        string models = Path.Combine(fx.Root, "models");
        var fromGlobal = new Experiment(fx.Prep, Tiny.With("local_from_global", "true"), models);
        var cv = fromGlobal.CrossValidate();
        using var global = fromGlobal.Train(fx.Prep.Variant("AG+OS10"), cv.Chosen);
        Assert.Equal(Tiny.ValidationFold, global.Card.ValidationFold);
        CellClass band = CellClass.BandNeutrophil, seg = CellClass.SegmentedNeutrophil;

        // The profile asks for a start, so a call without the global model is refused, naming the setting.
        var missing = Assert.Throws<ArgumentException>(() => fromGlobal.TrainLocal(fx.Prep.Variant("AG+OS10"), cv.Chosen, band, seg));
        Assert.Contains("local_from_global", missing.Message);

        // A model or an ensemble member qualifies only if it held out the validation fold, which scores the local model.
        Assert.Same(global, fromGlobal.LocalStart(global));
        var ensemble = new FoldEnsemble([global]);   // not disposed: it would dispose its member
        Assert.Same(global, fromGlobal.LocalStart(ensemble));
        int other = Tiny.ValidationFold % SplitOptions.Folds + 1;
        var otherFold = new Experiment(fx.Prep, Tiny.With("local_from_global", "true").With("validation_fold", $"{other}"), models);
        Assert.Contains($"validation fold {other}", Assert.Throws<ArgumentException>(() => otherFold.LocalStart(ensemble)).Message);
        Assert.Contains($"not the validation fold {other}", Assert.Throws<ArgumentException>(() => otherFold.LocalStart(global)).Message);

        // Started from the global model, the local model is another model (its own cache entry) than the one from scratch;
        // a profile without the setting ignores the global model it is given.
        using var started = fromGlobal.TrainLocal(fx.Prep.Variant("AG+OS10"), cv.Chosen, band, seg, global);
        using var scratch = new Experiment(fx.Prep, Tiny, models).TrainLocal(fx.Prep.Variant("AG+OS10"), cv.Chosen, band, seg, global);
        Assert.Equal([band, seg], started.Outputs);
        Assert.NotEqual(started.Folder, scratch.Folder);
    }

    [Fact]
    public async Task ClassifierSpeed_TimesBothPathsRoundByRound_AndTheCommandPrintsCellsPerSecond()
    {
        var experiment = new Experiment(fx.Prep, Tiny, Path.Combine(fx.Root, "models"));
        using var model = experiment.Train(fx.Prep.Variant("OS10"), experiment.CrossValidate().Chosen);
        var cells = SampleSet.Original(fx.Prep.Tiles, fx.Prep.Split.Sides(1).Validation, "fold 1");
        var rows = MarrowDiff.Training.StepBenchmark.Classifier(new FoldEnsemble([model, model]), cells, rounds: 2, minSeconds: 0);
        int streams = Inference.StreamsFor(TorchRuntime.Device);
        string[] paths = streams > 1 ? ["channels-first", "channels-last", $"channels-last, {streams} streams"] : ["channels-first", "channels-last"];
        Assert.Equal([.. new[] { 1, 2 }.SelectMany(round => paths.Select(path => (round, path)))], rows.Select(r => (r.Round, r.Path)));
        Assert.Equal([.. new[] { 1, 2 }.SelectMany(_ => paths.Select(path => path.EndsWith("streams") ? streams : 1))], rows.Select(r => r.Streams));
        Assert.All(rows, r => { Assert.Equal(cells.Count, r.Cells); Assert.Equal(model.TestTimeD4 ? 16 : 2, r.PassesPerCell); Assert.True(r.Seconds > 0); });

        var output = new StringWriter();
        var saved = Console.Out;
        Console.SetOut(output);
        try { Assert.Equal(0, await MarrowDiff.Cli.Program.Main(["bench", "--model", model.Folder!, "--data", fx.Dataset.Root, "--rounds", "1", "--seconds", "0"])); }
        finally { Console.SetOut(saved); }
        Assert.Contains("round 1, channels-first:", output.ToString());
        Assert.Matches(@"round 1, channels-last: \d+ cells in [\d.]+ s \(mean of 1\) = [\d.]+ cells/s \(1 forward passes a cell", output.ToString());
        if (streams > 1) Assert.Matches($@"round 1, channels-last, {streams} streams: \d+ cells in .*, {streams} streams of 1 thread(, [\d,]+ page faults a pass)?\)", output.ToString());
    }

    [Fact]
    public void Profiles_AreValidatedOverridesOfOneRecord()
    {
        Assert.True(ExperimentProfile.Paper.ComparableToPaper);
        Assert.Equal(150, ExperimentProfile.Paper.Epochs);
        Assert.Equal(40, ExperimentProfile.Paper.BatchSize);
        Assert.Equal((300, 600), ExperimentProfile.Paper.OversampleTo);
        Assert.Equal(1.0, ((VggConfig)ExperimentProfile.Paper.Network).Width);
        Assert.False(ExperimentProfile.Smoke.ComparableToPaper);
        Assert.False(ExperimentProfile.Paper.With("epochs", "20").ComparableToPaper);
        Assert.Throws<ArgumentException>(() => ExperimentProfile.Smoke.With("colour", "blue"));
        Assert.Throws<ArgumentException>(() => ExperimentProfile.Smoke.With("oversample", "600,300"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ExperimentProfile.Smoke.With("width", "-1"));
        Assert.Contains("\"epochs\": 10", ExperimentProfile.Smoke.ToJson());
    }

    [Fact]
    public void RealLite_IsRealPlusAtAnEighthOfTheWidth_AndRealPlusSaysWhenItsBudgetDoesNotHold()
    {
        // What differs from real-plus is exactly the width (and the advice flag, which trains nothing): a change to
        // real-plus's recipe reaches real-lite too, so the two cannot drift apart unnoticed.
        var lite = ExperimentProfile.Parse("real-lite");
        Assert.Same(ExperimentProfile.RealLite, lite);
        Assert.Equal(0.125, ((VggConfig)lite.Network).Width);
        Assert.Equal((VggConfig)ExperimentProfile.RealPlus.Network with { Width = 0.125 }, lite.Network);
        Assert.Equal(ExperimentProfile.RealPlus with { Name = lite.Name, Purpose = lite.Purpose, Network = lite.Network, SideBySide = true, Run = lite.Run }, lite);
        Assert.False(lite.Run.BudgetNeedsAvx512);
        Assert.False(lite.ComparableToPaper);
        // Its models are the ones `--profile real-plus --set width=0.125 --set side_by_side=on` trains: the same
        // training config, hence cache key; without side_by_side, real-plus's fold models train on every thread.
        var set = ExperimentProfile.RealPlus.With("width", "0.125").With("side_by_side", "on");
        Assert.Equal(set.FoldTraining(set.Grid[0]), lite.FoldTraining(lite.Grid[0]));
        Assert.True(lite.FoldTraining(lite.Grid[0]).SingleThreaded);
        Assert.False(ExperimentProfile.RealPlus.FoldTraining(ExperimentProfile.RealPlus.Grid[0]).SingleThreaded);
        Assert.Contains("\"side_by_side\": true", lite.ToJson());
        Assert.DoesNotContain("side_by_side", ExperimentProfile.RealPlus.ToJson());

        var zen3 = new CpuInfo("AMD EPYC", 25, 1, Avx512: false, Avx512Bf16: false, Threads: 2);
        var zen5 = new CpuInfo("AMD EPYC", 26, 2, Avx512: true, Avx512Bf16: true, Threads: 2);
        string? advice = ExperimentProfile.RealPlus.Run.BudgetAdvice(ExperimentProfile.RealPlus.Name, zen3);
        Assert.NotNull(advice);
        Assert.Contains("family 25", advice); // names the CPU it judged
        Assert.Contains("real-lite", advice); // and what fits there
        Assert.Null(ExperimentProfile.RealPlus.Run.BudgetAdvice(ExperimentProfile.RealPlus.Name, zen5));
        Assert.Null(lite.Run.BudgetAdvice(lite.Name, zen3));
        Assert.Null(ExperimentProfile.Smoke.Run.BudgetAdvice(ExperimentProfile.Smoke.Name, zen3));
        // Its times were measured for real-plus as it is: a setting that changes the work clears the advice, one that
        // does not keeps it.
        Assert.Null(set.Run.BudgetAdvice(set.Name, zen3));
        Assert.Null(ExperimentProfile.RealPlus.With("epochs", "5").Run.BudgetAdvice(ExperimentProfile.RealPlus.With("epochs", "5").Name, zen3));
        Assert.NotNull(ExperimentProfile.RealPlus.With("label_smoothing", "0.2").Run.BudgetAdvice(ExperimentProfile.RealPlus.With("label_smoothing", "0.2").Name, zen3));
    }

    [Fact]
    public void RealFast_IsRealLiteAnsweredByOneFinalModel_WithRealLitesFoldModels()
    {
        var fast = ExperimentProfile.Parse("real-fast");
        Assert.Same(ExperimentProfile.RealFast, fast);
        Assert.True(fast.FinalModel);
        // Only the classifier differs from real-lite: the recipe, the folds and so the cached fold models are real-lite's.
        Assert.Equal(ExperimentProfile.RealLite with { Name = fast.Name, Purpose = fast.Purpose, FinalModel = true }, fast);
        Assert.Equal(ExperimentProfile.RealLite.FoldTraining(ExperimentProfile.RealLite.Grid[0]), fast.FoldTraining(fast.Grid[0]));
        Assert.Contains("\"final\": \"one\"", fast.ToJson());
        Assert.DoesNotContain("\"final\"", ExperimentProfile.RealLite.ToJson());
        // The setting, both ways; a final model needs folds to estimate it.
        Assert.Equal(fast with { Name = "real-lite+final=one", Purpose = ExperimentProfile.RealLite.Purpose }, ExperimentProfile.RealLite.With("final", "one"));
        Assert.False(fast.With("final", "ensemble").FinalModel);
        Assert.Throws<ArgumentException>(() => fast.With("final", "all"));
        var noFolds = Assert.Throws<ArgumentException>(() => fast.With("ensemble_folds", "0"));
        Assert.Contains("final=one", noFolds.Message);
    }

    [Fact]
    public void RealTransfer_FineTunesThePretrainedResNet_AndTheBackboneSettingLeavesVggKeysAlone()
    {
        var transfer = ExperimentProfile.Parse("real-transfer");
        Assert.Same(ExperimentProfile.RealTransfer, transfer);
        Assert.IsType<ResNetConfig>(transfer.Network);
        Assert.True(transfer.FinalModel);
        Assert.Equal(5, transfer.EnsembleFolds);
        Assert.False(transfer.SideBySide); // full-width steps split across the cores
        Assert.True(transfer.Refinements!.Inference.TestTimeD4);
        Assert.Contains("\": \"resnet18-imagenet\"", transfer.ToJson());
        // A recipe names its network's kind; naming VGG builds the same network, ResNet another.
        Assert.Contains("\"Network\":{\"Kind\":\"vgg\"", JsonSerializer.Serialize(ExperimentProfile.RealLite.FoldTraining(ExperimentProfile.RealLite.Grid[0])));
        Assert.Throws<ArgumentOutOfRangeException>(() => transfer.With("input", "100")); // sides must stay even down the network
        // The engine levers reach the ResNet's training (TrainerTests trains it with them, ResNet18Tests checks them).
        var levers = transfer.With("engine", "bf16+channels-last");
        Assert.Equal(ConvolutionEngine.BFloat16 | ConvolutionEngine.ChannelsLast, levers.FoldTraining(levers.Grid[0]).Engine);
        Assert.Equal(ExperimentProfile.RealLite.Network, ExperimentProfile.RealLite.With("backbone", "vgg").Network);
        Assert.IsType<ResNetConfig>(ExperimentProfile.Laptop.With("backbone", "resnet18-imagenet").Network);
        // real-lite trains channels-last, a lever the ResNet has too: kept.
        Assert.Equal(ConvolutionEngine.ChannelsLast, ExperimentProfile.RealLite.With("backbone", "resnet18-imagenet").Engine);
        Assert.Throws<ArgumentOutOfRangeException>(() => ExperimentProfile.RealLite.With("backbone", "resnet50"));
        Assert.IsType<ResNet18>(CellNetwork.Create(transfer.Network, pretrained: false));
        Assert.IsType<VggNet>(CellNetwork.Create(ExperimentProfile.RealLite.Network));
    }

    [Fact]
    public void RealTransferOs_TrainsOnEveryCell_OneRandomAnglePerImage_OnePassACell_ItsModelsTheOnesOfItsSettingsOnRealTransfer()
    {
        var os = ExperimentProfile.Parse("real-transfer-os");
        Assert.Equal("OS480", os.ClassifierVariant.Name);
        Assert.Equal(480, os.ClassifierVariant.OversampleTo);
        Assert.False(os.ClassifierVariant.Augment);
        Assert.True(os.Refinements!.Augmentation.Rotation);
        Assert.False(os.Refinements.Inference.TestTimeD4);
        Assert.Contains("\"training_set\": \"OS480\"", os.ToJson());
        Assert.DoesNotContain("training_set", ExperimentProfile.RealTransfer.ToJson());
        // Chosen as settings on real-transfer: the profile's models are those (the same recipe, so the same cache keys).
        var chosen = ExperimentProfile.RealTransfer.With("oversample", "240,480").With("rotate", "on").With("tta", "off").With("epochs", "8");
        Assert.Equal(chosen.FoldTraining(chosen.Grid[0]), os.FoldTraining(os.Grid[0]));
        // Every other profile keeps Table 1's largest set as its classifier's; a set outside the six is refused.
        Assert.All(ExperimentProfile.All.Where(p => p != os), p => Assert.Equal(p.Variants[^1], p.ClassifierVariant));
        Assert.Equal("OS300", ExperimentProfile.Paper.With("training_set", "os300").ClassifierVariant.Name);
        var outside = Assert.Throws<ArgumentException>(() => ExperimentProfile.Paper.With("training_set", "OS100"));
        Assert.Contains("OS100 is not one of its six", outside.Message);
    }

    [Fact]
    public void EachProfile_CarriesItsOwnCellTimeout_ThePapersLongEnoughForItsTraining()
    {
        Assert.Equal(TimeSpan.FromMinutes(20), ExperimentProfile.Smoke.Run.CellTimeout);
        Assert.True(ExperimentProfile.Paper.Run.CellTimeout >= TimeSpan.FromHours(24));
        Assert.All(ExperimentProfile.All.Where(p => p.Name.StartsWith("real-", StringComparison.Ordinal)), p => Assert.True(p.Run.CellTimeout >= TimeSpan.FromHours(1), p.Name));
        // The protocol each profile's classifier is made by, read from one place.
        Assert.Equal(Protocol.Search, ExperimentProfile.Paper.Protocol);
        Assert.Equal(Protocol.Search, ExperimentProfile.RealTable1.Protocol);
        Assert.Equal(Protocol.FoldEnsemble, ExperimentProfile.RealPlus.Protocol);
        Assert.Equal(Protocol.FoldsThenFinal, ExperimentProfile.RealTransferOs.Protocol);
        Assert.Equal(Protocol.FoldEnsemble, ExperimentProfile.RealFast.With("final", "ensemble").Protocol);
        // Overrides keep it (a --set does not reset how long the cell may take).
        Assert.Equal(ExperimentProfile.Paper.Run.CellTimeout, ExperimentProfile.Paper.With("epochs", "3").Run.CellTimeout);
    }

    [Fact]
    public void FoldModelsTrainedSideBySide_AreTheBytesOfTheSameModelsTrainedOneAfterAnother()
    {
        // Two fold models and the final model (real-fast's layout, cut to seconds), once on two training streams and
        // once one after another: each model runs on one thread either way, so no byte may differ.
        var profile = Tiny.With("ensemble_folds", "2").With("final", "one").With("side_by_side", "on").With("classifier_dropout", "0.3"); // masks drawn too
        var variant = fx.Prep.Variant("OS10");
        (string[] Folders, List<string> Log) Train(string root, int threads)
        {
            var experiment = new Experiment(fx.Prep, profile, Path.Combine(fx.Root, root));
            int before = TorchSharp.torch.get_num_threads();
            TorchSharp.torch.set_num_threads(threads); // the streams: one a thread (1: one model after another)
            try
            {
                var result = experiment.TrainFoldEnsemble(variant, profile.Grid[0], withFinal: true);
                using var ensemble = result.Ensemble;
                using var final = experiment.TrainFinal(variant, profile.Grid[0]);
                Assert.All([.. ensemble.Members, final], m => Assert.True(m.Card.Config.SingleThreaded));
                Assert.Equal(threads, TorchSharp.torch.get_num_threads()); // given back by every stream and model
                return ([.. ensemble.Members.Select(m => m.Folder!), final.Folder!], experiment.Log);
            }
            finally { TorchSharp.torch.set_num_threads(before); }
        }
        var (sideBySide, log) = Train("models-side-by-side", threads: 2);
        var (oneByOne, sequentialLog) = Train("models-one-by-one", threads: 1);
        Assert.Contains(log, l => l.Contains("trained side by side on 2 single-threaded streams"));
        Assert.DoesNotContain(sequentialLog, l => l.Contains("side by side"));
        Assert.Equal(sideBySide.Select(Path.GetFileName), oneByOne.Select(Path.GetFileName)); // the same cache keys
        foreach (var (a, b) in sideBySide.Zip(oneByOne))
            Assert.True(File.ReadAllBytes(Path.Combine(a, "model.safetensors")).SequenceEqual(File.ReadAllBytes(Path.Combine(b, "model.safetensors"))),
                        $"{Path.GetFileName(a)}: side by side and one after another differ");
        // Their key is not the key of the same recipe trained on every thread (those bytes differ).
        Assert.NotEqual(profile.FoldTraining(profile.Grid[0]), profile.With("side_by_side", "off").FoldTraining(profile.Grid[0]));
    }

    [Fact]
    public void EachProtocolsFrontDoor_GivesItsClassifier_SavesItsFiles_AndReadsTheSameCachedModels()
    {
        // One cache for the three protocols: the fold models that two of them share are trained once and read after.
        string models = Path.Combine(fx.Root, "models-protocols");
        var variant = fx.Prep.Variant("OS10");
        TrainedClassifier Door(ExperimentProfile profile, string folder)
        {
            var experiment = new Experiment(fx.Prep, profile, models);
            var trained = experiment.TrainClassifier(variant, profile.Grid[0]);
            trained.Save(Path.Combine(fx.Root, "protocol-out", folder), profile.ToJson(), profile.Seed);
            return trained;
        }
        using (var heldOut = Door(Tiny, "search"))
        {
            var model = Assert.IsType<TrainedModel>(heldOut.Classifier);
            Assert.Null(heldOut.Folds);
            Assert.Equal(Tiny.ValidationFold, model.Card.ValidationFold);
            Assert.False(File.Exists(Path.Combine(fx.Root, "protocol-out", "search", SavedScores.CrossValidationFile)));
        }
        string[] foldFolders;
        using (var together = Door(Tiny.With("ensemble_folds", "2").With("final", "ensemble"), "ensemble"))
        {
            var ensemble = Assert.IsType<FoldEnsemble>(together.Classifier);
            Assert.Same(ensemble, together.Folds!.Ensemble);
            Assert.Equal([1, 2], ensemble.Members.Select(m => m.Card.ValidationFold ?? 0));
            foldFolders = [.. ensemble.Members.Select(m => Path.GetFileName(m.Folder!))];
            Assert.True(File.Exists(Path.Combine(fx.Root, "protocol-out", "ensemble", FoldEnsemble.ManifestFile)));
        }
        var finalProfile = Tiny.With("ensemble_folds", "2").With("final", "one");
        using (var final = Door(finalProfile, "final"))
        {
            var model = Assert.IsType<TrainedModel>(final.Classifier);
            Assert.Null(model.Card.ValidationFold); // trained on every fold
            Assert.Equal(foldFolders, final.Folds!.Ensemble.Members.Select(m => Path.GetFileName(m.Folder!))); // the same fold models' keys
            Assert.True(File.Exists(Path.Combine(fx.Root, "protocol-out", "final", SavedScores.CrossValidationFile)));
        }
        // The fold models of final=one were read from the cache that final=ensemble filled, not trained again.
        var reread = new Experiment(fx.Prep, finalProfile, models);
        using (reread.TrainClassifier(variant, finalProfile.Grid[0]))
            Assert.All(reread.Log, line => Assert.Contains("cached model", line));
    }

    [Fact]
    public void ALearningCurve_TrainsEachShareOnItsOwnKeys_ScoresTheSameHeldOutCells_AndShareOneIsTheProfilesOwnFolds()
    {
        var profile = Tiny.With("ensemble_folds", "2").With("final", "ensemble");
        var variant = fx.Prep.Variant("OS10");
        var experiment = new Experiment(fx.Prep, profile, Path.Combine(fx.Root, "models-curve"));
        var curve = LearningCurve.Measure(experiment, variant, [1, 0.5], 0.85);
        Assert.Equal([0.5, 1], curve.Points.Select(p => p.Share));
        Assert.True(curve.Points[0].CellsPerModel < curve.Points[1].CellsPerModel);
        Assert.Equal(curve.Points[0].HeldOutCells, curve.Points[1].HeldOutCells); // the same held-out cells at every share
        Assert.Equal(fx.Prep.Split.Sides(1).Validation.Count + fx.Prep.Split.Sides(2).Validation.Count, curve.Points[1].HeldOutCells);
        Assert.All(curve.Points, p => Assert.Equal(2, p.Folds.Count));
        var folders = Directory.GetDirectories(experiment.ModelsRoot).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(4, folders.Count);
        Assert.Equal(2, folders.Count(f => f!.Contains("-share0.5-")));
        // Share 1 is TrainFoldEnsemble's own: the profile's own folders, read not retrained.
        var whole = experiment.TrainFoldEnsemble(variant, profile.Grid[0]);
        using (whole.Ensemble)
        {
            Assert.All(whole.Ensemble.Members, m => Assert.DoesNotContain("share", Path.GetFileName(m.Folder!)));
            Assert.Equal(curve.Points[1].MacroF1, whole.Pooled.MacroF1);
        }
        Assert.Equal(4, Directory.GetDirectories(experiment.ModelsRoot).Length);
        // A share's fold model saw only the share's cells: its card counts the training images of those cells.
        var half = experiment.TrainFoldEnsemble(variant, profile.Grid[0], cellShare: 0.5);
        using (half.Ensemble)
            Assert.Equal(fx.Prep.Build(variant, 1, cellShare: 0.5).Count, half.Ensemble.Members[0].Card.TrainingImages);
        Assert.Contains("no final model", Assert.Throws<ArgumentException>(() => experiment.TrainFoldEnsemble(variant, profile.Grid[0], withFinal: true, cellShare: 0.5)).Message);
    }

    [Fact]
    public void EverySettingTheHelpNames_IsAccepted_AndNoOther()
    {
        // The CLI's --set help and With's error both print SettingNames: a setting missing from it cannot be found,
        // a name in it that With refuses sends the user to a dead end.
        var samples = new Dictionary<string, string>
        {
            ["epochs"] = "3", ["local_epochs"] = "3", ["local_lr"] = "0.005", ["local_from_global"] = "on", ["width"] = "0.25", ["depth"] = "11",
            ["input"] = "48", ["batch"] = "20", ["oversample"] = "100,200", ["cv_epochs"] = "2", ["cv_variant"] = "OS60",
            ["lr"] = "0.02", ["weight_decay"] = "1e-3", ["validation_fold"] = "2", ["dropout"] = "0.1", ["conv_dropout"] = "0.1",
            ["classifier_dropout"] = "0.2", ["global_pool"] = "on", ["ensemble_folds"] = "3", ["schedule"] = "cosine",
            ["label_smoothing"] = "0.1", ["stain_jitter"] = "0.2", ["mixup"] = "0.2", ["classifier_rate"] = "1", ["rotate"] = "on", ["tta"] = "off",
            ["engine"] = "bf16", ["final"] = "one", ["side_by_side"] = "on", ["backbone"] = "vgg", ["training_set"] = "OS150",
            ["training_seed"] = "2018", ["steps"] = "off",
        };
        var named = ExperimentProfile.SettingNames.Split(", ").Select(n => n.Split('=')[0]).ToList();
        Assert.Equal(samples.Keys.Order(), named.Order());
        foreach (var (key, value) in samples)
            Assert.Contains($"+{key}={value}", ExperimentProfile.RealPlus.With(key, value).Name);
        var refused = Assert.Throws<ArgumentException>(() => ExperimentProfile.Smoke.With("colour", "blue"));
        Assert.Contains(ExperimentProfile.SettingNames, refused.Message);
    }
}
