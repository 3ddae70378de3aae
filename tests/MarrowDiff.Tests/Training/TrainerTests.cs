using MarrowDiff.Data;
using MarrowDiff.Model;
using MarrowDiff.Torch;
using MarrowDiff.Training;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MarrowDiff.Tests.Training;

public class TrainerTests(TwentyPatchesFixture fx) : IClassFixture<TwentyPatchesFixture>
{
    private static TrainingConfig Config(int epochs, double lr = 0.01) =>
        new(new VggConfig(Width: 0.125, InputSize: 48, FirstDropout: 0, Dropout: 0, ClassifierDropout: 0), new Hyperparameters(lr, 0.9, 1e-4, 5e-4), epochs, BatchSize: 10, Seed: 5);

    [Fact]
    public void TinyRun_OverfitsTwentyImages()
    {
        var (model, history) = new Trainer(Config(80)).TrainNetwork(fx.Set, fx.Normalisation, null);
        using (model)
        {
            int[] predicted = Inference.ArgMax(Inference.Probabilities(model, fx.Set, fx.Normalisation));
            double accuracy = Enumerable.Range(0, fx.Set.Count).Count(i => predicted[i] == fx.Set.Label(i)) / (double)fx.Set.Count;
            Assert.True(accuracy >= 0.95, $"training accuracy {accuracy:P0} after 80 epochs; loss went {history[0].TrainLoss:0.00} → {history[^1].TrainLoss:0.00}");
            Assert.True(history[^1].TrainLoss < history[0].TrainLoss);
        }
    }

    [Fact]
    public void Train_ReturnsTheTrainedModel_WithTheNormalisationOfItsOwnImages_AndRefusesACardOfAnotherRecipe()
    {
        var config = Config(1);
        var card = new ModelCard(fx.Set.Variant.Name, config, "test", "twenty patches", "fingerprint", "split.csv", fx.Set.Count, null, "commit", true);
        using var model = new Trainer(config).Train(fx.Set, null, card);
        Assert.Equal(card, model.Card with { TrainedClasses = null }); // the card as given, with what training saw added:
        var seen = Enumerable.Range(0, fx.Set.Count).GroupBy(fx.Set.Label).OrderBy(g => g.Key).ToDictionary(g => fx.Set.Outputs[g.Key].Code(), g => g.Count());
        Assert.Equal(seen, model.Card.TrainedClasses);
        // Computed on the model's own training images, named by the card's data.
        Assert.Equal(fx.Normalisation.Mean, model.Normalisation.Mean);
        Assert.Equal(fx.Normalisation.Std, model.Normalisation.Std);
        Assert.Equal(fx.Normalisation.ComputedOn, model.Normalisation.ComputedOn);
        Assert.Single(model.History);
        var other = card with { Config = Config(2) };
        Assert.Contains("another recipe", Assert.Throws<ArgumentException>(() => new Trainer(config).Train(fx.Set, null, other)).Message);
        Assert.Contains("training images", Assert.Throws<ArgumentException>(() => new Trainer(config).Train(fx.Set, null, card with { TrainingImages = 3 })).Message);
    }

    [Fact]
    public void Resume_AfterAnInterruption_ReachesTheUninterruptedWeights()
    {
        string dir = Directory.CreateTempSubdirectory("marrow-resume-").FullName;
        try
        {
            var (straight, h1) = new Trainer(Config(4)).TrainNetwork(fx.Set, fx.Normalisation, fx.Set);
            string checkpoint = Path.Combine(dir, "checkpoint.bin");
            var (stopped, h2) = new Trainer(Config(4)) { StopAfterEpochs = 2 }.TrainNetwork(fx.Set, fx.Normalisation, fx.Set, checkpoint);
            Assert.Equal(2, h2.Count);
            stopped.Dispose();
            // A checkpoint of another configuration is refused, not resumed (nor ignored and retrained).
            Assert.Contains("another configuration", Assert.Throws<InvalidDataException>(() => new Trainer(Config(5)).TrainNetwork(fx.Set, fx.Normalisation, fx.Set, checkpoint)).Message);
            var trainer = new Trainer(Config(4));
            var (resumed, h3) = trainer.TrainNetwork(fx.Set, fx.Normalisation, fx.Set, checkpoint);
            // The resume ran only the last two epochs' steps: a trainer that ignored the checkpoint and trained from
            // scratch would reach the same bytes (training is deterministic) but run all four.
            long stepsPerEpoch = (fx.Set.Count + Config(4).BatchSize - 1) / Config(4).BatchSize;
            Assert.Equal(2, trainer.ResumedAfterEpoch);
            Assert.Equal(2 * stepsPerEpoch, trainer.StepsRun);
            var fresh = new Trainer(Config(4));
            using (fresh.TrainNetwork(fx.Set, fx.Normalisation, fx.Set).Model) Assert.Equal((0, 4 * stepsPerEpoch), (fresh.ResumedAfterEpoch, fresh.StepsRun));
            using (straight) using (resumed)
            {
                Assert.Equal(4, h3.Count);
                AssertBitEqual(straight, resumed, "after resuming");
                Assert.Equal(h1[^1].TrainLoss, h3[^1].TrainLoss);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData(ConvolutionEngine.Default)]
    [InlineData(ConvolutionEngine.BFloat16 | ConvolutionEngine.ChannelsLast)]
    public void ThePretrainedResNet_TrainsToTheSameBytesTwice_AndResumesToThem(ConvolutionEngine engine)
    {
        // The transfer profile's network through the same trainer, checkpoint and resume as VGG (at 64 px, to be quick),
        // in fp32 and with the levers an AVX512_BF16 CPU trains it with.
        var config = Config(3) with { Network = new ResNetConfig(InputSize: 64, ClassifierDropout: 0.2), Engine = engine };
        string dir = Directory.CreateTempSubdirectory("marrow-resnet-resume-").FullName;
        try
        {
            var (straight, history) = new Trainer(config).TrainNetwork(fx.Set, fx.Normalisation, null);
            var (again, _) = new Trainer(config).TrainNetwork(fx.Set, fx.Normalisation, null);
            string checkpoint = Path.Combine(dir, "checkpoint.bin");
            var (stopped, _) = new Trainer(config) { StopAfterEpochs = 1 }.TrainNetwork(fx.Set, fx.Normalisation, null, checkpoint);
            stopped.Dispose();
            var (resumed, _) = new Trainer(config).TrainNetwork(fx.Set, fx.Normalisation, null, checkpoint);
            using (straight) using (again) using (resumed)
            {
                Assert.IsType<ResNet18>(straight);
                AssertBitEqual(straight, again, "on a second run");
                AssertBitEqual(straight, resumed, "after resuming");
                Assert.True(history[^1].TrainLoss < history[0].TrainLoss, $"loss {history[0].TrainLoss:0.000} → {history[^1].TrainLoss:0.000}");
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AClassifierRate_StepsTheNewClassifierThatManyTimesFurther_AndThePretrainedLayersAsBefore()
    {
        // One SGD step (20 images, batch 20) from the same start, with and without the multiple: the gradients are the
        // same, so the classifier's step must be ten times as long and every pretrained weight the same bytes.
        var plain = Config(1) with
        {
            Network = new ResNetConfig(InputSize: 64, ClassifierDropout: 0), BatchSize = 20,
            Refinements = Refinements.None,
        };
        var faster = plain with { Refinements = plain.Refinements! with { Optimisation = plain.Refinements.Optimisation with { ClassifierRate = 10 } } };
        using var start = CellNetwork.Create(plain.Network, (ulong)plain.Seed);
        var (a, _) = new Trainer(plain).TrainNetwork(fx.Set, fx.Normalisation, null);
        var (b, _) = new Trainer(faster).TrainNetwork(fx.Set, fx.Normalisation, null);
        using (a) using (b)
        {
            var s0 = start.state_dict(); var sa = a.state_dict(); var sb = b.state_dict();
            foreach (string key in sa.Keys.Where(k => !k.StartsWith("fc.", StringComparison.Ordinal)))
                Assert.True(sa[key].contiguous().bytes.SequenceEqual(sb[key].contiguous().bytes), $"{key}: a pretrained layer's step changed");
            foreach (string key in new[] { "fc.weight", "fc.bias" })
            {
                using var stepA = sa[key] - s0[key];
                using var stepB = sb[key] - s0[key];
                double lengthA = stepA.norm().item<float>(), lengthB = stepB.norm().item<float>();
                Assert.True(lengthA > 0, $"{key} did not move");
                Assert.InRange(lengthB / lengthA, 9.99, 10.01);
                using var scaled = stepA * 10;
                Assert.True(allclose(stepB, scaled, rtol: 1e-3, atol: 1e-7), $"{key}: the step is not ten times the plain one in every element");
            }
        }
        // A network trained from nothing has no pretrained rest: refused, naming the setting.
        var vgg = Config(1) with { Refinements = faster.Refinements };
        var refused = Assert.Throws<ArgumentException>(() => new Trainer(vgg).TrainNetwork(fx.Set, fx.Normalisation, null));
        Assert.Contains("classifier_rate", refused.Message);
    }

    /// <summary>Every weight and buffer identical, bit for bit (their bytes compared).</summary>
    private static void AssertBitEqual(CellNetwork expected, CellNetwork actual, string when)
    {
        var a = expected.state_dict();
        var b = actual.state_dict();
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (string key in a.Keys)
            Assert.True(a[key].cpu().contiguous().bytes.SequenceEqual(b[key].cpu().contiguous().bytes), $"{key} differs {when}");
    }

    /// <summary>
    /// The Scalar hazard fixed at its root (issue 12): training with a thread that collects garbage and runs finalizers
    /// in a loop, so that any temporary Scalar whose handle is in flight in native code would be freed under it, gives
    /// the weights of a run without it, bit for bit. The no-GC region of each step does not hide anything here: every
    /// induced collection ends it.
    /// </summary>
    [Fact]
    public void TrainingUnderConstantGarbageCollection_GivesTheSameWeights()
    {
        var config = Config(40);
        var (quiet, _) = new Trainer(config).TrainNetwork(fx.Set, fx.Normalisation, fx.Set);
        long collections = 0;
        using var stop = new CancellationTokenSource();
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: true);
                GC.WaitForPendingFinalizers();
                Interlocked.Increment(ref collections);
            }
        }) { IsBackground = true, Name = "GC stress" };
        collector.Start();
        // What the test needs is collections spread over the run, not a number of them: a loaded machine starves the
        // collector for a while, so count the steps during which at least one collection finished.
        int steps = 0, stepsWithACollection = 0;
        long seenAt = 0;
        var stepDone = new EachStep(_ =>
        {
            long now = Interlocked.Read(ref collections);
            steps++;
            if (now > seenAt) stepsWithACollection++;
            seenAt = now;
        });
        CellNetwork stressed;
        try { (stressed, _) = new Trainer(config).TrainNetwork(fx.Set, fx.Normalisation, fx.Set, progress: stepDone); }
        finally { stop.Cancel(); collector.Join(); }
        using (quiet) using (stressed)
        {
            Assert.True(steps > 0 && stepsWithACollection >= steps / 4, $"a collection during only {stepsWithACollection} of {steps} steps");
            AssertBitEqual(quiet, stressed, "under garbage-collection stress");
        }
    }

    /// <summary>Called on the training thread at each step (Progress&lt;T&gt; would post to the thread pool, later).</summary>
    private sealed class EachStep(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    [Fact]
    public void DivergingLoss_StopsAndSaysDivergence_AdvisingTheLearningRate()
    {
        var e = Assert.Throws<NonFiniteTrainingException>(() => new Trainer(Config(20, lr: 1e12)).TrainNetwork(fx.Set, fx.Normalisation, null, name: "divergent"));
        Assert.Equal(NonFiniteCause.Divergence, e.Report.Cause);
        Assert.StartsWith("divergent: ", e.Message);
        Assert.Contains("Divergence: ", e.Message);
        Assert.Contains("grew", e.Message);
        Assert.Contains("Lower the learning rate", e.Message);
        Assert.DoesNotContain("doctor", e.Message);
    }

    /// <summary>What issue 11's faulty kernel did: a NaN in the first layer's gradient while the loss was healthy.
    /// The guard stops before the update, names the gradient and its layer, calls it a numerical fault and points to
    /// the self-test instead of the learning rate.</summary>
    [Fact]
    public void NaNGradientFromHealthyValues_StopsAsANumericalFault_NamingTheLayer()
    {
        string dir = Directory.CreateTempSubdirectory("marrow-fault-").FullName;
        try
        {
            string checkpoint = Path.Combine(dir, "checkpoint.bin");
            var trainer = new Trainer(Config(6))
            {
                // Two steps per epoch (20 images, batch 10): step 9 is in epoch 5, after four epochs of healthy training.
                AfterBackward = (step, model) =>
                {
                    if (step != 8) return;
                    var grad = model.named_parameters().Single(p => p.name == "features.conv1.weight").parameter.grad!;
                    grad[0, 0, 1, 1] = tensor(float.NaN);
                },
            };
            var e = Assert.Throws<NonFiniteTrainingException>(() => trainer.TrainNetwork(fx.Set, fx.Normalisation, null, checkpoint, name: "faulty"));
            Assert.Equal(NonFiniteCause.NumericalFault, e.Report.Cause);
            Assert.Equal("gradient", e.Report.Where);
            Assert.Equal("gradient of features.conv1.weight", e.Report.FirstNonFinite);
            Assert.Equal("conv1", e.Report.Layer);
            Assert.Equal((5, 1), (e.Report.Epoch, e.Report.Step));
            Assert.Contains("A numerical fault, not divergence", e.Message);
            Assert.Contains("marrow doctor --selftest", e.Message);
            Assert.Contains("after epoch 4", e.Message);
            Assert.DoesNotContain("Lower the learning rate", e.Message);

            // The NaN never reached the weights: the checkpoint of epoch 4 resumes and finishes cleanly.
            var (model, history) = new Trainer(Config(6)).TrainNetwork(fx.Set, fx.Normalisation, null, checkpoint);
            using (model)
            {
                Assert.Equal(6, history.Count);
                Assert.All(model.parameters(), p => Assert.True(p.isfinite().all().item<bool>()));
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void NonFiniteInput_IsNamedAsTheInput()
    {
        // A record built by hand (Compute refuses a constant channel): Y divided by zero spread gives ±∞.
        var broken = fx.Normalisation with { Std = [0, 1, 1] };
        var e = Assert.Throws<NonFiniteTrainingException>(() => new Trainer(Config(2)).TrainNetwork(fx.Set, broken, null, name: "bad input"));
        Assert.Equal(NonFiniteCause.NonFiniteInput, e.Report.Cause);
        Assert.Equal("input batch", e.Report.FirstNonFinite);
        Assert.Contains("colour normalisation", e.Message);
    }

    [Fact]
    public void SavedModel_LoadsBack_AndItsSafetensorsLoadThroughPyBridge()
    {
        string dir = Directory.CreateTempSubdirectory("marrow-save-").FullName;
        try
        {
            var (net, history) = new Trainer(Config(2)).TrainNetwork(fx.Set, fx.Normalisation, null);
            var card = new ModelCard("OG", Config(2), "test", "twenty patches", "fp", "", fx.Set.Count, null, "none", true);
            using var model = new TrainedModel(net, fx.Normalisation, card, history);
            string folder = Path.Combine(dir, "model");
            model.Save(folder, "{}");
            using var loaded = TrainedModel.Load(folder);
            float[,] p1 = model.Probabilities(fx.Set), p2 = loaded.Probabilities(fx.Set);
            for (int i = 0; i < fx.Set.Count; i++) for (int c = 0; c < 10; c++) Assert.Equal(p1[i, c], p2[i, c], 6);
            Assert.Equal(history.Count, loaded.History.Count);

            // A PyTorch user's path: the safetensors file into a fresh network through TorchSharp.PyBridge.
            using var fresh = new VggNet((VggConfig)Config(2).Network);
            fresh.load_safetensors(Path.Combine(folder, TrainedModel.SafetensorsFile));
            fresh.eval();
            float[,] p3 = Inference.Probabilities(fresh, fx.Set, fx.Normalisation);
            for (int i = 0; i < fx.Set.Count; i++) for (int c = 0; c < 10; c++) Assert.Equal(p1[i, c], p3[i, c], 6);

            // A damaged model folder is named with its reason.
            File.Delete(Path.Combine(folder, TrainedModel.NormalisationFile));
            var e = Assert.Throws<FileNotFoundException>(() => TrainedModel.Load(folder));
            Assert.Contains("normalisation.json is missing", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ATamperedModelFolder_IsRefused_NamingTheFile_NeverRunWithWrongNumbers()
    {
        string dir = Directory.CreateTempSubdirectory("marrow-tamper-").FullName;
        try
        {
            var (net, history) = new Trainer(Config(1)).TrainNetwork(fx.Set, fx.Normalisation, null);
            var card = new ModelCard("OG", Config(1), "test", "twenty patches", "fp", "", fx.Set.Count, null, "none", true);
            using var model = new TrainedModel(net, fx.Normalisation, card, history);
            string Fresh(string name) { string f = Path.Combine(dir, name); model.Save(f, "{}"); return f; }
            string File_(string folder, string file) => Path.Combine(folder, file);

            // A changed normalisation.json (the statistics every input is scaled by).
            string a = Fresh("norm");
            string norm = File.ReadAllText(File_(a, TrainedModel.NormalisationFile));
            File.WriteAllText(File_(a, TrainedModel.NormalisationFile), norm.Replace("0.", "0.1", StringComparison.Ordinal));
            var e1 = Assert.Throws<InvalidDataException>(() => TrainedModel.Load(a));
            Assert.Contains(File_(a, TrainedModel.NormalisationFile), e1.Message);
            Assert.Contains("changed since the model was saved", e1.Message);

            // model.json naming another network: another class count, or another width (its weights would not fit).
            string b = Fresh("classes");
            string json = File.ReadAllText(File_(b, TrainedModel.CardFile));
            File.WriteAllText(File_(b, TrainedModel.CardFile), json.Replace("\"Classes\": 10", "\"Classes\": 5", StringComparison.Ordinal));
            var e2 = Assert.Throws<InvalidDataException>(() => TrainedModel.Load(b));
            Assert.Contains(b, e2.Message); // classes.json's ten names against model.json's five outputs
            Assert.Contains("5 outputs", e2.Message);
            string c = Fresh("width");
            File.WriteAllText(File_(c, TrainedModel.CardFile), File.ReadAllText(File_(c, TrainedModel.CardFile)).Replace("\"Width\": 0.125", "\"Width\": 0.25", StringComparison.Ordinal));
            var e3 = Assert.Throws<InvalidDataException>(() => TrainedModel.Load(c));
            Assert.Contains("names another network", e3.Message);
            Assert.Contains(File_(c, TrainedModel.CardFile), e3.Message);

            // A card of the older layout, whose network says nothing of its kind (one record for VGG and ResNet then).
            string k = Fresh("kind");
            string withKind = File.ReadAllText(File_(k, TrainedModel.CardFile));
            Assert.Contains("\"Kind\": \"vgg\"", withKind);
            File.WriteAllText(File_(k, TrainedModel.CardFile), withKind.Replace("\"Kind\": \"vgg\",", "", StringComparison.Ordinal));
            var e4 = Assert.Throws<InvalidDataException>(() => TrainedModel.Load(k));
            Assert.Contains(File_(k, TrainedModel.CardFile), e4.Message);
            Assert.Contains("saved by an older MarrowDiff", e4.Message);

            // classes.json of another count than the weights.
            string d = Fresh("classes-json");
            File.WriteAllText(File_(d, TrainedModel.ClassesFile), "[\"C9 Band neutrophil\", \"C10 Segmented neutrophil\"]");
            Assert.Contains(File_(d, TrainedModel.ClassesFile), Assert.Throws<InvalidDataException>(() => TrainedModel.Load(d)).Message);

            using (TrainedModel.Load(Fresh("untouched"))) { } // and an untouched folder still loads
        }
        finally { Directory.Delete(dir, true); }
    }
}
