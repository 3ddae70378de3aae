using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text;
using MarrowDiff.Core;
using MarrowDiff.Data;

namespace MarrowDiff.Preparation;

/// <summary>What must never be on two sides of a split: one physical cell (the default), or one subject
/// (patient-level split: no patient's cells in both training and test).</summary>
public enum SplitGrouping { Cell, Subject }

/// <summary>The paper's split: training-validation : test = 5:1, and five folds (4:1) inside training-validation.</summary>
public sealed record SplitOptions(int Seed, SplitGrouping GroupBy = SplitGrouping.Cell)
{
    /// <summary>One group in <c>TestOneIn</c> goes to the test set (5:1).</summary>
    public const int TestOneIn = 6;

    /// <summary>Folds of the training-validation set (each 4:1 against the rest).</summary>
    public const int Folds = 5;

    public static SplitGrouping ParseGrouping(string value) => value.Trim().ToLowerInvariant() switch
    {
        "cell" => SplitGrouping.Cell,
        "subject" or "patient" => SplitGrouping.Subject,
        _ => throw new ArgumentException($"unknown split grouping '{value}': use \"cell\" or \"subject\""),
    };

    public string FileStem => $"splits-by-{GroupBy.ToString().ToLowerInvariant()}-seed{Seed}";

    public override string ToString() =>
        $"5:1 test split and {Folds} folds, grouped by {GroupBy.ToString().ToLowerInvariant()}, seed {Seed}";
}

/// <summary>The three sides one model sees: it trains on <see cref="Train"/>, chooses on <see cref="Validation"/>
/// (empty for a final model trained on all of training-validation), and is scored once on <see cref="Test"/>.</summary>
public sealed record SplitSides(IReadOnlyList<CellImage> Train, IReadOnlyList<CellImage> Validation, IReadOnlyList<CellImage> Test, string Description);

/// <summary>
/// The assignment of every cell of the 10-class task to the test set or to one of five folds. Made once from a seed,
/// saved as <c>splits-…csv</c>, and read back by every later notebook and run, so the test set never moves.
/// All crops of one cell (and every image whose bytes are identical to another's) share one side: an oversampled
/// or augmented copy of a test cell in training would be a leak that inflates accuracy.
/// </summary>
public sealed class DatasetSplit
{
    /// <summary>Part number of the test set; folds are 1…5.</summary>
    public const int TestPart = 0;

    private readonly Dictionary<string, int> _partOfCellId;

    private DatasetSplit(SplitOptions options, IReadOnlyList<CellImage> cells, Dictionary<string, int> partOfCellId, IReadOnlyList<string> notes, string? file)
    {
        Options = options; Cells = cells; _partOfCellId = partOfCellId; Notes = notes; File = file;
    }

    public SplitOptions Options { get; }

    /// <summary>The cells of the 10-class task that the split covers (Other labels are not in the task).</summary>
    public IReadOnlyList<CellImage> Cells { get; }

    /// <summary>How the split was made or read, and anything merged or approximate about it.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Where the split is saved (null if it was never saved).</summary>
    public string? File { get; }

    /// <summary>0 for the test set, 1…5 for a fold.</summary>
    public int PartOf(CellImage cell) => _partOfCellId.TryGetValue(cell.CellId, out int p) ? p
        : throw new KeyNotFoundException($"cell '{cell.CellId}' ({cell.Path}) is not in the split");

    public static string PartName(int part) => part == TestPart ? "test" : $"fold{part}";

    public IReadOnlyList<CellImage> Test => Cells.Where(c => PartOf(c) == TestPart).ToList();

    public IReadOnlyList<CellImage> TrainValidation => Cells.Where(c => PartOf(c) != TestPart).ToList();

    /// <summary>Training, validation and test sides: with <paramref name="validationFold"/> (1…5) the fold is held
    /// out for validation (cross-validation); without it, all of training-validation trains (the final model).</summary>
    public SplitSides Sides(int? validationFold = null)
    {
        if (validationFold is { } f && (f < 1 || f > SplitOptions.Folds))
            throw new ArgumentOutOfRangeException(nameof(validationFold), $"fold {f}: folds are 1…{SplitOptions.Folds}");
        var train = Cells.Where(c => PartOf(c) != TestPart && PartOf(c) != validationFold).ToList();
        var validation = validationFold is null ? [] : Cells.Where(c => PartOf(c) == validationFold).ToList();
        string what = validationFold is null ? "training = all five folds (final model)" : $"training = folds except {validationFold}, validation = fold {validationFold}";
        return new SplitSides(train, validation, Test, $"{what}; {Options}");
    }

    /// <summary>
    /// The sides of <see cref="Sides(int?)"/> with only a share of the training cells of each class: a learning curve's
    /// question, how the held-out score grows with the labelled cells, asked on the same held-out fold and test cells
    /// whatever the share, so that the points differ in the training cells alone. Of each class,
    /// ⌈<paramref name="cellShare"/> × n⌉ of the n training cells (cell ids) are kept (at least one), the first in one seeded order of
    /// all the class's training-validation cells: the same order for every fold and share, so a smaller share's cells are
    /// among a larger one's (the curve is nested, as adding cells to a study would be). Whole cells are kept or dropped,
    /// so every re-crop of a cell stays on its one side. Share 1 is <see cref="Sides(int?)"/> itself.
    /// </summary>
    public SplitSides Sides(int? validationFold, double cellShare)
    {
        if (!(cellShare > 0 && cellShare <= 1))
            throw new ArgumentOutOfRangeException(nameof(cellShare), $"share of the training cells {cellShare.ToString(CultureInfo.InvariantCulture)}: use a share in (0, 1]");
        var sides = Sides(validationFold);
        if (cellShare == 1) return sides;
        // By cell id, not by image: a dataset of pre-made crops has several images of one cell, kept or dropped together.
        var kept = new HashSet<string>(StringComparer.Ordinal);
        foreach (var cls in sides.Train.Select(c => c.Label.Class).Distinct())
        {
            var order = TrainValidation.Where(c => c.Label.Class == cls).Select(c => c.CellId).Distinct().Order(StringComparer.Ordinal).ToList();
            Rng.For(Options.Seed, Rng.Key("cell-share"), (long)cls!.Value).Shuffle(order); // the split holds task cells only: each has a class
            var onSide = sides.Train.Where(c => c.Label.Class == cls).Select(c => c.CellId).ToHashSet(StringComparer.Ordinal);
            // The small epsilon keeps 0.3 × 10 at 3: in binary it is 3.0000000000000004, whose ceiling is 4.
            int keep = Math.Max(1, (int)Math.Ceiling(cellShare * onSide.Count - 1e-9));
            kept.UnionWith(order.Where(onSide.Contains).Take(keep));
        }
        var train = sides.Train.Where(c => kept.Contains(c.CellId)).ToList();
        string share = cellShare.ToString("0.###", CultureInfo.InvariantCulture);
        return sides with { Train = train, Description = $"{kept.Count} of {CellCount(sides.Train)} training cells (share {share} of each class, seeded and nested); {sides.Description}" };
    }

    /// <summary>Cells, not images: the distinct cell ids of <paramref name="images"/>.</summary>
    public static int CellCount(IEnumerable<CellImage> images) => images.Select(c => c.CellId).Distinct(StringComparer.Ordinal).Count();

    // ---------------------------------------------------------------- making a split

    /// <summary>Makes the split of <paramref name="cells"/> (Other labels are left out). Deterministic: the same
    /// cells and options give the same split, whatever order the cells come in.</summary>
    public static DatasetSplit Create(IEnumerable<CellImage> cells, SplitOptions options, bool mergeIdenticalFiles = true)
    {
        var task = cells.Where(c => !c.Label.IsOther).OrderBy(c => c.CellId, StringComparer.Ordinal).ThenBy(c => c.Path, StringComparer.Ordinal).ToList();
        if (task.Count == 0) throw new InvalidOperationException("no cells of the paper's 10 classes to split");
        var notes = new List<string>();

        // Union-find over cell ids: same grouping key (cell, or subject) → one group; identical bytes → one group.
        var parent = new Dictionary<string, string>(StringComparer.Ordinal);
        string Find(string x) { while (parent[x] != x) x = parent[x] = parent[parent[x]]; return x; }
        void Union(string a, string b) { a = Find(a); b = Find(b); if (a != b) parent[string.CompareOrdinal(a, b) < 0 ? b : a] = string.CompareOrdinal(a, b) < 0 ? a : b; }
        foreach (var c in task) parent.TryAdd(c.CellId, c.CellId);

        foreach (var sameId in task.GroupBy(c => c.CellId))
        {
            var labels = sameId.Select(c => c.Label.Class).Distinct().ToList();
            if (labels.Count > 1)
                throw new InvalidDataException($"cell '{sameId.Key}' has images under two labels ({string.Join(", ", labels)}): {string.Join(", ", sameId.Select(c => c.Path))}");
        }
        if (options.GroupBy == SplitGrouping.Subject)
        {
            var missing = task.Where(c => string.IsNullOrEmpty(c.Subject)).ToList();
            if (missing.Count > 0)
                throw new InvalidOperationException($"a patient-level split needs a subject for every cell; {missing.Count} of {task.Count} have none (e.g. {missing[0].Path}). " +
                                                    "Give a 'subject' column in manifest.csv, or split by cell.");
            foreach (var bySubject in task.GroupBy(c => c.Subject!)) { string first = bySubject.First().CellId; foreach (var c in bySubject) Union(first, c.CellId); }
        }
        if (mergeIdenticalFiles)
        {
            int merged = 0;
            foreach (var same in task.GroupBy(c => ContentHash(c.Path)).Where(g => g.Select(c => c.CellId).Distinct().Count() > 1))
            {
                string first = same.First().CellId;
                foreach (var c in same) if (Find(c.CellId) != Find(first)) { Union(first, c.CellId); merged++; }
            }
            if (merged > 0) notes.Add($"{merged} cell(s) share identical image bytes with another cell and were kept on the same side as it");
        }

        var groups = task.GroupBy(c => Find(c.CellId), StringComparer.Ordinal)
                         .Select(g => new Group(g.Key, g.ToList())).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        var part = options.GroupBy == SplitGrouping.Cell ? AssignStratified(groups, options.Seed, notes) : AssignBySubject(groups, options.Seed, notes);
        var partOfCellId = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var g in groups) foreach (var c in g.Cells) partOfCellId[c.CellId] = part[g.Key];
        notes.Insert(0, $"made from seed {options.Seed}: {options}");
        return new DatasetSplit(options, task, partOfCellId, notes, null);
    }

    private sealed record Group(string Key, List<CellImage> Cells)
    {
        public CellClass Stratum => Cells[0].Label.Class!.Value;
    }

    /// <summary>Stratified by class: within each class the groups are shuffled, one in six (rounded) goes to test,
    /// and the rest are dealt to the five folds in turn, the dealing continuing from class to class so that fold
    /// sizes stay within one of each other.</summary>
    private static Dictionary<string, int> AssignStratified(List<Group> groups, int seed, List<string> notes)
    {
        var part = new Dictionary<string, int>(StringComparer.Ordinal);
        int dealer = 0;
        foreach (var byClass in groups.GroupBy(g => g.Stratum).OrderBy(g => g.Key))
        {
            var list = byClass.ToList();
            Rng.For(seed, Rng.Key("split"), (long)byClass.Key).Shuffle(list);
            int test = (int)Math.Round(list.Count / (double)SplitOptions.TestOneIn, MidpointRounding.AwayFromZero);
            for (int i = 0; i < list.Count; i++)
                part[list[i].Key] = i < test ? TestPart : 1 + dealer++ % SplitOptions.Folds;
            if (test == 0) notes.Add($"{byClass.Key.Code()} has {list.Count} cell(s): too few for one in the test set");
        }
        return part;
    }

    /// <summary>Patient-level: whole subjects go to one side. With ~10 subjects exact 5:1 stratification is
    /// impossible, so 4,000 seeded candidate assignments are scored by how far each class's test share is from 1/6
    /// and each fold's share from 1/5, and the closest is kept; the realised shares are reported.</summary>
    private static Dictionary<string, int> AssignBySubject(List<Group> groups, int seed, List<string> notes)
    {
        int needed = SplitOptions.Folds + 1;
        if (groups.Count < needed)
            throw new InvalidOperationException($"a patient-level split needs at least {needed} subjects (one for test, one per fold); this dataset has {groups.Count}. Split by cell instead.");
        var classes = CellTaxonomy.StagesAnd(groups.SelectMany(g => g.Cells).Select(c => c.Label.Class));
        int[] total = classes.Select(k => groups.Sum(g => g.Cells.Count(c => c.Label.Class == k))).ToArray();
        int totalCells = total.Sum();
        var rng = Rng.For(seed, Rng.Key("split-by-subject"));
        int[]? best = null; double bestScore = double.MaxValue;
        for (int trial = 0; trial < 4000; trial++)
        {
            var order = Enumerable.Range(0, groups.Count).ToList();
            rng.Shuffle(order);
            int[] assign = new int[groups.Count];
            int testCells = 0, k = 0;
            // Test: subjects in shuffled order until the test set holds about one sixth of the cells.
            while (k < groups.Count - SplitOptions.Folds &&
                   Math.Abs(testCells + groups[order[k]].Cells.Count - totalCells / 6.0) < Math.Abs(testCells - totalCells / 6.0) || k == 0)
            {
                testCells += groups[order[k]].Cells.Count; assign[order[k]] = TestPart; k++;
            }
            // Folds: each remaining subject to the fold with fewest cells (every fold gets one first).
            int[] foldCells = new int[SplitOptions.Folds + 1];
            for (int j = k; j < groups.Count; j++)
            {
                int f = j - k < SplitOptions.Folds ? 1 + (j - k) : Enumerable.Range(1, SplitOptions.Folds).MinBy(x => foldCells[x]);
                assign[order[j]] = f; foldCells[f] += groups[order[j]].Cells.Count;
            }
            double score = 0;
            for (int c = 0; c < classes.Count; c++)
            {
                if (total[c] == 0) continue;
                double[] counts = new double[SplitOptions.Folds + 1];
                for (int g = 0; g < groups.Count; g++) counts[assign[g]] += groups[g].Cells.Count(x => x.Label.Class == classes[c]);
                score += Math.Abs(counts[0] / total[c] - 1.0 / SplitOptions.TestOneIn);
                double tv = total[c] - counts[0];
                if (tv > 0) for (int f = 1; f <= SplitOptions.Folds; f++) score += 0.2 * Math.Abs(counts[f] / tv - 1.0 / SplitOptions.Folds);
            }
            if (score < bestScore) { bestScore = score; best = assign; }
        }
        var part = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int g = 0; g < groups.Count; g++) part[groups[g].Key] = best![g];
        var testSubjects = groups.Where(g => part[g.Key] == TestPart).Select(g => g.Cells[0].Subject).OrderBy(s => s, StringComparer.Ordinal);
        notes.Add($"patient-level split of {groups.Count} subjects; test subjects: {string.Join(", ", testSubjects)}; " +
                  $"class shares are as close to 5:1 as whole subjects allow (see the summary)");
        return part;
    }

    private static string ContentHash(string path)
    {
        using var stream = System.IO.File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    // ---------------------------------------------------------------- persistence

    /// <summary>
    /// The split saved in <paramref name="folder"/> for these options, made and saved first if there is none.
    /// A saved split always wins over re-making it, so the test set stays put even if this code changes; if the
    /// dataset gained cells the saved split does not know, that is an error (quietly placing them would change
    /// what "the test set" means), naming the file to delete to re-split.
    /// </summary>
    /// <remarks>Cells outside the ten stages (a dataset relabelled by <see cref="CellDataset.WithNonStageOutcomes"/>) are
    /// split apart, in a file of their own (<see cref="NonStageFileSuffix"/>), by the same rule: the stages' split,
    /// which every earlier model and result was made on, stays as it was, and no stage cell changes side.</remarks>
    public static DatasetSplit Ensure(CellDataset dataset, SplitOptions options, string folder)
    {
        var (stages, outside) = StagesAndOutside(dataset.PaperCells);
        string file = Path.Combine(folder, options.FileStem + ".csv");
        var split = EnsureFile(file, stages, options);
        return outside.Count == 0 ? split : split.Joined(EnsureFile(NonStageFile(file), outside, options));
    }

    /// <summary>What the split file of the cells outside the ten stages adds to the stages' file name.</summary>
    public const string NonStageFileSuffix = "-nonstage";

    /// <summary>A saved split read back (<see cref="Load"/>) with, when <paramref name="cells"/> has cells outside the ten
    /// stages, their file beside it (<see cref="Ensure"/> writes both): what a saved model of such a task is scored on.</summary>
    public static DatasetSplit LoadWithOutside(string file, IEnumerable<CellImage> cells, SplitOptions options)
    {
        var (stages, outside) = StagesAndOutside(cells);
        var split = Load(file, stages, options);
        if (outside.Count == 0) return split;
        string beside = NonStageFile(file);
        if (!System.IO.File.Exists(beside))
            throw new FileNotFoundException($"{beside}: the split of the {outside.Count} cells outside the ten stages is not beside {file}", beside);
        return split.Joined(Load(beside, outside, options));
    }

    // The task's cells (labelled, not Other) in two parts, each with a split file of its own made by the same rule.
    private static (List<CellImage> Stages, List<CellImage> Outside) StagesAndOutside(IEnumerable<CellImage> cells)
    {
        var task = cells.Where(c => !c.Label.IsOther).ToList();
        return (task.Where(c => c.Label.Class!.Value.IsStage()).ToList(), task.Where(c => !c.Label.Class!.Value.IsStage()).ToList());
    }

    // The split file of the cells outside the ten stages, beside the stages' file.
    private static string NonStageFile(string stagesFile) =>
        Path.Combine(Path.GetDirectoryName(stagesFile) ?? ".", Path.GetFileNameWithoutExtension(stagesFile) + NonStageFileSuffix + ".csv");

    private static DatasetSplit EnsureFile(string file, IReadOnlyList<CellImage> cells, SplitOptions options)
    {
        if (System.IO.File.Exists(file)) return Load(file, cells, options);
        Create(cells, options).Save(file);
        return Load(file, cells, options);
    }

    /// <summary>This split and <paramref name="other"/>, of disjoint cells, as one (the stages' and the non-stage cells').</summary>
    private DatasetSplit Joined(DatasetSplit other)
    {
        var shared = _partOfCellId.Keys.Intersect(other._partOfCellId.Keys, StringComparer.Ordinal).FirstOrDefault();
        if (shared is not null) throw new InvalidDataException($"cell '{shared}' is in both {File} and {other.File}: one cell has images under a stage and a non-stage label");
        var parts = new Dictionary<string, int>(_partOfCellId, StringComparer.Ordinal);
        foreach (var (id, part) in other._partOfCellId) parts[id] = part;
        var cells = Cells.Concat(other.Cells).OrderBy(c => c.CellId, StringComparer.Ordinal).ThenBy(c => c.Path, StringComparer.Ordinal).ToList();
        return new DatasetSplit(Options, cells, parts, [.. Notes, .. other.Notes], File);
    }

    /// <summary>Writes the split as CSV (cell_id, class, subject, part), and a JSON note beside it, atomically.</summary>
    public void Save(string file)
    {
        var csv = new StringBuilder("cell_id,class,subject,part\n");
        foreach (var c in Cells.GroupBy(c => c.CellId).Select(g => g.First()))
            csv.Append(Csv.Line([c.CellId, c.Label.ToManifestValue(), c.Subject ?? "", PartName(PartOf(c))])).Append('\n');
        AtomicFile.WriteAllText(file, csv.ToString());
        AtomicFile.WriteAllText(Path.ChangeExtension(file, ".json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["seed"] = Options.Seed,
            ["grouped_by"] = Options.GroupBy.ToString().ToLowerInvariant(),
            ["test_one_in"] = SplitOptions.TestOneIn,
            ["folds"] = SplitOptions.Folds,
            ["cells"] = _partOfCellId.Count,
            ["notes"] = Notes,
            ["written_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        }, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Reads a saved split and checks it against the dataset's cells.</summary>
    public static DatasetSplit Load(string file, IEnumerable<CellImage> cells, SplitOptions options)
    {
        var rows = Csv.Parse(System.IO.File.ReadAllText(file));
        if (rows.Count == 0 || !rows[0].Select(h => h.Trim()).SequenceEqual(["cell_id", "class", "subject", "part"]))
            throw new InvalidDataException($"{file}: not a MarrowDiff splits file (header must be cell_id,class,subject,part)");
        var partOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var classOf = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int r = 1; r < rows.Count; r++)
        {
            var row = rows[r];
            if (row.Length == 1 && row[0].Length == 0) continue;
            if (row.Length != 4) throw new InvalidDataException($"{file}:{r + 1}: expected 4 fields, found {row.Length}");
            int part = row[3].Trim() switch
            {
                "test" => TestPart,
                var p when p.StartsWith("fold", StringComparison.Ordinal) && int.TryParse(p[4..], out int f) && f is >= 1 and <= SplitOptions.Folds => f,
                var p => throw new InvalidDataException($"{file}:{r + 1}: part '{p}' is not test or fold1…fold{SplitOptions.Folds}"),
            };
            if (!partOf.TryAdd(row[0], part)) throw new InvalidDataException($"{file}:{r + 1}: cell '{row[0]}' listed twice");
            classOf[row[0]] = row[1];
        }
        var task = cells.Where(c => !c.Label.IsOther).OrderBy(c => c.CellId, StringComparer.Ordinal).ThenBy(c => c.Path, StringComparer.Ordinal).ToList();
        var unknown = task.Where(c => !partOf.ContainsKey(c.CellId)).ToList();
        if (unknown.Count > 0)
            throw new InvalidDataException($"{file}: {unknown.Count} cell(s) of the dataset are not in this saved split (e.g. '{unknown[0].CellId}', {unknown[0].Path}). " +
                                           "The dataset changed since the split was made; delete the file to make a new split (the test set will change), or use another seed.");
        var relabelled = task.FirstOrDefault(c => classOf[c.CellId] != c.Label.ToManifestValue());
        if (relabelled is not null)
            throw new InvalidDataException($"{file}: cell '{relabelled.CellId}' is {classOf[relabelled.CellId]} in the saved split but {relabelled.Label.ToManifestValue()} in the dataset ({relabelled.Path})");
        var notes = new List<string> { $"read from {file}: {options}" };
        // The notes written when the split was made (test subjects, merged duplicates, …) still describe it.
        string sidecar = Path.ChangeExtension(file, ".json");
        if (System.IO.File.Exists(sidecar))
        {
            using var meta = JsonDocument.Parse(System.IO.File.ReadAllText(sidecar));
            if (meta.RootElement.TryGetProperty("notes", out var made) && made.ValueKind == JsonValueKind.Array)
                notes.AddRange(made.EnumerateArray().Select(n => n.GetString()).Where(n => !string.IsNullOrEmpty(n) && !n.StartsWith("made from seed", StringComparison.Ordinal))!);
        }
        int gone = partOf.Keys.Except(task.Select(c => c.CellId)).Count();
        if (gone > 0) notes.Add($"{gone} cell(s) in the saved split are no longer in the dataset (left out)");
        return new DatasetSplit(options, task, partOf, notes, file);
    }
}
