using System.Security.Cryptography;
using MarrowDiff.Core;
using MarrowDiff.Evaluation;
using MarrowDiff.Experiments;
using MarrowDiff.Imaging;
using MarrowDiff.Model;
using MarrowDiff.Preparation;
using MarrowDiff.Torch;
using MarrowDiff.Training;

namespace MarrowDiff.Tests.Training;

/// <summary>Training with the real-plus refinements (cosine schedule, label smoothing, stain jitter) stays deterministic
/// and resumable, and a fold ensemble saves, loads and answers with its members' mean.</summary>
public class RefinedTrainingTests(TwentyPatchesFixture fx) : IClassFixture<TwentyPatchesFixture>
{
    private static TrainingConfig Config(int epochs) =>
        new(new VggConfig(Width: 0.125, InputSize: 48, FirstDropout: 0, Dropout: 0, ClassifierDropout: 0) { GlobalPool = true },
            new Hyperparameters(0.02, 0.9, 0, 5e-4), epochs, BatchSize: 10, Seed: 5) { Refinements = Refinements.Recommended with { Optimisation = new OptimisationOptions(WarmupFraction: 0.1) } };

    private static string Hash(CellNetwork model) =>
        Convert.ToHexString(SHA256.HashData(model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .SelectMany(kv => kv.Value.cpu().bytes.ToArray()).ToArray()));

    [Fact]
    public void SameSeed_SameWeights_AndTheRateFollowsTheCosine()
    {
        var (a, history) = new Trainer(Config(4)).TrainNetwork(fx.Set, fx.Normalisation, null);
        var (b, _) = new Trainer(Config(4)).TrainNetwork(fx.Set, fx.Normalisation, null);
        using (a) using (b) Assert.Equal(Hash(a), Hash(b));
        // 20 images in batches of 10: 8 steps. The rate recorded after each epoch is the next step's.
        var r = Config(4).Refinements!.Optimisation;
        Assert.Equal(r.CosineRate(0.02, 2, 8), history[0].LearningRate, 12);
        Assert.Equal(r.CosineRate(0.02, 8, 8), history[^1].LearningRate, 12);
        Assert.All(history, h => Assert.True(double.IsFinite(h.TrainLoss)));
    }

    /// <summary>real-plus trains channels-last (<see cref="ConvolutionEngine.ChannelsLast"/>): byte-equal weights twice
    /// and a finite loss every epoch, at its own width and at the 1/8 width whose first block is padded to whole
    /// oneDNN blocks before it is laid out channels-last.</summary>
    [Theory]
    [InlineData(0.25, 96)]
    [InlineData(0.125, 48)]
    public void ChannelsLastTraining_GivesTheSameWeightsTwice_AndFiniteLosses(double width, int input)
    {
        var config = Config(3) with { Network = (VggConfig)Config(3).Network with { Width = width, InputSize = input }, Engine = ConvolutionEngine.ChannelsLast };
        AssertSameWeightsTwice_AndFiniteLosses(config);
    }

    [Fact]
    public void StainJitter_ChangesColoursNotLabels_TheSameWayEachRun() =>
        AssertChangesImagesNotLabels_TheSameWayEachRun(() => new BatchLoader(fx.Set, fx.Normalisation, 10, seed: 5, stainJitter: 0.2));

    /// <summary>A loader from <paramref name="make"/> changes every batch's images against a plain loader of the same seed
    /// but none of its labels, the same way twice, and another way in the next epoch.</summary>
    private void AssertChangesImagesNotLabels_TheSameWayEachRun(Func<BatchLoader> make)
    {
        var plain = new BatchLoader(fx.Set, fx.Normalisation, 10, seed: 5);
        BatchLoader changed = make(), again = make();
        foreach (var (p, (c, k)) in plain.Epoch(0).Zip(changed.Epoch(0).Zip(again.Epoch(0))))
            using (p) using (c) using (k)
            {
                Assert.Equal(p.Labels, c.Labels);
                Assert.Equal(c.Inputs, k.Inputs);
                Assert.NotEqual(p.Inputs, c.Inputs);
            }
        using var e0 = changed.Epoch(0).First();
        using var e1 = changed.Epoch(1).First();
        Assert.NotEqual(e0.Inputs.Take(3 * 96 * 96), e1.Inputs.Take(3 * 96 * 96));
    }

    [Fact]
    public void Mixup_IsDeterministic_AndChangesTheWeights() =>
        AssertTrainsDeterministically_AndChangesTheWeights(Config(3), r => r with { Augmentation = r.Augmentation with { Mixup = 0.4 } });

    /// <summary>Training with <paramref name="refine"/> applied to <paramref name="config"/>'s refinements gives byte-equal
    /// weights twice, other weights than without it, and a finite loss every epoch.</summary>
    private void AssertTrainsDeterministically_AndChangesTheWeights(TrainingConfig config, Func<Refinements, Refinements> refine)
    {
        string refined = AssertSameWeightsTwice_AndFiniteLosses(config with { Refinements = refine(config.Refinements!) });
        var (plain, _) = new Trainer(config).TrainNetwork(fx.Set, fx.Normalisation, null);
        using (plain) Assert.NotEqual(refined, Hash(plain));
    }

    /// <summary>Trains <paramref name="config"/> twice: byte-equal weights and a finite loss every epoch. Returns the
    /// weights' hash.</summary>
    private string AssertSameWeightsTwice_AndFiniteLosses(TrainingConfig config)
    {
        var (a, history) = new Trainer(config).TrainNetwork(fx.Set, fx.Normalisation, null);
        var (b, _) = new Trainer(config).TrainNetwork(fx.Set, fx.Normalisation, null);
        string hash;
        using (a) using (b) { hash = Hash(a); Assert.Equal(hash, Hash(b)); }
        Assert.All(history, h => Assert.True(double.IsFinite(h.TrainLoss)));
        return hash;
    }

    [Fact]
    public void Rotation_ByNothingIsThePlainPatch_AQuarterTurnIsTheD4Turn_AndTheLoaderTurnsTheSameWayEachRun()
    {
        const int per = 3 * 96 * 96;
        float[] plain = new float[per], turned = new float[per];
        for (int s = 0; s < fx.Set.Count; s++)
        {
            fx.Set.Fill(s, plain, fx.Normalisation);
            fx.Set.Fill(s, turned, fx.Normalisation, null, 0.0);
            Assert.Equal(plain, turned);
        }
        // A quarter turn counter-clockwise by angle is D4's element 3 (output (x, y) from source (y, 95 − x)), up to
        // the rounding of cos(π/2); a mirrored pose turned by π equals the mirrored pose of the half-turn element.
        foreach (var tile in fx.Tiles.Tiles.Take(5))
        {
            tile.FillPlanes(0, 0, new D4(3), plain);
            tile.FillPlanesTurned(0, 0, D4.Identity, Math.PI / 2, turned);
            Assert.All(plain.Zip(turned), p => Assert.Equal(p.First, p.Second, 1e-4f));
            tile.FillPlanes(0, 0, new D4(6), plain);
            tile.FillPlanesTurned(0, 0, new D4(4), Math.PI, turned);
            Assert.All(plain.Zip(turned), p => Assert.Equal(p.First, p.Second, 1e-4f));
        }

        AssertChangesImagesNotLabels_TheSameWayEachRun(() => new BatchLoader(fx.Set, fx.Normalisation, 10, seed: 5, rotate: true));
    }

    [Fact]
    public void Rotation_TrainsDeterministically_AndChangesTheWeights() =>
        AssertTrainsDeterministically_AndChangesTheWeights(Config(2), r => r with { Augmentation = r.Augmentation with { Rotation = true } });

    [Fact]
    public void MixupDraw_PairsEveryImageOnce_WithLambdaInTheUnitInterval()
    {
        var (lambda, partner) = Trainer.MixupDraw(5, 0, 0, 40, 0.4);
        Assert.InRange(lambda, 0f, 1f);
        Assert.Equal(Enumerable.Range(0, 40).Select(i => (long)i), partner.Order());
        var again = Trainer.MixupDraw(5, 0, 0, 40, 0.4);
        Assert.Equal(lambda, again.Lambda);
        Assert.Equal(partner, again.Partner);
        // Beta(α, α) is symmetric about 1/2, and a small α puts most draws near 0 or 1.
        var draws = Enumerable.Range(0, 4000).Select(s => (double)Trainer.MixupDraw(5, 0, s, 2, 0.2).Lambda).ToList();
        Assert.InRange(draws.Average(), 0.47, 0.53);
        Assert.InRange(draws.Count(l => l is < 0.1 or > 0.9) / 4000.0, 0.5, 0.8);
    }

    [Fact]
    public void StartFrom_CopiesEveryLayerButTheLast_AndTrainsDeterministically()
    {
        var (global, _) = new Trainer(Config(2)).TrainNetwork(fx.Set, fx.Normalisation, null);
        var two = Config(2) with { Network = Config(2).Network with { Classes = 2 } };
        using var fresh = new VggNet((VggConfig)two.Network, (ulong)two.Seed);
        int copied = Trainer.CopyMatching(global, fresh);
        var globalState = global.state_dict();
        var shared = fresh.state_dict().Where(kv => globalState[kv.Key].shape.SequenceEqual(kv.Value.shape)).ToList();
        Assert.Equal(shared.Count, copied);
        Assert.Equal(fresh.state_dict().Count - 2, copied); // the last layer's weight and bias keep their own draw
        Assert.All(shared, kv => Assert.True(kv.Value.eq(globalState[kv.Key]).all().item<bool>(), kv.Key));

        // Two labels of the twenty: a local model from the global one, twice, byte-equal, and unlike one from scratch.
        var pair = fx.Set.Restrict([fx.Set.Classes[0].Class, fx.Set.Classes[1].Class]);
        var (a, _) = new Trainer(two) { StartFrom = global }.TrainNetwork(pair, fx.Normalisation, null);
        var (b, _) = new Trainer(two) { StartFrom = global }.TrainNetwork(pair, fx.Normalisation, null);
        var (scratch, _) = new Trainer(two).TrainNetwork(pair, fx.Normalisation, null);
        using (global) using (a) using (b) using (scratch)
        {
            Assert.Equal(Hash(a), Hash(b));
            Assert.NotEqual(Hash(a), Hash(scratch));
        }
    }

    [Fact]
    public void ResumedRun_ReachesTheSameWeights()
    {
        string checkpoint = Path.Combine(fx.Root, $"refined-{Guid.NewGuid():N}.checkpoint");
        var (whole, _) = new Trainer(Config(4)).TrainNetwork(fx.Set, fx.Normalisation, null);
        var (half, _) = new Trainer(Config(4)) { StopAfterEpochs = 2 }.TrainNetwork(fx.Set, fx.Normalisation, null, checkpoint);
        half.Dispose();
        var (resumed, history) = new Trainer(Config(4)).TrainNetwork(fx.Set, fx.Normalisation, null, checkpoint);
        using (whole) using (resumed) Assert.Equal(Hash(whole), Hash(resumed));
        Assert.Equal(4, history.Count);
    }

    [Fact]
    public void FoldEnsemble_SavesLoadsAndAveragesItsMembers()
    {
        var members = new List<TrainedModel>();
        for (int fold = 1; fold <= 2; fold++)
        {
            var config = Config(2) with { Seed = fold };
            var (net, history) = new Trainer(config).TrainNetwork(fx.Set, fx.Normalisation, null);
            members.Add(new TrainedModel(net, fx.Normalisation, new ModelCard("OG", config, "test", "twenty", "", "", fx.Set.Count, fold, "", true), history));
        }
        string folder = Path.Combine(fx.Root, $"ensemble-{Guid.NewGuid():N}");
        using var ensemble = new FoldEnsemble(members);
        ensemble.Save(folder, "{}", new Dictionary<string, double> { ["cv_macro_f1"] = 0.5 });
        Assert.True(File.Exists(Path.Combine(folder, FoldEnsemble.ManifestFile)));
        Assert.True(Directory.Exists(Path.Combine(folder, "fold1")) && Directory.Exists(Path.Combine(folder, "fold2")));

        using var loaded = FoldEnsemble.LoadAny(folder);
        var ensembleLoaded = Assert.IsType<FoldEnsemble>(loaded);
        float[,] mean = loaded.Probabilities(fx.Set), p1 = members[0].Probabilities(fx.Set), p2 = members[1].Probabilities(fx.Set);
        for (int i = 0; i < fx.Set.Count; i++)
            for (int c = 0; c < 10; c++) Assert.Equal((p1[i, c] + p2[i, c]) / 2, mean[i, c], 5);
        Assert.Contains("2-fold ensemble", loaded.Name);
        Assert.EndsWith("fold-1 model", new FoldEnsemble([members[0]]).Name); // not disposed: it shares the member
        // With test-time D4 (a refinement), each member answers with the mean over the eight poses.
        Assert.True(members[0].TestTimeD4);
        // One model folder still loads as one model.
        using var single = FoldEnsemble.LoadAny(Path.Combine(folder, "fold1"));
        Assert.IsType<TrainedModel>(single);
        // A manifest naming a folder outside the ensemble is refused.
        File.WriteAllText(Path.Combine(folder, FoldEnsemble.ManifestFile), """{"Kind":"fold-ensemble","Members":["../x"]}""");
        Assert.Throws<InvalidDataException>(() => FoldEnsemble.LoadAny(folder));
        _ = ensembleLoaded;
    }

    [Fact]
    public void TheMeanOfRecipes_ScoresEachFoldCell_ByTheMeanOfTheModelsThatHeldItOut()
    {
        var config = Config(1);
        var (net, history) = new Trainer(config).TrainNetwork(fx.Set, fx.Normalisation, null);
        using var member = new TrainedModel(net, fx.Normalisation, new ModelCard("OG", config, "test", "twenty", "", "", fx.Set.Count, 1, "", true), history);
        // Two "folds" of ten cells each; each recipe's held-out softmax made up (the mean reads no network), so that
        // the two recipes disagree on some cells and the mean must decide them.
        var folds = new[] { fx.Set.Subset([.. Enumerable.Range(0, 10)], "fold 1"), fx.Set.Subset([.. Enumerable.Range(10, 10)], "fold 2") };
        var rng = new Rng(11);
        float[,] Softmax(int n)
        {
            var p = new float[n, 10];
            for (int i = 0; i < n; i++)
            {
                float sum = 0;
                for (int c = 0; c < 10; c++) sum += p[i, c] = (float)Math.Exp(4 * rng.NextDouble());
                for (int c = 0; c < 10; c++) p[i, c] /= sum;
            }
            return p;
        }
        FoldEnsembleResult Recipe(string name, IReadOnlyList<SampleSet> sets) => new(new FoldEnsemble([member]),
            [.. sets.Select((set, k) => new Predictions($"{name} fold {k + 1}", set, Softmax(set.Count)))]);
        var a = Recipe("a", folds);
        var b = Recipe("b", folds);

        var mean = FoldEnsembleResult.Mean([a, b]);
        Assert.Equal(2, mean.HeldOut.Count);
        Assert.Equal(2, mean.Ensemble.Members.Count); // each recipe's one model a fold: both recipes weigh the same
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < 10; i++)
                for (int c = 0; c < 10; c++)
                    Assert.Equal((a.HeldOut[k].Probabilities[i, c] + b.HeldOut[k].Probabilities[i, c]) / 2, mean.HeldOut[k].Probabilities[i, c], 6);
        // The mean's answers are its own: on a cell where the recipes disagree, the higher mean wins.
        Assert.Equal(mean.HeldOut[0].Predicted, Inference.ArgMax(mean.HeldOut[0].Probabilities));
        Assert.Contains(Enumerable.Range(0, 10), i => a.HeldOut[0].Predicted[i] != b.HeldOut[0].Predicted[i]);
        // Pooled over every fold cell once, as a recipe's own cross-validation is.
        Assert.Equal(20, mean.Pooled.PerClass.Sum(c => c.Support));

        // Recipes on another split, or in another order, are refused rather than averaged cell against wrong cell.
        var reordered = Recipe("c", [fx.Set.Subset([.. Enumerable.Range(0, 10).Reverse()], "fold 1"), folds[1]]);
        var error = Assert.Throws<ArgumentException>(() => FoldEnsembleResult.Mean([a, reordered]));
        Assert.Contains("fold 1 holds other cells", error.Message);
        Assert.Contains("folds where", Assert.Throws<ArgumentException>(() => FoldEnsembleResult.Mean([a, Recipe("d", [folds[0]])])).Message);
        Assert.Throws<ArgumentException>(() => FoldEnsembleResult.Mean([a]));
    }
}
