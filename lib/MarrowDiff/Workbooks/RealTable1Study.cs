using System.Globalization;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Experiments;
using MarrowDiff.Preparation;
using MarrowDiff.Reports;
using MarrowDiff.Torch;
using MarrowDiff.Training;

namespace MarrowDiff.Workbooks;

/// <summary>The two real-cell tasks of the real Table 1.</summary>
public enum RealTable1Task
{
    /// <summary>PBC's promyelocyte → myelocyte → metamyelocyte → band → segmented: one source, five stages.</summary>
    Pbc,
    /// <summary>Every paper class of every source (PBC and Matek) in one model.</summary>
    All,
}

/// <summary>
/// The paper's Table 1 and dual stage on real cells: the six training sets of one profile (OG, AG, OS low, OS high,
/// AG+OS low, AG+OS high), each one model of the same network and recipe, trained without the validation fold and
/// scored once on the same test cells; and the dual stage (AG+OS high with a local band/segmented model). Every model's
/// test answers are saved as <see cref="CellPredictions"/> files in a folder, from which <see cref="Load"/> rebuilds
/// the table with no model at all (the weights are not kept; the answers are).
/// </summary>
public static class RealTable1Study
{
    /// <summary>A seed folder's list of models: which file holds which training set's answers, and how it was trained.</summary>
    public const string ModelsFile = "models.csv";

    private const string ModelsHeader = "variant,training_images,training_steps,training_minutes,cpu,predictions";
    private const string DualFile = "dual-stage.csv", StampFile = "stamp.txt", SeedPrefix = "seed-";

    public static string Name(RealTable1Task task) => task == RealTable1Task.Pbc ? RealDataStudy.NeutrophilSeriesName : "all sources";

    /// <summary>The cells of the dataset a task takes (on the whole dataset's split either way).</summary>
    private static Func<CellImage, bool> Keeps(RealTable1Task task) => task == RealTable1Task.Pbc ? RealDataStudy.IsPbcNeutrophil : _ => true;

    public static string Slug(RealTable1Task task) => task == RealTable1Task.Pbc ? "pbc" : "all";

    /// <summary>Where one training seed's answers sit in a predictions folder: <c>seed-N/</c>.</summary>
    public static string SeedFolder(string folder, int trainingSeed) => Path.Combine(folder, SeedPrefix + trainingSeed.ToString(CultureInfo.InvariantCulture));

    /// <summary>Whether <paramref name="trainingSeed"/>'s models are already saved in <paramref name="folder"/> (its list
    /// is written last, so a seed cut short is not taken for done).</summary>
    public static bool HasSeed(string folder, int trainingSeed) => File.Exists(Path.Combine(SeedFolder(folder, trainingSeed), ModelsFile));

    /// <summary>The training seeds saved in <paramref name="folder"/>, in increasing order.</summary>
    public static IReadOnlyList<int> Seeds(string folder) =>
        !Directory.Exists(folder) ? []
        : Directory.EnumerateDirectories(folder, SeedPrefix + "*")
            .Select(d => int.TryParse(Path.GetFileName(d)[SeedPrefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int s) ? s : (int?)null)
            .OfType<int>().Where(s => HasSeed(folder, s)).Order().ToList();

    /// <summary>
    /// Trains (or reads from <paramref name="modelsRoot"/>'s cache) the six models and the local model of
    /// <paramref name="task"/> with training seed <paramref name="trainingSeed"/> (the split stays the study's), writes
    /// each one's test answers to <paramref name="folder"/>'s <see cref="SeedFolder"/> (the files first, then
    /// <see cref="ModelsFile"/>, each atomically) and returns that seed's table. The test cells are read once the seven
    /// models exist, never before.
    /// </summary>
    public static PairedTable1 Run(RealDataStudy study, RealTable1Task task, string folder, int trainingSeed, string? modelsRoot = null, IProgress<TrainingProgress>? progress = null)
    {
        var profile = study.Profile.WithTrainingSeed(trainingSeed);
        var (prep, experiment) = study.Prepare(Name(task), Keeps(task), progress, profile, modelsRoot: modelsRoot);
        var hyper = experiment.Profile.Grid[0];
        var models = new List<TrainedClassifier>();
        string seedFolder = SeedFolder(folder, trainingSeed);
        string cpu = CpuInfo.Current().ToString();
        try
        {
            models.AddRange(experiment.TrainClassifiers(experiment.Profile.Variants, hyper));
            var global = models.Single(m => m.Classifier.Card.Variant == experiment.Largest.Name).Classifier;
            using var local = experiment.TrainLocal(experiment.Largest, hyper, CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil, global);
            // Only now, with every model trained, are the test cells read.
            Directory.CreateDirectory(seedFolder);
            var lines = new List<string> { ModelsHeader };
            foreach (var model in models.Select(m => m.Classifier))
            {
                string file = $"{model.Card.Variant}.csv";
                experiment.TestPredictions(model).Answers.Save(Path.Combine(seedFolder, file));
                lines.Add(Line(model.Card.Variant, model, cpu, file));
            }
            var dual = new DualStageClassifier(global, local);
            experiment.TestPredictions(dual).Answers.Save(Path.Combine(seedFolder, DualFile));
            lines.Add(Line("dual-stage", local, cpu, DualFile));
            AtomicFile.WriteAllText(Path.Combine(seedFolder, StampFile), $"{experiment.Profile.Caveat}; {prep.Provenance.Stamp}; training seed: {trainingSeed}\n");
            AtomicFile.WriteAllText(Path.Combine(seedFolder, ModelsFile), string.Join("\n", lines) + "\n");
        }
        finally { foreach (var m in models) m.Dispose(); }
        return Load(seedFolder, Name(task), experiment.Profile.Seed);
    }

    private static string Line(string variant, ISavedClassifier model, string cpu, string file) =>
        Csv.Line(variant, model.Card.TrainingImages, model.Card.Steps,
                 (model.TrainingSeconds / 60).ToString("0.0", CultureInfo.InvariantCulture), cpu, file);

    /// <summary>Where the project keeps a task's table: <c>figures/table1-real-{pbc|all}</c> (.md, .csv, .png), its
    /// predictions in the folder of that name with <c>-predictions</c>.</summary>
    public static string BasePath(RealTable1Task task) => Path.Combine(Workbook.FiguresRoot, $"table1-real-{Slug(task)}");

    /// <summary>The paper's claims tested on every training seed committed for <paramref name="task"/> (no training); the bootstrap is seeded with <paramref name="seed"/>, the split's seed.</summary>
    public static ClaimsTest CommittedClaims(RealTable1Task task, int seed = 2017) => Claims(BasePath(task) + "-predictions", Name(task), seed);

    /// <summary>The paper's claims on every training seed of a predictions folder.</summary>
    public static ClaimsTest Claims(string folder, string task, int seed) => ClaimsTest.Of(Replicates(folder, task), seed);

    /// <summary>The committed table of <paramref name="task"/>, rebuilt from its saved predictions (no training).</summary>
    public static PairedTable1 Committed(RealTable1Task task, int seed = 2017) => Load(SeedFolder(BasePath(task) + "-predictions", seed), Name(task), seed);

    /// <summary>
    /// The paper's Fig 6 on real cells: the test cells <paramref name="row"/>'s model got wrong, most confident first, each
    /// as the network saw it with its softmax bars. The answers come from the saved predictions; the pictures from the
    /// data folder (<paramref name="study"/>), which must hold every cell the predictions name.
    /// </summary>
    public static HtmlView WrongCells(RealDataStudy study, RealTable1Task task, PairedTable1Row row, int max = 12)
    {
        var (prep, _) = study.Prepare(Name(task), Keeps(task), progress: null);
        var byId = prep.Split.Test.GroupBy(c => c.CellId).ToDictionary(g => g.Key, g => g.First());
        var p = row.Predictions;
        var cells = p.Cells.Select(c => byId.TryGetValue(c.Cell, out var cell) ? cell
            : throw new InvalidDataException($"{row.Variant}: test cell {c.Cell} of the saved predictions is not a test cell of {study.Data} (another folder or split)")).ToList();
        var set = SampleSet.Original(prep.Tiles, cells, "test set").AnsweredBy(p.Outputs);
        var predictions = Predictions.Of(p, set, row.Variant);
        var wrong = predictions.Wrong;
        var shown = wrong.Take(max).ToList();
        // Bars for the task's stages only: the network has ten outputs, but the classes no training cell had are never
        // the answer and would fill every card with rows of 0.0%. What they hold at most is said, so nothing is hidden.
        var taskClasses = cells.Select(c => c.Label.Class).OfType<CellClass>().ToHashSet();
        var drawn = Enumerable.Range(0, predictions.Classes.Count).Where(k => taskClasses.Contains(predictions.Classes[k])).ToHashSet();
        double rest = shown.Count == 0 ? 0 : shown.Max(i => Enumerable.Range(0, predictions.Classes.Count).Where(k => !drawn.Contains(k)).Sum(k => (double)predictions.Probabilities[i, k]));
        string others = drawn.Count == predictions.Classes.Count ? "" : $" over the task's {drawn.Count} stages (the other {predictions.Classes.Count - drawn.Count} outputs, which no training cell had, hold {Percent.Of(rest)}% of a card's softmax at most)";
        return AnalysisFigures.GalleryHtml(predictions, shown,
            $"Fig 6 on real cells: {shown.Count} of the {wrong.Count} test cells {row.Variant} got wrong ({Name(task)}), most confident first; bars: its softmax{others}", drawn);
    }

    /// <summary>The table of one training seed, from its folder (<see cref="SeedFolder"/>) written by <see cref="Run"/>: no
    /// model, no image, no training.</summary>
    public static PairedTable1 Load(string folder, string task, int seed)
    {
        var rows = ReadModels(folder);
        var dual = rows.FirstOrDefault(r => r.Variant == Table1Roles.DualStageName);
        if (dual.Predictions is null) throw new InvalidDataException($"{Path.Combine(folder, ModelsFile)}: no {Table1Roles.DualStageName} row");
        string stamp = Path.Combine(folder, StampFile);
        return PairedTable1.Build(task, [.. rows.Where(r => r.Variant != Table1Roles.DualStageName).Select(r => new Table1Row(r.Variant, r.Images, r.Predictions))],
                                  new Table1Row(dual.Variant, dual.Images, dual.Predictions), seed) with { Stamp = File.Exists(stamp) ? File.ReadAllText(stamp).Trim() : "" };
    }

    /// <summary>Every training seed of a predictions folder (<see cref="Seeds"/>) as <see cref="Table1Replicates"/>, with
    /// the split seed's stamp; the test cells must be the same for every seed.</summary>
    public static Table1Replicates Replicates(string folder, string task)
    {
        var seeds = Seeds(folder);
        if (seeds.Count == 0) throw new FileNotFoundException($"{folder} holds no training seed (no seed-N/{ModelsFile}): marrow real-table1 writes them", folder);
        var runs = seeds.Select(s => (s, ReadModels(SeedFolder(folder, s)))).ToList();
        var replicates = new Table1Replicates(task, [.. runs.Select(r => (r.s, (IReadOnlyDictionary<string, CellPredictions>)r.Item2.ToDictionary(m => m.Variant, m => m.Predictions)))])
        {
            Training = runs[0].Item2.ToDictionary(m => m.Variant, m => (m.Images, m.Steps)),
            Cpus = runs.Select(r => (r.s, string.Join("; ", r.Item2.Select(m => m.Cpu).Distinct()))).ToList(),
            Minutes = runs.Select(r => (r.s, r.Item2.Sum(m => m.Minutes))).ToList(),
            Stamp = ReplicatesStamp(folder, seeds),
        };
        return replicates;
    }

    // "<caveat>; data: … | profile: … | seed: S | commit: C[; training seed: N]" of each seed, as one stamp: the first
    // seed's up to its commit, then each seed's commit.
    private static string ReplicatesStamp(string folder, IReadOnlyList<int> seeds)
    {
        string Read(int s) => File.Exists(Path.Combine(SeedFolder(folder, s), StampFile)) ? File.ReadAllText(Path.Combine(SeedFolder(folder, s), StampFile)).Trim() : "";
        string first = Read(seeds[0]);
        int cut = first.IndexOf(" | commit:", StringComparison.Ordinal);
        string head = cut < 0 ? first : first[..cut];
        var commits = seeds.Select(s => (s, Match: System.Text.RegularExpressions.Regex.Match(Read(s), @"commit: (\S+?)(;|$)")))
                           .Select(x => $"{x.s} at {(x.Match.Success ? x.Match.Groups[1].Value : "?")}");
        return $"{head} (of the split) | training seeds' commits: {string.Join(", ", commits)}";
    }

    private static List<(string Variant, int Images, long Steps, double Minutes, string Cpu, CellPredictions Predictions)> ReadModels(string folder)
    {
        string list = Path.Combine(folder, ModelsFile);
        if (!File.Exists(list)) throw new FileNotFoundException($"{list} is missing: {folder} holds no saved real Table 1 (marrow real-table1 writes it)", list);
        var rows = Csv.Parse(File.ReadAllText(list));
        if (rows.Count == 0 || Csv.Line(rows[0]) != ModelsHeader) throw new InvalidDataException($"{list}:1: header must be {ModelsHeader}");
        var models = new List<(string, int, long, double, string, CellPredictions)>();
        for (int r = 1; r < rows.Count; r++)
        {
            var row = rows[r];
            if (row.Length == 1 && row[0].Length == 0) continue;
            if (row.Length != 6 || !int.TryParse(row[1], NumberStyles.None, CultureInfo.InvariantCulture, out int images)
                || !long.TryParse(row[2], NumberStyles.None, CultureInfo.InvariantCulture, out long steps)
                || !double.TryParse(row[3], NumberStyles.Float, CultureInfo.InvariantCulture, out double minutes))
                throw new InvalidDataException($"{list}:{r + 1}: expected {ModelsHeader}");
            if (row[5] != Path.GetFileName(row[5])) throw new InvalidDataException($"{list}:{r + 1}: '{row[5]}' must be a file name in {folder}");
            models.Add((row[0], images, steps, minutes, row[4], CellPredictions.Load(Path.Combine(folder, row[5]))));
        }
        return models;
    }
}
