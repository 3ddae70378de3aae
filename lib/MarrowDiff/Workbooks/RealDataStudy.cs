using MarrowDiff.Analysis;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Experiments;
using MarrowDiff.Imaging;
using MarrowDiff.Preparation;
using MarrowDiff.Reports;
using MarrowDiff.Training;

namespace MarrowDiff.Workbooks;

/// <summary>
/// Notebook 07: the paper's method on real public images (the development subset, or a folder of the user's), with the
/// caveats in view. The sources are put on one physical scale (<see cref="SourceScales"/>); results are reported per
/// source and for the cleanest within-source task, PBC's five-stage neutrophil series (C6 promyelocyte → C10
/// segmented), with its band/segmented dual stage. Every task shares the whole dataset's saved split, so a cell is on
/// the same side in every task. When the data folder is absent, every view says so and how to get the data.
/// </summary>
public sealed class RealDataStudy
{
    /// <summary>The five stages of the neutrophil series that the PBC dataset labels separately.</summary>
    public static readonly CellClass[] NeutrophilSeries =
        [CellClass.Promyelocyte, CellClass.Myelocyte, CellClass.Metamyelocyte, CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil];

    private readonly string? _pitch;
    private readonly IProgress<WorkProgress>? _progress;

    private RealDataStudy(string data, CellDataset? dataset, ExperimentProfile profile, string? pitch, IProgress<WorkProgress>? progress)
    {
        _pitch = pitch; _progress = progress;
        Cells = dataset is null
            ? new RealCells(data, null, profile, null, new Dictionary<string, SourceScale>())
            : new RealCells(data, dataset, profile, Provenance.For(profile.Name, dataset.Root, profile.Seed), SourceScales.ForCrops(dataset, SourceScales.Parse(pitch)));
    }

    /// <summary>Opens <paramref name="data"/> (a folder in any layout MarrowDiff reads); an absent folder gives a
    /// study whose views explain how to get the data instead of failing.</summary>
    /// <param name="set">Profile overrides (<c>epochs=10</c>, …), as <c>marrow train --set</c>.</param>
    public static RealDataStudy Open(string data, string profile = "real", int seed = 2017, string? pitch = null, IProgress<WorkProgress>? progress = null,
                                     IEnumerable<string>? set = null)
    {
        var p = Workbook.Resolve(profile, seed, set);
        string root = Path.GetFullPath(data);
        var dataset = Directory.Exists(root) ? Workbook.OpenData(root, p, BadFilePolicy.Stop) : null;
        return new RealDataStudy(data, dataset, p, pitch, progress);
    }

    /// <summary>What was read (the views of it are in Reports, <see cref="RealCellsViews"/>).</summary>
    public RealCells Cells { get; }

    public string Data => Cells.Data;
    public CellDataset? Dataset => Cells.Dataset;
    public bool Present => Cells.Present;
    public ExperimentProfile Profile => Cells.Profile;
    public int Seed => Profile.Seed;
    public Provenance? Provenance => Cells.Provenance;

    /// <summary>Each resampled source's pitch (given or estimated), by source.</summary>
    public IReadOnlyDictionary<string, SourceScale> Scales => Cells.Scales;

    /// <summary>Where to get the two public datasets and how to point the notebook at them.</summary>
    public HtmlView HowToGetTheData() => Cells.HowToGetTheData();

    /// <summary>Images per source and class, and the Other labels left out of the 10-class task.</summary>
    public HtmlView Sources() => Cells.Sources();

    /// <summary>Which of the paper's classes cannot be evaluated on these images, and why.</summary>
    public HtmlView NotEvaluable() => Cells.NotEvaluable();

    /// <summary>Each source's pitch, how it was obtained, and the factor its crops are resampled by.</summary>
    public HtmlView ScaleTable() => Cells.ScaleTable();

    /// <summary>One image of each source whose red cells were measured, with the red cells found boxed.</summary>
    public HtmlView ScaleEvidence() => Cells.ScaleEvidence();

    /// <summary>Accuracy and macro-F1 of a task's test predictions, per class and per source.</summary>
    public HtmlView Results(RealTask task) => Cells.Results(task);

    /// <summary>Within one stage, κ over the maturation order, calibration, risk–coverage and the review threshold
    /// chosen on the folds, on a task's test cells.</summary>
    public HtmlView StageScores(RealTask task) => Cells.StageScores(task);

    /// <summary>A fold-ensemble task's cross-validation beside its test result.</summary>
    public HtmlView CrossValidation(RealTask task) => Cells.CrossValidation(task);

    /// <summary>The notebook's result tables as plain text in <c>07-real-data-{profile}.txt</c> (numbers only).</summary>
    public HtmlView SaveSummary(string folder, params HtmlView[] views) => Cells.SaveSummary(folder, views);

    /// <summary>Notebook 01's audit of these images (null without data): summary, example cells per class, colour per
    /// source, duplicates by content, unreadable files.</summary>
    public DataAudit? Audit => Dataset is null ? null : new DataAudit(Dataset, Provenance!);

    /// <summary>The audit's tables and example cells in one view (shown inline; nothing is written).</summary>
    public HtmlView AuditView() => Audit is { } a
        ? HtmlView.Concat(a.Summary(), a.ExampleCells(6), a.ColourStatistics(), a.Duplicates(), a.Unreadable())
        : HowToGetTheData();

    /// <summary>
    /// A task: the dataset's cells for which <paramref name="keep"/> holds, on the whole dataset's split (made first, so
    /// a cell is on the same side in every task), one training set, trained with the profile's first grid point.
    /// </summary>
    public RealTask Train(string name, Func<CellImage, bool> keep, string variant, IProgress<TrainingProgress>? progress = null, ExperimentProfile? profile = null)
    {
        var (prep, experiment) = Prepare(name, keep, progress, profile);
        // No search on real cells: the profile's first grid point (real, real-table1 have one).
        var trained = experiment.TrainClassifier(prep.Variant(variant), experiment.Profile.Grid[0]);
        var test = experiment.TestPredictions(trained.Classifier);
        string label = trained.Folds is null ? variant : trained.Classifier.Name;
        return new RealTask(name, prep, experiment, trained.Classifier, new Predictions($"{label}, {name}", test.Set, test.Probabilities), trained.Folds);
    }

    /// <summary>
    /// Only the cross-validation folds of a task (<see cref="ExperimentProfile.EnsembleFolds"/> of them, the profile's
    /// recipe): for choosing a recipe on the development subset. The test cells are neither scored nor read.
    /// </summary>
    public FoldEnsembleResult CrossValidate(string name, Func<CellImage, bool> keep, string variant, IProgress<TrainingProgress>? progress = null)
    {
        if (Profile.Protocol == Protocol.Search) throw new InvalidOperationException($"profile {Profile.Name}: set ensemble_folds to 1…5 to cross-validate a recipe");
        var (prep, experiment) = Prepare(name, keep, progress);
        return experiment.TrainFoldEnsemble(prep.Variant(variant), Profile.Grid[0]);
    }

    /// <summary>The PBC five-stage task's folds alone (<see cref="CrossValidate"/>).</summary>
    public FoldEnsembleResult CrossValidateNeutrophilSeries(IProgress<TrainingProgress>? progress = null) =>
        CrossValidate(NeutrophilSeriesName, IsPbcNeutrophil, NeutrophilVariant, progress);

    /// <summary>A task's data and experiment: the cells for which <paramref name="keep"/> holds, on the whole dataset's
    /// split (so a cell is on the same side in every task).</summary>
    internal (DataPreparation Prep, Experiment Experiment) Prepare(string name, Func<CellImage, bool> keep, IProgress<TrainingProgress>? progress, ExperimentProfile? profile = null,
                                                                   string? modelsRoot = null)
    {
        if (Dataset is null) throw new InvalidOperationException($"no data at {Path.GetFullPath(Data)}");
        var prep = Workbook.Prepare(Dataset, Profile, new SplitOptions(Seed), Scales, Provenance!, _progress, (name, keep));
        return (prep, new Experiment(prep, profile ?? Profile, modelsRoot ?? Workbook.ModelsRoot) { Progress = progress });
    }

    internal const string NeutrophilSeriesName = "PBC five-stage neutrophil series";

    internal static bool IsPbcNeutrophil(CellImage c) => c.Source == PublicLayout.Pbc.Name && NeutrophilSeries.Contains(c.Label.Class!.Value);

    private string NeutrophilVariant => Profile.ClassifierVariant.Name;

    /// <summary>The main within-source task: PBC's promyelocyte → myelocyte → metamyelocyte → band → segmented.</summary>
    public RealTask TrainNeutrophilSeries(IProgress<TrainingProgress>? progress = null) =>
        Train(NeutrophilSeriesName, IsPbcNeutrophil, NeutrophilVariant, progress);

    /// <summary>Every paper class of every source in one model (oversampling without augmentation, to keep the CPU
    /// budget), to be read per source.</summary>
    /// <remarks>With a fold-ensemble profile (real-plus) the mixed model is the recipe's fold-1 model alone, on AG+OS (its
    /// training set): five of them would double the notebook's training time for a question one model answers. The
    /// same under final=one (real-fast): one model answers it either way. Alone, it trains on every thread (not side by side).</remarks>
    public RealTask TrainAllSources(IProgress<TrainingProgress>? progress = null) =>
        Profile.Protocol != Protocol.Search
            ? Train("all sources", _ => true, Profile.ClassifierVariant.Name, progress, Profile with { EnsembleFolds = 1, FinalModel = false, SideBySide = false })
            : Train("all sources", _ => true, $"OS{Profile.OversampleTo.High}", progress);

    /// <summary>The band/segmented dual stage on a task (PBC's five-stage series): local model and McNemar.</summary>
    public DualStageComparison DualStage(RealTask task)
    {
        // The experiment decides where the local model starts (from scratch, or the global model per the profile).
        // A final=one model held no fold out, so a local model that starts from a global one starts from the fold
        // model that held out the validation fold (whose cells score it), as under the fold ensemble.
        var local = task.Experiment.TrainLocal(task.Prep.Variant(task.Folds is null ? task.Model.Card.Variant : NeutrophilVariant), Profile.Grid[0],
                                               CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil, task.Folds?.Ensemble ?? task.Model);
        return task.Experiment.CompareDualStage(task.Model, local);
    }

}
