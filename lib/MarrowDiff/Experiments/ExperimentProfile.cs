using System.Globalization;
using System.Text.Json;
using MarrowDiff.Model;
using MarrowDiff.Phantom;
using MarrowDiff.Preparation;
using MarrowDiff.Torch;

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
/// One record of every setting an experiment depends on. <c>paper</c> holds the paper's values (a GPU job);
/// <c>smoke</c> and <c>laptop</c> are the same record with a few values overridden, so that what differs from
/// the paper is exactly what the record says. The resolved profile is saved beside every model and table.
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
    /// <summary>Epochs of the dual stage's local model; null: <see cref="Epochs"/> (the paper gives one number, 150).
    /// The local model trains on two of ten classes, a fifth of the images, so at the same epochs it takes a fifth of
    /// the global model's SGD steps: the small profiles give it as many steps as the global model instead (chosen on
    /// the validation fold, see <see cref="Smoke"/>).</summary>
    public int? LocalEpochs { get; init; }

    public int LocalModelEpochs => LocalEpochs ?? Epochs;

    /// <summary>Learning rate of the dual stage's local model; null: the global model's (the paper gives one recipe).
    /// Two look-alike classes make a harder start than five: at real-plus's rate of 0.02 the local band/segmented model
    /// diverged in its first epoch and never recovered (loss at ln 2), with 10 or 25 epochs alike.</summary>
    public double? LocalLearningRate { get; init; }

    /// <summary>Start the dual stage's local model from the global model (every layer but the 2-way last one) instead of
    /// from scratch as the paper does. Off in the paper's profiles. real-plus needs it: from scratch, its band/segmented
    /// model stayed at chance whatever the rate and epochs tried; the global model's features already separate the two
    /// stages, so started from them the local model has something to refine (the runs: docs/measurements.md,
    /// "Choices of the profiles").</summary>
    public bool LocalFromGlobal { get; init; }

    /// <summary>The local model's hyper-parameters: <paramref name="global"/> with <see cref="LocalLearningRate"/>.</summary>
    public Hyperparameters LocalHyper(Hyperparameters global) => LocalLearningRate is { } rate ? global with { LearningRate = rate } : global;

    /// <summary>The one seed of an experiment: it renders the phantom, draws the split and the re-crop centres, orders
    /// the training images and initialises the weights. It travels with the profile (<see cref="WithSeed"/>), so a
    /// table, a model and its data preparation cannot disagree about it.</summary>
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

    /// <summary>The refinements beyond the paper (<see cref="Model.Refinements"/>); null in the paper's profiles.</summary>
    public Refinements? Refinements { get; init; }

    /// <summary>0: the paper's protocol (cross-validation picks hyper-parameters, then one model per training set).
    /// k ≥ 1: the models of folds 1…k (each trained without its fold, validated on it) are the cross-validation and,
    /// together, the classifier (<see cref="FoldEnsemble"/>); the grid's first point is used. 1 trains fold 1 alone:
    /// a quick look while choosing a recipe.</summary>
    public int EnsembleFolds { get; init; }

    /// <summary>With <see cref="EnsembleFolds"/> k ≥ 1: the k fold models stay the cross-validation, but the classifier
    /// is one more model of the same recipe trained on every training-side cell (all five folds, none held out),
    /// answering alone: one forward pass a cell instead of k. The pooled cross-validation estimates it, as it estimates
    /// any one of the fold models (each a single network trained on four fifths of the cells it trains on); what it
    /// cannot say is how much the k models together would have added.</summary>
    public bool FinalModel { get; init; }

    /// <summary>Which protocol trains this profile's classifier, from <see cref="EnsembleFolds"/> and <see cref="FinalModel"/>:
    /// the one place those settings are read for it, so every command and notebook dispatches on the same answer.</summary>
    public Protocol Protocol => EnsembleFolds == 0 ? Protocol.Search : FinalModel ? Protocol.FoldsThenFinal : Protocol.FoldEnsemble;

    /// <summary>How the convolutions run while training (<see cref="ConvolutionEngine"/>); fp32 unless set.</summary>
    public ConvolutionEngine Engine { get; init; }

    /// <summary>With <see cref="EnsembleFolds"/>: the fold models (and the final model) train side by side on the CPU
    /// (without: a Table 1's six models, <see cref="Experiment.Train(IReadOnlyList{TrainingVariant}, Hyperparameters)"/>),
    /// each on one thread (<see cref="TrainingConfig.SingleThreaded"/>), one model a core, instead of one after another
    /// on every thread. Why: at 1/8 width a training step is too little work for oneDNN to split across two cores well,
    /// and two one-thread trainings side by side make more images a second in all (docs/measurements.md, "Side-by-side
    /// training"). Other models of the profile (a local model,
    /// the notebook's all-sources model) train alone, on every thread.</summary>
    public bool SideBySide { get; init; }

    /// <summary>The training set of the profile's classifier (what <c>marrow train</c>, the learning curve and notebook 07's
    /// neutrophil series train on), by name; null: the largest of Table 1's six, AG+OS at the higher N. A profile whose
    /// classes are larger than its N names OS N here when more distinct cells are worth more than the fixed poses.</summary>
    public string? TrainingSet { get; init; }

    /// <summary>The classifier's training set (<see cref="TrainingSet"/>, or AG+OS at the higher N).</summary>
    public TrainingVariant ClassifierVariant =>
        TrainingSet is null ? Largest
        : Variants.FirstOrDefault(v => v.Name == TrainingVariant.Parse(TrainingSet).Name)
          ?? throw new ArgumentException($"profile {Name}: training set {TrainingSet} is not one of its six ({string.Join(", ", Variants.Select(v => v.Name))})");

    /// <summary>How long one notebook cell of this profile may run under <c>marrow notebooks</c> before it is taken for
    /// hung: the longest cell trains the profile's models. Smoke's cells take minutes; the paper's train 150 epochs of
    /// the full network (a GPU job), the real profiles' up to an hour or more on a CPU without AVX-512.</summary>
    public TimeSpan CellTimeout { get; init; } = TimeSpan.FromMinutes(20);

    /// <summary>This profile with <paramref name="seed"/> (the name is unchanged: stamps give the seed beside it).</summary>
    public ExperimentProfile WithSeed(int seed) => this with { Seed = seed, TrainingSeed = TrainingSeed == seed ? null : TrainingSeed };

    /// <summary>The paper's settings: full-width network on 96×96 patches, batch 40, 150 epochs, N = 300 and 600.
    /// The paper names the tuned hyper-parameters but not their values; the grid spans the usual range for SGD on
    /// VGG-BN from scratch.</summary>
    public static ExperimentProfile Paper { get; } = new(
        "paper", "The paper's settings (a GPU job).",
        PhantomSize.Paper, new VggConfig(), Epochs: 150, BatchSize: 40, OversampleTo: (300, 600),
        Grid: [.. from lr in new[] { 0.01, 0.05 } from decay in new[] { 1e-7, 1e-4 } from wd in new[] { 5e-4, 1e-3 } select new Hyperparameters(lr, 0.9, decay, wd)],
        CrossValidationEpochs: 50, CrossValidationVariant: "OS600", ValidationFold: 1, ComparableToPaper: true)
    {
        CellTimeout = TimeSpan.FromHours(72),
    };

    /// <summary>CI and a first look on a 2-core CPU: everything smaller. Not comparable to the paper.
    /// Local model 50 epochs: as many steps as the global AG+OS60 model's 10 (960 images against 4,800); at 10 it had not
    /// learnt the pair. No dropout: at 1/8 width, dropout between 8-channel convolutions and before a 64-feature
    /// classifier keeps the network from learning in 10 epochs (both measured: docs/measurements.md, "Choices of the
    /// profiles").</summary>
    public static ExperimentProfile Smoke { get; } = Paper with
    {
        Name = "smoke",
        Purpose = "CI and a first look on a 2-core CPU: the small phantom (235 cells).",
        PhantomSize = PhantomSize.Smoke,
        Network = new VggConfig(Width: 0.125, InputSize: 48, FirstDropout: 0, Dropout: 0, ClassifierDropout: 0),
        Epochs = 10, OversampleTo = (30, 60), LocalEpochs = 50,
        Grid = [new Hyperparameters(0.01, 0.9, 1e-4, 5e-4), new Hyperparameters(0.003, 0.9, 1e-4, 5e-4)],
        CrossValidationEpochs = 5, CrossValidationVariant = "OS60", ComparableToPaper = false,
        CellTimeout = TimeSpan.FromMinutes(20),
    };

    /// <summary>Table 1's trends on a laptop CPU: the paper-size phantom, a 1/8-width network (no dropout, as in
    /// smoke) at full resolution, OS 100/200, 8 epochs: about an hour of training steps on a 2-core CPU by its measured
    /// step time (docs/measurements.md, "Choices of the profiles"); not yet run end to end.</summary>
    public static ExperimentProfile Laptop { get; } = Paper with
    {
        Name = "laptop",
        Purpose = "A longer look on a laptop: the paper-size phantom.",
        Network = new VggConfig(Width: 0.125, FirstDropout: 0, Dropout: 0, ClassifierDropout: 0),
        Epochs = 8, OversampleTo = (100, 200), LocalEpochs = 40,
        Grid = [new Hyperparameters(0.01, 0.9, 1e-4, 5e-4), new Hyperparameters(0.003, 0.9, 1e-4, 5e-4)],
        CrossValidationEpochs = 3, CrossValidationVariant = "OS200", ComparableToPaper = false,
        CellTimeout = TimeSpan.FromHours(3),
    };

    /// <summary>Notebook 07's CPU budget on the real development subset: the smoke network, N = 75/150 (the PBC stages
    /// have about 100 training cells each), 10 epochs, the local model as many steps as the global one (25 epochs for
    /// two of five classes). No hyper-parameter search on real images: the first smoke grid point is used.</summary>
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
        CellTimeout = TimeSpan.FromHours(1),
    };

    /// <summary>
    /// The paper's Table 1 on real cells: the <see cref="Real"/> profile's network and recipe (the paper's VGG-16-BN at
    /// 1/8 width without dropout, on patches average-pooled to 48×48; SGD at lr 0.01 with Torch7's decay; no refinement,
    /// so that augmentation and oversampling are the only things that differ between rows) for every training set, with
    /// N chosen from the real class sizes: a PBC stage has about 400 training cells once the test part and the
    /// validation fold are out (600 × 5/6 × 4/5), so OS400 balances the classes by re-cropping the promyelocytes (about
    /// 126) and leaves the rest as they are, and OS800 gives every cell at least a second crop. Every row trains the same
    /// 10 epochs, as the paper's rows train the same 150: the larger sets get more SGD steps, as they did there. The
    /// local model trains as many epochs as the global ones, as the paper's does (one number, 150), from scratch. The six
    /// models train side by side, one a core on one thread each: at 1/8 width a step is too little work to split
    /// across two cores well (see <see cref="SideBySide"/>).
    /// </summary>
    public static ExperimentProfile RealTable1 { get; } = Real with
    {
        Name = "real-table1",
        Purpose = "The paper's Table 1 on real cells: one network and recipe for every training set (a PBC stage has about 400 training cells, the promyelocytes about 126).",
        OversampleTo = (400, 800), LocalEpochs = null,
        CrossValidationVariant = "OS800",
        SideBySide = true,
        CellTimeout = TimeSpan.FromHours(3),
    };

    // Typed as the VGG it is, so real-lite and real-fast change its width without a cast. Declared before RealPlus:
    // static initialisers run in the order they are written.
    private static readonly VggConfig RealPlusNetwork = new(Width: 0.25, InputSize: 96, FirstDropout: 0, Dropout: 0, ClassifierDropout: 0.3) { GlobalPool = true };

    /// <summary>
    /// Real cells at full resolution with what a careful practitioner adds, as its own profile beside the
    /// paper's (which stays faithful): a quarter-width VGG-16-BN on 96-px patches with global average pooling before
    /// its three fully connected layers, SGD with warm-up and cosine decay, label smoothing, stain jitter, every training
    /// image turned by a random angle, and the five cross-validation models used together as the classifier, one pass
    /// a cell. Chosen on validation folds of the development subset only (the choices and their fold scores:
    /// docs/real-cells.md, "How it was chosen").
    /// </summary>
    /// <remarks>Random rotation stands in for test-time D4 averaging (why: <see cref="Refinements.Rotation"/>), so the
    /// classifier makes 5 forward passes a cell instead of 40; <c>--set tta=on</c> brings the eight poses back.
    /// <para>The convolutions train channels-last (<see cref="ConvolutionEngine.ChannelsLast"/>): the same function up to
    /// rounding, faster per step at this width with oneDNN's AVX-512 and AVX2 kernels alike, and on the five validation
    /// folds not distinguishable from fp32 (docs/real-cells.md, "Channels-last training buys time"). <c>--set engine=fp32</c> trains
    /// the fp32 models.</para></remarks>
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
        Refinements = new Refinements(TestTimeD4: false) { Rotation = true },
        EnsembleFolds = 5,
        Engine = ConvolutionEngine.ChannelsLast,
        BudgetNeedsAvx512 = true,
        CellTimeout = TimeSpan.FromHours(3),
    };

    /// <summary>
    /// real-plus at 1/8 width, for a 2-core CPU without AVX-512, where real-plus's five models take over an hour
    /// (docs/measurements.md, "Training budgets of the real profiles"). Every other setting is real-plus's, so what
    /// differs is exactly the width.
    /// </summary>
    /// <remarks>Chosen on the five validation folds of the development folder's training side, on a CPU without
    /// AVX-512, by a rule set before the runs: keep the cheapest candidate within 30 min whose pooled cross-validated
    /// macro-F1 is within two points of real-plus's there (the candidates and their scores: docs/measurements.md).
    /// At 1/8 width the first block's 8 channels fill one AVX2 register exactly (oneDNN's block 8 there), so the
    /// narrower network costs about half the step time; under AVX-512 (block 16) they fill half a register and the step
    /// gains less, where real-plus fits the budget anyway.</remarks>
    public static ExperimentProfile RealLite { get; } = RealPlus with
    {
        Name = "real-lite",
        Purpose = "real-plus at 1/8 width, for a 2-core CPU without AVX-512.",
        Network = RealPlusNetwork with { Width = 0.125 },
        BudgetNeedsAvx512 = false,
        SideBySide = true,
    };

    /// <summary>
    /// real-lite answered by one network (<see cref="FinalModel"/>): its five fold models are the cross-validation
    /// (the same models as real-lite's, same cache key), and a sixth model of the same recipe, trained on every
    /// training-side cell, is the classifier. One forward pass a cell instead of five: for counting many cells on a
    /// CPU (about a thousand cells a second at 1/8 width: docs/measurements.md, "Inference streams"), at the cost of the fold ensemble's averaging.
    /// </summary>
    /// <remarks>No setting was tuned for it: it is real-lite's recipe and cross-validation, so the choice of real-lite
    /// (on the folds, docs/real-cells.md "real-lite") carries over. The pooled cross-validation is an estimate for one network
    /// trained on four fifths of the training side; the final model trains on all of it.</remarks>
    public static ExperimentProfile RealFast { get; } = RealPlus with
    {
        Name = "real-fast",
        Purpose = "real-lite with one classifier model instead of five, one pass a cell.",
        Network = RealPlusNetwork with { Width = 0.125 },
        BudgetNeedsAvx512 = false,
        SideBySide = true,
        FinalModel = true,
    };

    /// <summary>
    /// Features learned elsewhere: an ImageNet-pretrained ResNet-18 (<see cref="Model.ResNet18"/>) fine-tuned on
    /// the cells, where every other real profile learns from nothing. real-fast's protocol: five fold models for the
    /// cross-validation, one more on all five folds as the classifier; its refinements (warm-up and cosine decay, label
    /// smoothing 0.1, stain jitter 0.2, test-time D4). SGD lr 0.01, weight decay 1e-4, the usual rate for fine-tuning.
    /// One epoch of AG+OS150: 6,000 images, every training cell about twelve times in its D4 poses and re-crops.
    /// </summary>
    /// <remarks>Input size chosen on the five validation folds of the development folder's training side, by a rule set
    /// before the runs (the higher pooled macro-F1 within the 30-min budget): 128 px over 96 px (the scores and times:
    /// docs/measurements.md, "Training budgets of the real profiles").
    /// The networks train one after another on both threads: at full width a step splits well.</remarks>
    public static ExperimentProfile RealTransfer { get; } = Paper with
    {
        Name = "real-transfer",
        Purpose = "Transfer learning: CNTK's ImageNet ResNet-18, from ML.NET's DnnImageFeaturizer package.",
        PhantomSize = PhantomSize.Smoke,
        Network = new ResNetConfig(InputSize: 128, ClassifierDropout: 0),
        Epochs = 1, OversampleTo = (75, 150), LocalEpochs = 2, LocalFromGlobal = true,
        Grid = [new Hyperparameters(0.01, 0.9, 0, 1e-4)],
        CrossValidationEpochs = 5, CrossValidationVariant = "OS150", ComparableToPaper = false,
        Refinements = new Refinements(TestTimeD4: true),
        EnsembleFolds = 5, FinalModel = true,
        CellTimeout = TimeSpan.FromHours(3),
    };

    /// <summary>
    /// real-transfer for a folder whose stages have hundreds of cells: every training cell once a pass instead of 150 a
    /// class. real-transfer's AG+OS150 subsamples any class above 150 cells to 150 (as the paper's OS N must, to make
    /// N a class), which on the grown PBC folder (about 385 training cells a stage in a fold model) throws most cells
    /// away. Here the training set is OS480: the four large stages keep every cell, the promyelocytes (about 100) are
    /// re-cropped up to 480, and instead of AG's eight fixed poses each image is turned by its own random angle every
    /// epoch (<see cref="Refinements.Rotation"/>), 8 epochs, so the classifier makes one pass a cell (no test-time D4).
    /// </summary>
    /// <remarks>Chosen on fold 1 of the grown folder's training side only, against real-transfer as it stands and
    /// against 4 epochs (docs/real-cells.md, "A recipe for the grown folder").</remarks>
    public static ExperimentProfile RealTransferOs { get; } = RealTransfer with
    {
        Name = "real-transfer-os",
        Purpose = "real-transfer for a folder whose stages have more cells than its N: every cell kept, the smaller stages re-cropped.",
        OversampleTo = (240, 480), TrainingSet = "OS480", Epochs = 8,
        Refinements = new Refinements(TestTimeD4: false) { Rotation = true },
    };

    /// <summary>The profile's 30-minute training budget was measured on a CPU with AVX-512 and does not hold
    /// without it: real-plus's five models take over an hour there (docs/measurements.md). A setting that changes the
    /// work (<see cref="CostSettings"/>) clears it: the measured times no longer describe that profile.</summary>
    public bool BudgetNeedsAvx512 { get; init; }

    /// <summary>Null when this profile's budget holds on <paramref name="cpu"/>; otherwise one sentence, printed before
    /// training starts, saying so and naming the profile that fits. Advice, not an error: the result is the same.</summary>
    public string? BudgetAdvice(CpuInfo cpu) =>
        BudgetNeedsAvx512 && !cpu.Avx512
            ? $"note: {Name} on a CPU without AVX-512 ({cpu}) takes well over its 30-min budget; the real-lite profile is " +
              "the same recipe at 1/8 width and fits there, a little lower in cross-validation (the times and scores: " +
              "docs/measurements.md, \"Training budgets of the real profiles\")"
            : null;

    public static IReadOnlyList<ExperimentProfile> All { get; } = [Smoke, Laptop, Paper, Real, RealTable1, RealPlus, RealLite, RealFast, RealTransfer, RealTransferOs];

    public static ExperimentProfile Parse(string name) =>
        All.FirstOrDefault(p => p.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown profile '{name}': use {string.Join(", ", All.Select(p => p.Name))}");

    /// <summary>AG+OS at the higher N (AG+OS600 in the paper): the largest of the six, the dual stage's global model.</summary>
    public TrainingVariant Largest => TrainingVariant.Oversampled(OversampleTo.High, augment: true);

    /// <summary>The six training sets of Table 1 for this profile.</summary>
    public IReadOnlyList<TrainingVariant> Variants => TrainingVariant.Six(OversampleTo.Low, OversampleTo.High);

    /// <summary>Training configuration for one set of hyper-parameters, with the profile's seed.</summary>
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

    /// <summary>The settings of <see cref="With"/> that change how much work training is (steps, or the cost of one).</summary>
    private static readonly HashSet<string> CostSettings = ["epochs", "width", "depth", "backbone", "input", "batch", "oversample", "training_set", "ensemble_folds", "engine", "final", "side_by_side", "steps"];

    /// <summary>What <see cref="With"/> accepts, as the CLI's <c>--set</c> help and With's own error show it.</summary>
    public const string SettingNames = "epochs, local_epochs, local_lr, local_from_global, width, depth=11|13|16, backbone=vgg|resnet18-imagenet, input, batch, oversample=LOW,HIGH, training_set=OG|AG|OS<N>|AG+OS<N>, cv_epochs, cv_variant, lr, weight_decay, validation_fold, dropout, conv_dropout, classifier_dropout, global_pool, ensemble_folds, schedule=torch7|cosine, label_smoothing, stain_jitter, mixup, classifier_rate, rotate=on|off, tta=on|off, engine=fp32|bf16|channels-last|bf16+channels-last, final=ensemble|one, side_by_side=on|off, training_seed, steps=N|off";

    /// <summary>
    /// This profile with one value overridden (<c>epochs=20</c>, <c>width=0.25</c>, <c>input=96</c>, <c>batch=40</c>,
    /// <c>oversample=100,200</c>, <c>cv_epochs=5</c>, <c>lr=0.01</c> (a one-point grid), <c>validation_fold=2</c>).
    /// Any override makes the result not comparable to the paper unless it restates a paper value.
    /// </summary>
    public ExperimentProfile With(string key, string value)
    {
        int Int() => int.Parse(value, CultureInfo.InvariantCulture);
        bool Bool() => value.Trim().ToLowerInvariant() switch
        {
            "true" or "on" or "1" => true, "false" or "off" or "0" => false,
            _ => throw new ArgumentException($"{key}={value}: use on or off"),
        };
        // A refinement set on a profile without any starts from none of them: only the named one changes.
        Refinements Refine() => Refinements ?? new Refinements(LearningRateSchedule.Torch7, 0, 0, 0, false);
        double Real() => double.Parse(value, CultureInfo.InvariantCulture);
        // A VGG's own setting on another network would be silently ignored by it: refused, naming the way out.
        VggConfig VggSetting() => Network as VggConfig
            ?? throw new ArgumentException($"{key}={value}: a setting of the VGG, and profile {Name}'s network is {Network.Kind}; add --set backbone=vgg first to train the VGG instead");
        var p = key.Trim().ToLowerInvariant() switch
        {
            "epochs" => this with { Epochs = Int() },
            "local_epochs" => this with { LocalEpochs = Int() },
            "local_lr" => this with { LocalLearningRate = Real() },
            "local_from_global" => this with { LocalFromGlobal = Bool() },
            "width" => this with { Network = VggSetting() with { Width = Real() } },
            "input" => this with { Network = Network with { InputSize = Int() } },
            "batch" => this with { BatchSize = Int() },
            "oversample" => value.Split(',') is [var lo, var hi]
                ? this with { OversampleTo = (int.Parse(lo, CultureInfo.InvariantCulture), int.Parse(hi, CultureInfo.InvariantCulture)) }
                : throw new ArgumentException($"oversample={value}: give two numbers, e.g. oversample=300,600"),
            "training_set" => this with { TrainingSet = TrainingVariant.Parse(value).Name },
            "cv_epochs" => this with { CrossValidationEpochs = Int() },
            "cv_variant" => this with { CrossValidationVariant = TrainingVariant.Parse(value).Name },
            "lr" => this with { Grid = [Grid[0] with { LearningRate = Real() }] },
            "validation_fold" => this with { ValidationFold = Int() },
            "dropout" => this with { Network = Network is VggConfig v ? v with { FirstDropout = Real(), Dropout = Real(), ClassifierDropout = Real() } : Network with { ClassifierDropout = Real() } },
            "conv_dropout" => this with { Network = VggSetting() with { FirstDropout = Real(), Dropout = Real() } },
            "classifier_dropout" => this with { Network = Network with { ClassifierDropout = Real() } },
            "global_pool" => this with { Network = VggSetting() with { GlobalPool = Bool() } },
            "depth" => this with { Network = VggSetting() with { Depth = Int() } },
            "backbone" => this with { Network = Network.WithKind(value) },
            "ensemble_folds" => this with { EnsembleFolds = Int() },
            "schedule" => this with { Refinements = Refine() with { Schedule = Enum.Parse<LearningRateSchedule>(value, ignoreCase: true) } },
            "label_smoothing" => this with { Refinements = Refine() with { LabelSmoothing = Real() } },
            "stain_jitter" => this with { Refinements = Refine() with { StainJitter = Real() } },
            "mixup" => this with { Refinements = Refine() with { Mixup = Real() } },
            // 1 (or 1.0, or off) is one rate for every layer: no multiple, so the cache key stays the profile's.
            "classifier_rate" => this with { Refinements = Refine() with { ClassifierRate = value.Trim() is "off" ? null : Real() is var c && c == 1 ? null : c } },
            "rotate" => this with { Refinements = Refine() with { Rotation = Bool() } },
            "side_by_side" => this with { SideBySide = Bool() },
            "training_seed" => WithTrainingSeed(Int()),
            "steps" => this with { EqualSteps = value.Trim() is "off" ? null : Int() },
            "tta" => this with { Refinements = Refine() with { TestTimeD4 = Bool() } },
            "engine" => this with { Engine = value.Trim().ToLowerInvariant() switch
            {
                "fp32" => ConvolutionEngine.Default, "bf16" => ConvolutionEngine.BFloat16, "channels-last" => ConvolutionEngine.ChannelsLast,
                "bf16+channels-last" => ConvolutionEngine.BFloat16 | ConvolutionEngine.ChannelsLast,
                _ => throw new ArgumentException($"engine={value}: use fp32, bf16, channels-last or bf16+channels-last"),
            } },
            "weight_decay" => this with { Grid = [Grid[0] with { WeightDecay = Real() }] },
            "final" => this with { FinalModel = value.Trim().ToLowerInvariant() switch
            {
                "ensemble" => false, "one" => true,
                _ => throw new ArgumentException($"final={value}: use ensemble (the fold models together) or one (one more model on all five folds)"),
            } },
            _ => throw new ArgumentException($"unknown setting '{key}': use {SettingNames}"),
        };
        p = p with { Name = $"{Name}+{key}={value}", ComparableToPaper = ComparableToPaper && p == this with { Name = p.Name } };
        if (CostSettings.Contains(key.Trim().ToLowerInvariant())) p = p with { BudgetNeedsAvx512 = false };
        return p.Validate();
    }

    /// <summary>What the profile is, for a reader: its caveat, its <see cref="Purpose"/> (a sentence written by hand) and
    /// its settings described from their values, so a description cannot drift from the profile, nor from an override
    /// (<see cref="With"/>).</summary>
    public string Description => $"{Caveat}. {Purpose} {Capitalised(ProfileDescription.Settings(this))}.";

    private static string Capitalised(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    /// <summary>"not comparable to the paper" unless this is the paper's own setting.</summary>
    public string Caveat => ComparableToPaper ? "paper profile" : $"{Name} profile: not comparable to the paper";

    /// <summary>The resolved profile as JSON, saved beside every model and table.</summary>
    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["name"] = Name, ["description"] = Description, ["phantom_size"] = PhantomSize.Name,
        ["network"] = JsonSerializer.SerializeToElement(Network), ["epochs"] = Epochs, ["local_epochs"] = LocalModelEpochs, ["batch_size"] = BatchSize,
        ["oversample_to"] = new[] { OversampleTo.Low, OversampleTo.High }, ["grid"] = Grid,
        ["cross_validation_epochs"] = CrossValidationEpochs, ["cross_validation_variant"] = CrossValidationVariant,
        ["validation_fold"] = ValidationFold, ["comparable_to_paper"] = ComparableToPaper, ["seed"] = Seed,
    }.Concat(LocalLearningRate is null ? [] : new Dictionary<string, object> { ["local_learning_rate"] = LocalLearningRate.Value })
     .Concat(LocalFromGlobal ? new Dictionary<string, object> { ["local_from_global"] = true } : [])
     .Concat(Engine == ConvolutionEngine.Default ? [] : new Dictionary<string, object> { ["engine"] = Engine.ToString() })
     .Concat(Refinements is null && EnsembleFolds == 0 ? [] : new Dictionary<string, object> { ["refinements"] = (object?)Refinements ?? "none", ["ensemble_folds"] = EnsembleFolds })
     .Concat(FinalModel ? new Dictionary<string, object> { ["final"] = "one" } : [])
     .Concat(SideBySide ? new Dictionary<string, object> { ["side_by_side"] = true } : [])
     .Concat(TrainingSet is null ? [] : new Dictionary<string, object> { ["training_set"] = TrainingSet })
     .Concat(TrainingSeed is null ? [] : new Dictionary<string, object> { ["training_seed"] = TrainingSeed.Value })
     .Concat(EqualSteps is null ? [] : new Dictionary<string, object> { ["equal_steps"] = EqualSteps.Value })
     .ToDictionary(), new JsonSerializerOptions { WriteIndented = true });
}
