using System.Globalization;
using MarrowDiff.Analysis;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Experiments;
using MarrowDiff.Imaging;
using MarrowDiff.Model;
using MarrowDiff.Preparation;
using MarrowDiff.Reports;
using MarrowDiff.Training;

namespace MarrowDiff.Workbooks;

/// <summary>One task on real images: its preparation, the trained classifier (a model, or a fold ensemble with its
/// cross-validation) and its predictions on the task's test cells.</summary>
public sealed record RealTask(string Name, DataPreparation Prep, Experiment Experiment, ISavedClassifier Model, Predictions Test, FoldEnsembleResult? Folds = null)
{
    /// <summary>The paper's classes the task has cells of (the macro averages run over these).</summary>
    public IReadOnlyList<CellClass> Classes => Prep.Split.Cells.Select(c => c.Label.Class!.Value).Distinct().Order().ToList();
}

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
        Data = data; Dataset = dataset; Profile = profile; _pitch = pitch; _progress = progress;
        if (dataset is not null)
        {
            Provenance = Provenance.For(profile.Name, dataset.Root, profile.Seed);
            Scales = SourceScales.ForCrops(dataset, SourceScales.Parse(pitch));
        }
    }

    /// <summary>Opens <paramref name="data"/> (a folder in any layout MarrowDiff reads); an absent folder gives a
    /// study whose views explain how to get the data instead of failing.</summary>
    /// <param name="set">Profile overrides (<c>epochs=10</c>, …), as <c>marrow train --set</c>.</param>
    public static RealDataStudy Open(string data, string profile = "real", int seed = 2017, string? pitch = null, IProgress<WorkProgress>? progress = null,
                                     IEnumerable<string>? set = null)
    {
        var p = Workbook.Resolve(profile, seed, set);
        string root = Path.GetFullPath(data);
        var dataset = Directory.Exists(root) ? CellDatasetLoader.Load(root, BadFilePolicy.Stop) : null;
        return new RealDataStudy(data, dataset, p, pitch, progress);
    }

    public string Data { get; }
    public CellDataset? Dataset { get; }
    public bool Present => Dataset is not null;
    public ExperimentProfile Profile { get; }
    public int Seed => Profile.Seed;
    public Provenance? Provenance { get; }

    /// <summary>Each resampled source's pitch (given or estimated), by source.</summary>
    public IReadOnlyDictionary<string, SourceScale> Scales { get; } = new Dictionary<string, SourceScale>();

    private string Caveat => $"{Profile.Caveat}; real images";

    /// <summary>Where to get the two public datasets and how to point the notebook at them.</summary>
    public HtmlView HowToGetTheData() => new(
        $"<p><b>No data at <code>{HtmlView.Encode(Path.GetFullPath(Data))}</code>.</b> This notebook needs real labelled cell images. Download either or both "
        + "public datasets (both CC BY 4.0; cite them with any result):</p><ul>"
        + $"<li>Matek et al. 2021, bone marrow: TCIA collection Bone-Marrow-Cytomorphology_MLL_Helmholtz_Fraunhofer (doi:10.7937/TCIA.AXH3-T579); point <code>data</code> at its <code>BM_cytomorphology_data</code> folder.</li>"
        + $"<li>Acevedo et al. 2020, peripheral blood (PBC): Mendeley Data doi:10.17632/snkd93bnjr.1; point <code>data</code> at its <code>PBC_dataset_normal_DIB</code> folder.</li>"
        + "<li>Or a folder holding both in their own layouts with a <code>manifest.csv</code> (columns path, mapped_class, dataset, specimen), like the development subset in <code>../shared/real-cells</code>.</li></ul>"
        + "<p>Images are read where they are and never copied into the project.</p>",
        $"No data at {Path.GetFullPath(Data)}: download Matek et al. 2021 (TCIA doi:10.7937/TCIA.AXH3-T579) and/or PBC (Mendeley doi:10.17632/snkd93bnjr.1) and set data to the folder.");

    private HtmlView Skipped(string what) => new($"<p><i>{HtmlView.Encode(what)}: skipped, no data (see above).</i></p>", $"{what}: skipped, no data");

    /// <summary>Notebook 01's audit of these images (null without data): summary, example cells per class, colour per
    /// source, duplicates by content, unreadable files.</summary>
    public DataAudit? Audit => Dataset is null ? null : new DataAudit(Dataset, Provenance!);

    /// <summary>The audit's tables and example cells in one view (shown inline; nothing is written).</summary>
    public HtmlView AuditView() => Audit is { } a
        ? HtmlView.Concat(a.Summary(), a.ExampleCells(6), a.ColourStatistics(), a.Duplicates(), a.Unreadable())
        : HowToGetTheData();

    /// <summary>What was read: images per source and class, and the Other labels left out of the 10-class task.</summary>
    public HtmlView Sources()
    {
        if (Dataset is null) return HowToGetTheData();
        var sources = Dataset.Cells.Select(c => c.Source).Distinct().Order(StringComparer.Ordinal).ToList();
        var rows = CellTaxonomy.All.Select(k => (IReadOnlyList<object?>)[k.Label(), .. sources.Select(s => (object?)Dataset.Cells.Count(c => c.Source == s && c.Label.Class == k))]).ToList();
        rows.Add(["Other (excluded, by code)", .. sources.Select(s => (object?)string.Join(", ", Dataset.Cells.Where(c => c.Source == s && c.Label.IsOther)
            .GroupBy(c => c.Label.OtherCode!).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}")))]);
        rows.Add(["specimen", .. sources.Select(s => (object?)(Dataset.Cells.FirstOrDefault(c => c.Source == s)?.Specimen ?? ""))]);
        return HtmlView.Table($"Images per source and class - {Dataset.Layout} - {Provenance!.Stamp}", ["class", .. sources], rows);
    }

    /// <summary>Which of the paper's classes cannot be evaluated on these images, and why.</summary>
    public HtmlView NotEvaluable()
    {
        if (Dataset is null) return Skipped("classes that cannot be evaluated");
        var rows = CellTaxonomy.All.Where(k => Dataset.ClassCounts[k] == 0).Select(k => (IReadOnlyList<object?>)[k.Label(), Reason(k)]).ToList();
        var sourceBound = CellTaxonomy.All.Where(k => Dataset.ClassCounts[k] > 0)
            .Select(k => (k, Sources: Dataset.Cells.Where(c => c.Label.Class == k).Select(c => c.Source).Distinct().ToList()))
            .Where(x => x.Sources.Count == 1).Select(x => (IReadOnlyList<object?>)[x.k.Label(), $"only from {x.Sources[0]}: a mixed-source model can learn the source (scale, stain) instead of the stage; compare within a source"]);
        return HtmlView.Table($"Classes that cannot be evaluated, or only with care - {Provenance!.Stamp}", ["class", "why"], rows.Concat(sourceBound));

        string Reason(CellClass k) => k.Series() == Series.Erythroid
            ? k == CellClass.Pronormoblast ? "no image in these data (Matek's PEB maps here; PBC has no pronormoblast)"
              : "neither dataset separates basophilic / polychromatic / orthochromatic normoblasts (PBC's ERB and Matek's EBO are unstaged erythroblasts, kept as Other)"
            : "no image of this class in the data";
    }

    /// <summary>Each source's pitch, how it was obtained, and the factor its crops are resampled by.</summary>
    public HtmlView ScaleTable()
    {
        if (Dataset is null) return Skipped("pixel pitch per source");
        return HtmlView.Table($"One physical scale: each source resampled to {CellPatch.PitchUm} µm/px (a {CellPatch.Size}-px patch spans {CellPatch.SideUm:0.#} µm) - {Provenance!.Stamp}",
            ["source", "µm per px", "resampled by", "how"],
            Scales.Values.Select(s => (IReadOnlyList<object?>)[s.Source, Math.Round(s.PitchUm, 4), Math.Round(s.PitchUm / CellPatch.PitchUm, 3), s.How]));
    }

    /// <summary>One image of each source whose red cells were measured, with the red cells found boxed: what the
    /// estimate rests on (shown inline only; nothing is written into the project).</summary>
    public HtmlView ScaleEvidence()
    {
        if (Dataset is null) return Skipped("red cells found");
        var reader = new CellImageReader();
        var views = new List<HtmlView>();
        foreach (var (source, files) in SourceScales.Sample(Dataset, 12))
        {
            if (!Scales.TryGetValue(source, out var scale) || scale.RedCells == 0) continue;
            string? file = files.FirstOrDefault(f => RedCellScale.Find(reader.Read(f)).Count > 0);
            if (file is not null) views.Add(Figures.InlinePhoto(RedCellScale.Overlay(reader.Read(file)), $"{source}: red cells found (green boxes) in {Path.GetFileName(file)}"));
        }
        return views.Count == 0 ? Skipped("red cells found") : HtmlView.Concat([.. views]);
    }

    /// <summary>
    /// A task: the dataset's cells for which <paramref name="keep"/> holds, on the whole dataset's split (made first, so
    /// a cell is on the same side in every task), one training set, trained with the profile's first grid point.
    /// </summary>
    public RealTask Train(string name, Func<CellImage, bool> keep, string variant, IProgress<TrainingProgress>? progress = null, ExperimentProfile? profile = null)
    {
        var (prep, experiment) = Prepare(name, keep, progress, profile);
        var set = prep.Variant(variant);
        if (experiment.Profile.Protocol == Protocol.Search)
        {
            // No search on real cells: the profile's first grid point (real, real-table1 have one).
            TrainedModel model = experiment.Train(set, Profile.Grid[0]);
            var test = experiment.TestPredictions(model);
            return new RealTask(name, prep, experiment, model, new Predictions($"{variant}, {name}", test.Set, test.Probabilities));
        }
        var folds = experiment.TrainFoldEnsemble(set, Profile.Grid[0], withFinal: true);
        ISavedClassifier classifier = experiment.Profile.Protocol switch
        {
            Protocol.FoldsThenFinal => experiment.TrainFinal(set, Profile.Grid[0]), // the folds stay the cross-validation
            _ => folds.Ensemble,
        };
        var classifierTest = experiment.TestPredictions(classifier);
        return new RealTask(name, prep, experiment, classifier, new Predictions($"{classifier.Name}, {name}", classifierTest.Set, classifierTest.Probabilities), folds);
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
        var options = new SplitOptions(Seed);
        string folder = Workbook.SplitsFolder(Dataset.Root);
        DatasetSplit.Ensure(Dataset, options, folder);
        var cells = Dataset.Cells.Where(c => c.Label.IsOther || keep(c)).ToList();
        var subset = new CellDataset(Dataset.Root, Dataset.Layout, cells, Dataset.Fields, Dataset.Skipped, [.. Dataset.Notes, $"task: {name}"]);
        var provenance = Provenance! with { Data = $"{Provenance.Data}, {name}" };
        var prep = DataPreparation.Create(subset, options, folder, Profile.Variants, provenance, progress: _progress, scales: Scales.Count == 0 ? null : Scales);
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

    /// <summary>
    /// Writes the notebook's result tables as plain text to <c>07-real-data-{profile}.txt</c> in <paramref name="folder"/>
    /// (atomically; numbers only, never a cell image, so it is safe to keep beside real data's results), so that the
    /// numbers the README and docs quote sit in the repository without the notebook's 9 MB of images.
    /// </summary>
    public HtmlView SaveSummary(string folder, params HtmlView[] views)
    {
        string file = Path.Combine(folder, $"07-real-data-{Profile.Name}.txt");
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(file, string.Join(Environment.NewLine, views.Select(v => v.ToString())));
        return HtmlView.Table($"Saved - {Provenance!.Stamp}", ["file"], [[Path.GetFileName(file)]]);
    }

    /// <summary>Accuracy and macro-F1 of a task's test predictions, per class and per source.</summary>
    public HtmlView Results(RealTask task)
    {
        var p = task.Test;
        var rows = new List<IReadOnlyList<object?>>();
        // One row per source, then one for every test cell.
        var parts = Enumerable.Range(0, p.Count).GroupBy(i => p.Set.CellOf(i).Source).OrderBy(g => g.Key, StringComparer.Ordinal)
                              .Select(g => (Name: g.Key, Cells: g.ToList())).Append(("all test cells", Enumerable.Range(0, p.Count).ToList()));
        foreach (var (name, idx) in parts)
        {
            var m = ClassificationMetrics.From(idx.Select(i => p.Truth[i]).ToList(), idx.Select(i => p.Predicted[i]).ToList(), p.Classes.Select(c => c.Label()).ToList());
            var present = Enumerable.Range(0, p.Classes.Count).Where(c => m.PerClass[c].Support > 0).ToList();
            rows.Add([name, idx.Count, Percent.Of(m.Accuracy), Table1Views.WilsonText(m.Accuracy, idx.Count), Percent.Of(m.MacroF1),
                      string.Join(", ", present.Select(c => $"{p.Classes[c].Code()} {Percent.Of(m.PerClass[c].F1)}"))]);
        }
        double minutes = task.Model.TrainingSeconds / 60;
        bool several = task.Model is FoldEnsemble { Members.Count: > 1 };
        // Side by side, the members' own times overlap: their sum is not the wall clock.
        string added = several && task.Experiment.Profile.SideBySide ? ", the models' times added: they trained side by side" : "";
        return HtmlView.Table($"{task.Name}: {task.Model.Card.Variant} ({task.Model.Card.TrainingImages} training images{(several ? " per model" : "")}, " +
                              $"trained in {minutes.ToString("0.0", CultureInfo.InvariantCulture)} min{added}), test cells of the shared split - {Caveat} - {task.Prep.Provenance.Stamp}",
            ["source", "test cells", "accuracy %", "95% CI", "macro F1 % (classes present)", "F1 % per class"], rows);
    }

    /// <summary>A fold-ensemble task's cross-validation: each fold's held-out cells scored by the one model that did not
    /// train on them, then all of them pooled (every training-side cell once), beside the test result; with the
    /// training time. Explains itself when the task trained a single model.</summary>
    public HtmlView CrossValidation(RealTask task)
    {
        if (task.Folds is not { } folds)
            return new HtmlView($"<p><i>{HtmlView.Encode(task.Name)}: one model ({HtmlView.Encode(Profile.Name)} profile), no fold ensemble: its validation fold is in the training history.</i></p>",
                                $"{task.Name}: one model, no fold ensemble");
        var rows = new List<IReadOnlyList<object?>>();
        for (int k = 0; k < folds.HeldOut.Count; k++)
        {
            var m = folds.PerFold[k];
            var member = folds.Ensemble.Members[k];
            rows.Add([$"fold {k + 1} (model {k + 1})", folds.HeldOut[k].Count, Percent.Of(m.Accuracy), Table1Views.WilsonText(m.Accuracy, folds.HeldOut[k].Count), Percent.Of(m.MacroF1), "",
                      Minutes(member.TrainingSeconds)]);
        }
        var pooled = folds.Pooled;
        int n = folds.HeldOut.Sum(p => p.Count);
        rows.Add(["cross-validation, pooled", n, Percent.Of(pooled.Accuracy), Table1Views.WilsonText(pooled.Accuracy, n), Percent.Of(pooled.MacroF1), Range(folds.PooledMacroF1Interval(Seed)),
                  Minutes(folds.Ensemble.TrainingSeconds) + (task.Experiment.Profile.SideBySide ? " (added; trained side by side)" : "")]);
        var test = task.Test.Metrics;
        bool final = task.Model is TrainedModel;
        rows.Add([final ? "test: the final model (all five folds, alone)" : $"test: the {folds.HeldOut.Count} models together", task.Test.Count, Percent.Of(test.Accuracy),
                  Table1Views.WilsonText(test.Accuracy, task.Test.Count), Percent.Of(test.MacroF1),
                  Range(Intervals.BootstrapMacroF1(task.Test.Truth, task.Test.Predicted, test.Classes.Count, Seed)), final ? Minutes(task.Model.TrainingSeconds) : "(no training)"]);
        return HtmlView.Table($"{task.Name}: {folds.HeldOut.Count}-fold cross-validation of the recipe, and {(final ? "the final model" : "the fold ensemble")} on the test cells - {Caveat} - {task.Prep.Provenance.Stamp}",
            ["cells", "n", "accuracy %", "95% CI (Wilson)", "macro F1 %", "95% CI (bootstrap)", "training (min)"], rows);

        static string Minutes(double seconds) => (seconds / 60).ToString("0.0", CultureInfo.InvariantCulture);
        static string Range((double Low, double High) r) => $"{Percent.Of(r.Low)}-{Percent.Of(r.High)}";
    }

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
