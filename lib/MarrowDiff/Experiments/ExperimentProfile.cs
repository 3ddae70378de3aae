using System.Reflection;
using System.Text.Json;
using MarrowDiff.Model;
using MarrowDiff.Phantom;
using MarrowDiff.Preparation;
using MarrowDiff.Torch;
using MarrowDiff.Training;

namespace MarrowDiff.Experiments;

/// <summary>How a profile's classifier is made.</summary>
public enum Protocol
{
    /// <summary>The paper's: five-fold cross-validation picks the hyper-parameters from the grid, then one model per
    /// training set on the whole training side.</summary>
    Search,

    /// <summary>The k fold models (each trained without its fold and validated on it) are the cross-validation and,
    /// answering together, the classifier.</summary>
    FoldEnsemble,

    /// <summary>The k fold models are the cross-validation; one more model of the same recipe, trained on every
    /// training-side cell, answers alone.</summary>
    FoldsThenFinal,
}

/// <summary>
/// How one machine runs a profile, apart from what is trained: nothing here enters a model's key or changes a result.
/// </summary>
/// <param name="CellTimeout">How long one notebook cell may run under <c>marrow notebooks</c> before it is taken for hung:
/// the longest cell trains the profile's models.</param>
/// <param name="BudgetNeedsAvx512">The profile's measured training budget holds only on a CPU with AVX-512 (a setting that
/// changes the work clears it: the measured times no longer describe that profile).</param>
public sealed record RunPlan(TimeSpan CellTimeout, bool BudgetNeedsAvx512 = false)
{
    /// <summary>Null when the profile's budget holds on <paramref name="cpu"/>; otherwise one sentence, printed before
    /// training starts, saying so and naming the profile that fits. Advice, not an error: the result is the same.</summary>
    public string? BudgetAdvice(string profile, CpuInfo cpu) =>
        BudgetNeedsAvx512 && !cpu.Avx512
            ? $"note: {profile} on a CPU without AVX-512 ({cpu}) takes well over its 30-min budget; the real-lite profile is " +
              "the same recipe at 1/8 width and fits there, a little lower in cross-validation (the times and scores: " +
              "docs/measurements.md, \"Training budgets of the real profiles\")"
            : null;
}

/// <summary>
/// One record of every setting an experiment depends on. <c>paper</c> holds the paper's values (a GPU job); every other
/// profile is its parent with a few values overridden, so that what differs is exactly what the record says. The
/// resolved profile is saved beside every model and table. Why each profile has the values it has: docs/profiles.md.
/// </summary>
/// <param name="Purpose">What the profile is for, in a sentence written by hand; <see cref="Description"/> adds the settings, described from their values.</param>
/// <param name="Network">The network: the VGG-16-BN's width, depth and input size, or a pretrained backbone.</param>
/// <param name="Epochs">Training epochs of every final model (the paper: 150).</param>
/// <param name="OversampleTo">Images per class of the OS and AG+OS training sets (the paper: 300 and 600).</param>
/// <param name="Grid">Hyper-parameter candidates; five-fold cross-validation picks one.</param>
/// <param name="CrossValidationEpochs">Epochs of each cross-validation run.</param>
/// <param name="CrossValidationVariant">The training set cross-validation trains on (the paper does not say; we use
/// the largest without augmentation, OS at the higher N, so that the search sees oversampled data at modest cost).</param>
/// <param name="ValidationFold">The fold held out while training the final models, whose accuracy per epoch is the
/// paper's Fig 4A validation curve; the test set stays untouched until the final evaluation.</param>
public sealed record ExperimentProfile(
    string Name, string Purpose, PhantomSize PhantomSize, NetworkConfig Network, int Epochs, int BatchSize,
    (int Low, int High) OversampleTo, IReadOnlyList<Hyperparameters> Grid, int CrossValidationEpochs, string CrossValidationVariant,
    int ValidationFold, bool ComparableToPaper)
{
    /// <summary>Epochs of the dual stage's local model; null: <see cref="Epochs"/> (the paper gives one number, 150).</summary>
    public int? LocalEpochs { get; init; }

    public int LocalModelEpochs => LocalEpochs ?? Epochs;

    /// <summary>Learning rate of the dual stage's local model; null: the global model's (the paper gives one recipe).</summary>
    public double? LocalLearningRate { get; init; }

    /// <summary>Start the dual stage's local model from the global model (every layer but the 2-way last one) instead of
    /// from scratch as the paper does (why real-plus needs it: docs/profiles.md).</summary>
    public bool LocalFromGlobal { get; init; }

    /// <summary>The local model's hyper-parameters: <paramref name="global"/> with <see cref="LocalLearningRate"/>.</summary>
    public Hyperparameters LocalHyper(Hyperparameters global) => LocalLearningRate is { } rate ? global with { LearningRate = rate } : global;

    /// <summary>The one seed of an experiment: it renders the phantom, draws the split and, unless
    /// <see cref="TrainingSeed"/> is set, the re-crop centres, the order of the training images and the initial weights.
    /// It travels with the profile (<see cref="WithSeed"/>), so a table, a model and its data preparation cannot disagree about it.</summary>
    public int Seed { get; init; } = 2017;

    /// <summary>The seed of training alone when it differs from <see cref="Seed"/>: it draws the re-crop centres, the order
    /// of the training images, the dropout masks and the initial weights, while <see cref="Seed"/> keeps drawing the
    /// split, so models of several training seeds answer on the same test cells (training-seed replicates). Null:
    /// <see cref="Seed"/> draws both, as before replicates existed, so every model trained then keeps its key.</summary>
    public int? TrainingSeed { get; init; }

    /// <summary>The seed a model of this profile is trained with: <see cref="TrainingSeed"/>, else <see cref="Seed"/>.</summary>
    public int ModelSeed => TrainingSeed ?? Seed;

    /// <summary>This profile with training seed <paramref name="seed"/>; the split's seed itself is no separate training
    /// seed (null), so that seed's models keep the keys they always had.</summary>
    public ExperimentProfile WithTrainingSeed(int seed) => this with { TrainingSeed = seed == Seed ? null : seed };

    /// <summary>The equal-training control of Table 1: every model of the six training sets and the dual stage's local
    /// model trains for the whole number of epochs that brings its SGD steps closest to this many (at least one epoch),
    /// instead of the same epochs for all, so that "more images" is told apart from "more training". Null: the paper's
    /// protocol, the same epochs for every row. The cross-validation search keeps its own epochs.</summary>
    public int? EqualSteps { get; init; }

    /// <summary>The epochs of a model trained on <paramref name="images"/> images: <see cref="EqualSteps"/>'s share, or
    /// <paramref name="epochs"/> under the paper's protocol.</summary>
    public int EpochsFor(int images, int epochs)
    {
        if (EqualSteps is not { } steps) return epochs;
        int perEpoch = (images + BatchSize - 1) / BatchSize;
        return Math.Max(1, (int)Math.Round(steps / (double)perEpoch, MidpointRounding.AwayFromZero));
    }

    /// <summary>The refinements beyond the paper (<see cref="Training.Refinements"/>); null in the paper's profiles.</summary>
    public Refinements? Refinements { get; init; }

    /// <summary>0: the paper's protocol (cross-validation picks hyper-parameters, then one model per training set).
    /// k ≥ 1: the models of folds 1…k (each trained without its fold, validated on it) are the cross-validation and,
    /// together, the classifier (<see cref="FoldEnsemble"/>); the grid's first point is used. 1 trains fold 1 alone:
    /// a quick look while choosing a recipe.</summary>
    public int EnsembleFolds { get; init; }

    /// <summary>With <see cref="EnsembleFolds"/> k ≥ 1: the k fold models stay the cross-validation, but the classifier
    /// is one more model of the same recipe trained on every training-side cell, answering alone: one forward pass a
    /// cell instead of k. The pooled cross-validation estimates it, as it estimates any one of the fold models.</summary>
    public bool FinalModel { get; init; }

    /// <summary>Which protocol trains this profile's classifier, from <see cref="EnsembleFolds"/> and <see cref="FinalModel"/>:
    /// the one place those settings are read for it, so every command and notebook dispatches on the same answer.</summary>
    public Protocol Protocol => EnsembleFolds == 0 ? Protocol.Search : FinalModel ? Protocol.FoldsThenFinal : Protocol.FoldEnsemble;

    /// <summary>How the convolutions run while training (<see cref="ConvolutionEngine"/>); fp32 unless set.</summary>
    public ConvolutionEngine Engine { get; init; }

    /// <summary>Models that train together (a Table 1's six, a fold ensemble and its final model) train side by side on
    /// the CPU, each on one thread (<see cref="TrainingConfig.SingleThreaded"/>), one model a core, instead of one after
    /// another on every thread: at 1/8 width a step is too little work to split across two cores well
    /// (docs/measurements.md, "Side-by-side training"). Part of what is trained: a single-threaded model's bytes differ.</summary>
    public bool SideBySide { get; init; }

    /// <summary>The training set of the profile's classifier (what <c>marrow train</c>, the learning curve and notebook 07's
    /// neutrophil series train on), by name; null: <see cref="Largest"/>.</summary>
    public string? TrainingSet { get; init; }

    /// <summary>The classifier's training set (<see cref="TrainingSet"/>, or AG+OS at the higher N).</summary>
    public TrainingVariant ClassifierVariant =>
        TrainingSet is null ? Largest
        : Variants.FirstOrDefault(v => v.Name == TrainingVariant.Parse(TrainingSet).Name)
          ?? throw new ArgumentException($"profile {Name}: training set {TrainingSet} is not one of its six ({string.Join(", ", Variants.Select(v => v.Name))})");

    /// <summary>How a machine runs this profile (<see cref="RunPlan"/>): never part of what is trained.</summary>
    public RunPlan Run { get; init; } = new(TimeSpan.FromMinutes(20));

    /// <summary>This profile with <paramref name="seed"/> (the name is unchanged: stamps give the seed beside it).</summary>
    public ExperimentProfile WithSeed(int seed) => this with { Seed = seed, TrainingSeed = TrainingSeed == seed ? null : TrainingSeed };

    // Every refinement at its default, but each image turned by a random angle in training and answered in one pass
    // (real-plus and real-transfer-os; docs/real-cells.md, "Random-angle rotation buys speed").
    private static readonly Refinements RotatedOnePass = Refinements.Recommended with
    {
        Augmentation = new AugmentationOptions { Rotation = true }, Inference = new InferenceOptions(TestTimeD4: false),
    };

    // The profiles. Each is its parent with what differs; why each value: docs/profiles.md. Adding a profile: one
    // property here (All finds it).

    /// <summary>The paper's settings (a GPU job). The paper names the tuned hyper-parameters but not their values; the
    /// grid spans the usual range for SGD on VGG-BN from scratch.</summary>
    public static ExperimentProfile Paper { get; } = new(
        "paper", "The paper's settings (a GPU job).",
        PhantomSize.Paper, new VggConfig(), Epochs: 150, BatchSize: 40, OversampleTo: (300, 600),
        Grid: [.. from lr in new[] { 0.01, 0.05 } from decay in new[] { 1e-7, 1e-4 } from wd in new[] { 5e-4, 1e-3 } select new Hyperparameters(lr, 0.9, decay, wd)],
        CrossValidationEpochs: 50, CrossValidationVariant: "OS600", ValidationFold: 1, ComparableToPaper: true)
    {
        Run = new(TimeSpan.FromHours(72)),
    };

    /// <summary>CI and a first look on a 2-core CPU: everything smaller (docs/profiles.md, "smoke").</summary>
    public static ExperimentProfile Smoke { get; } = Paper with
    {
        Name = "smoke",
        Purpose = "CI and a first look on a 2-core CPU: the small phantom (235 cells).",
        PhantomSize = PhantomSize.Smoke,
        Network = new VggConfig(Width: 0.125, InputSize: 48, FirstDropout: 0, Dropout: 0, ClassifierDropout: 0),
        Epochs = 10, OversampleTo = (30, 60), LocalEpochs = 50,
        Grid = [new Hyperparameters(0.01, 0.9, 1e-4, 5e-4), new Hyperparameters(0.003, 0.9, 1e-4, 5e-4)],
        CrossValidationEpochs = 5, CrossValidationVariant = "OS60", ComparableToPaper = false,
        Run = new(TimeSpan.FromMinutes(20)),
    };

    /// <summary>Table 1's trends on a laptop CPU, on the paper-size phantom; not yet run end to end (docs/profiles.md, "laptop").</summary>
    public static ExperimentProfile Laptop { get; } = Paper with
    {
        Name = "laptop",
        Purpose = "A longer look on a laptop: the paper-size phantom.",
        Network = new VggConfig(Width: 0.125, FirstDropout: 0, Dropout: 0, ClassifierDropout: 0),
        Epochs = 8, OversampleTo = (100, 200), LocalEpochs = 40,
        Grid = [new Hyperparameters(0.01, 0.9, 1e-4, 5e-4), new Hyperparameters(0.003, 0.9, 1e-4, 5e-4)],
        CrossValidationEpochs = 3, CrossValidationVariant = "OS200", ComparableToPaper = false,
        Run = new(TimeSpan.FromHours(3)),
    };

    /// <summary>Notebook 07's default on real cells: smoke's network and schedule, no search (docs/profiles.md, "real").</summary>
    public static ExperimentProfile Real { get; } = Paper with
    {
        Name = "real",
        Purpose = "Real cells, notebook 07's default: smoke's network and schedule.",
        // Smoke's network and schedule, on real cells: the phantom size only matters for --data phantom (tests).
        PhantomSize = PhantomSize.Smoke,
        Network = new VggConfig(Width: 0.125, InputSize: 48, FirstDropout: 0, Dropout: 0, ClassifierDropout: 0),
        Epochs = 10, OversampleTo = (75, 150), LocalEpochs = 25,
        Grid = [new Hyperparameters(0.01, 0.9, 1e-4, 5e-4)],
        CrossValidationEpochs = 5, CrossValidationVariant = "OS150", ComparableToPaper = false,
        Run = new(TimeSpan.FromHours(1)),
    };

    /// <summary>The paper's Table 1 on real cells: real's network and recipe for every training set, N from the real class
    /// sizes, the same epochs for every row and the local model (docs/profiles.md, "real-table1").</summary>
    public static ExperimentProfile RealTable1 { get; } = Real with
    {
        Name = "real-table1",
        Purpose = "The paper's Table 1 on real cells: one network and recipe for every training set (a PBC stage has about 400 training cells, the promyelocytes about 126).",
        OversampleTo = (400, 800), LocalEpochs = null,
        CrossValidationVariant = "OS800",
        SideBySide = true,
        Run = new(TimeSpan.FromHours(3)),
    };

    // Typed as the VGG it is, so real-lite changes its width without a cast. Declared before RealPlus: static
    // initialisers run in the order they are written.
    private static readonly VggConfig RealPlusNetwork = new(Width: 0.25, InputSize: 96, FirstDropout: 0, Dropout: 0, ClassifierDropout: 0.3) { GlobalPool = true };

    /// <summary>A stronger recipe for real cells beside the paper's: a quarter-width VGG at 96 px with the refinements, the
    /// five fold models together (docs/profiles.md, "real-plus").</summary>
    public static ExperimentProfile RealPlus { get; } = Paper with
    {
        Name = "real-plus",
        Purpose = "A stronger recipe for real cells, for a CPU with AVX-512.",
        PhantomSize = PhantomSize.Smoke,
        Network = RealPlusNetwork,
        Epochs = 10, OversampleTo = (75, 150), LocalEpochs = 10, LocalFromGlobal = true,
        Grid = [new Hyperparameters(0.02, 0.9, 0, 5e-4)],
        // The fold models are the cross-validation (no search): its epochs and variant are not used, written as real's.
        CrossValidationEpochs = 5, CrossValidationVariant = "OS150", ComparableToPaper = false,
        Refinements = RotatedOnePass,
        EnsembleFolds = 5,
        Engine = ConvolutionEngine.ChannelsLast,
        Run = new(TimeSpan.FromHours(3), BudgetNeedsAvx512: true),
    };

    /// <summary>real-plus at 1/8 width, for a 2-core CPU without AVX-512 (docs/profiles.md, "real-lite").</summary>
    public static ExperimentProfile RealLite { get; } = RealPlus with
    {
        Name = "real-lite",
        Purpose = "real-plus at 1/8 width, for a 2-core CPU without AVX-512.",
        Network = RealPlusNetwork with { Width = 0.125 },
        SideBySide = true,
        Run = RealPlus.Run with { BudgetNeedsAvx512 = false },
    };

    /// <summary>real-lite answered by one network, one pass a cell (docs/profiles.md, "real-fast").</summary>
    public static ExperimentProfile RealFast { get; } = RealLite with
    {
        Name = "real-fast",
        Purpose = "real-lite with one classifier model instead of five, one pass a cell.",
        FinalModel = true,
    };

    /// <summary>Transfer learning: an ImageNet-pretrained ResNet-18 fine-tuned on the cells (docs/profiles.md, "real-transfer").</summary>
    public static ExperimentProfile RealTransfer { get; } = Paper with
    {
        Name = "real-transfer",
        Purpose = "Transfer learning: CNTK's ImageNet ResNet-18, from ML.NET's DnnImageFeaturizer package.",
        PhantomSize = PhantomSize.Smoke,
        Network = new ResNetConfig(InputSize: 128, ClassifierDropout: 0),
        Epochs = 1, OversampleTo = (75, 150), LocalEpochs = 2, LocalFromGlobal = true,
        Grid = [new Hyperparameters(0.01, 0.9, 0, 1e-4)],
        CrossValidationEpochs = 5, CrossValidationVariant = "OS150", ComparableToPaper = false,
        Refinements = Refinements.Recommended,
        EnsembleFolds = 5, FinalModel = true,
        Run = new(TimeSpan.FromHours(3)),
    };

    /// <summary>real-transfer for a folder whose stages have hundreds of cells: every cell kept, random angles, one pass a
    /// cell (docs/profiles.md, "real-transfer-os").</summary>
    public static ExperimentProfile RealTransferOs { get; } = RealTransfer with
    {
        Name = "real-transfer-os",
        Purpose = "real-transfer for a folder whose stages have more cells than its N: every cell kept, the smaller stages re-cropped.",
        OversampleTo = (240, 480), TrainingSet = "OS480", Epochs = 8,
        Refinements = RotatedOnePass,
    };

    /// <summary>Every profile above, in the order written.</summary>
    public static IReadOnlyList<ExperimentProfile> All { get; } =
        [.. typeof(ExperimentProfile).GetProperties(BindingFlags.Public | BindingFlags.Static)
            .Where(p => p.PropertyType == typeof(ExperimentProfile)).OrderBy(p => p.MetadataToken)
            .Select(p => (ExperimentProfile)p.GetValue(null)!)];

    public static ExperimentProfile Parse(string name) =>
        All.FirstOrDefault(p => p.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown profile '{name}': use {string.Join(", ", All.Select(p => p.Name))}");

    /// <summary>AG+OS at the higher N (AG+OS600 in the paper): the largest of the six, the dual stage's global model.</summary>
    public TrainingVariant Largest => TrainingVariant.Oversampled(OversampleTo.High, augment: true);

    /// <summary>The six training sets of Table 1 for this profile.</summary>
    public IReadOnlyList<TrainingVariant> Variants => TrainingVariant.Six(OversampleTo.Low, OversampleTo.High);

    /// <summary>Training configuration for one set of hyper-parameters, with the profile's training seed.</summary>
    public TrainingConfig Training(Hyperparameters hyper, int? epochs = null) => new(Network, hyper, epochs ?? Epochs, BatchSize, ModelSeed) { Refinements = Refinements, Engine = Engine };

    /// <summary>The recipe of a fold model and of the final model (<see cref="EnsembleFolds"/>): <see cref="Training"/>,
    /// on one thread when they train side by side (<see cref="SideBySide"/>).</summary>
    public TrainingConfig FoldTraining(Hyperparameters hyper) => Training(hyper) with { SingleThreaded = SideBySide };

    /// <summary>Checks every value; a profile that fails never trains.</summary>
    public ExperimentProfile Validate()
    {
        Network.Validate();
        if (Epochs < 1 || CrossValidationEpochs < 1 || LocalEpochs < 1) throw new ArgumentException($"profile {Name}: epochs must be at least 1");
        if (BatchSize < 1) throw new ArgumentException($"profile {Name}: batch size must be at least 1");
        if (OversampleTo.Low < 1 || OversampleTo.High < OversampleTo.Low) throw new ArgumentException($"profile {Name}: oversampling targets {OversampleTo} must satisfy 1 ≤ low ≤ high");
        if (Grid.Count == 0) throw new ArgumentException($"profile {Name}: an empty hyper-parameter grid");
        foreach (var h in Grid) { h.Validate(); LocalHyper(h).Validate(); }
        if (ValidationFold is < 1 or > SplitOptions.Folds) throw new ArgumentException($"profile {Name}: validation fold {ValidationFold} is not 1…{SplitOptions.Folds}");
        _ = TrainingVariant.Parse(CrossValidationVariant);
        _ = ClassifierVariant;
        Training(Grid[0]).Validate();
        if (EnsembleFolds is < 0 or > SplitOptions.Folds) throw new ArgumentException($"profile {Name}: ensemble folds {EnsembleFolds} is not 0…{SplitOptions.Folds}");
        if (EqualSteps is < 1) throw new ArgumentException($"profile {Name}: steps={EqualSteps} must be at least 1");
        if (EqualSteps is not null && EnsembleFolds > 0) throw new ArgumentException($"profile {Name}: steps= is Table 1's equal-training control, for the paper's protocol (ensemble_folds=0)");
        if (FinalModel && EnsembleFolds < 1) throw new ArgumentException($"profile {Name}: final=one needs the fold models' cross-validation to estimate it (ensemble_folds 1…{SplitOptions.Folds})");
        return this;
    }

    /// <summary>What <see cref="With"/> accepts (<see cref="ProfileSettings"/>), as the CLI's <c>--set</c> help shows it.</summary>
    public static string SettingNames => ProfileSettings.Names;

    /// <summary>
    /// This profile with one value overridden (<c>epochs=20</c>, <c>width=0.25</c>, <c>oversample=100,200</c>, …: every
    /// setting is a row of <see cref="ProfileSettings"/>). Any override makes the result not comparable to the paper
    /// unless it restates a paper value; one that changes the work clears the measured budget.
    /// </summary>
    /// <param name="settings">The table of settings (<see cref="ProfileSettings.All"/>; a test gives it with a row more).</param>
    public ExperimentProfile With(string key, string value, IReadOnlyList<ProfileSetting>? settings = null)
    {
        var setting = ProfileSettings.Find(key, settings);
        var p = setting.Apply(this, new SettingValue(setting.Key, value));
        p = p with { Name = $"{Name}+{key}={value}", ComparableToPaper = ComparableToPaper && p == this with { Name = p.Name } };
        if (setting.ChangesWork) p = p with { Run = p.Run with { BudgetNeedsAvx512 = false } };
        return p.Validate();
    }

    /// <summary>What the profile is, for a reader: its caveat, its <see cref="Purpose"/> (a sentence written by hand) and
    /// its settings described from their values, so a description cannot drift from the profile, nor from an override
    /// (<see cref="With"/>).</summary>
    public string Description => $"{Caveat}. {Purpose} {Capitalised(ProfileDescription.Settings(this))}.";

    private static string Capitalised(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    /// <summary>"not comparable to the paper" unless this is the paper's own setting.</summary>
    public string Caveat => ComparableToPaper ? "paper profile" : $"{Name} profile: not comparable to the paper";

    /// <summary>The resolved profile as JSON, saved beside every model and table: what every profile has, then each
    /// setting's own fields (<see cref="ProfileSetting.Json"/>) where this profile has them.</summary>
    public string ToJson(IReadOnlyList<ProfileSetting>? settings = null) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["name"] = Name, ["description"] = Description, ["phantom_size"] = PhantomSize.Name,
        ["network"] = JsonSerializer.SerializeToElement(Network), ["epochs"] = Epochs, ["local_epochs"] = LocalModelEpochs, ["batch_size"] = BatchSize,
        ["oversample_to"] = new[] { OversampleTo.Low, OversampleTo.High }, ["grid"] = Grid,
        ["cross_validation_epochs"] = CrossValidationEpochs, ["cross_validation_variant"] = CrossValidationVariant,
        ["validation_fold"] = ValidationFold, ["comparable_to_paper"] = ComparableToPaper, ["seed"] = Seed,
    }.Concat((settings ?? ProfileSettings.All).SelectMany(s => s.Json?.Invoke(this) ?? []).Select(f => new KeyValuePair<string, object>(f.Name, f.Value)))
     .ToDictionary(), new JsonSerializerOptions { WriteIndented = true });
}
