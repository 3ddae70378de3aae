using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Experiments;
using MarrowDiff.Imaging;
using MarrowDiff.Phantom;
using MarrowDiff.Preparation;
using MarrowDiff.Reports;

namespace MarrowDiff.Workbooks;

/// <summary>
/// The few high-level entry points a notebook calls. Everything they do is also reachable through the smaller
/// pieces (CellDatasetLoader, MarrowPhantom, DataAudit) for anyone who wants to compose differently.
/// </summary>
public static class Workbook
{
    /// <summary>The value of a notebook's <c>data</c> parameter that means "the built-in synthetic phantom".</summary>
    public const string PhantomData = "phantom";

    /// <summary>The MarrowDiff checkout: the nearest folder above the current directory (or this library) that
    /// holds global.json and notebooks/.</summary>
    public static string RepositoryRoot => Checkout.Find()
        ?? throw new DirectoryNotFoundException($"no MarrowDiff checkout (global.json + notebooks/) above {Environment.CurrentDirectory}");

    /// <summary>Generated data (phantoms) live here; git ignores it.</summary>
    public static string DataRoot => Path.Combine(RepositoryRoot, "data");

    /// <summary>Figures and tables that are part of the project live here.</summary>
    public static string FiguresRoot => Path.Combine(RepositoryRoot, "figures");

    /// <summary>The environment variable that names another folder for <see cref="SharedRoot"/>: CI points it at an empty
    /// folder to run the tests once as a newcomer meets them, with no data beside the clone.</summary>
    public const string SharedVariable = "MARROW_SHARED";

    /// <summary>Where the data that are not part of the repository sit: <c>../shared</c> beside the checkout (its
    /// <c>real-cells</c> and <c>fields</c>), unless <see cref="SharedVariable"/> names another folder. Every command and
    /// test that looks for them by default looks here, so one variable decides whether they are "present".</summary>
    public static string SharedRoot => SharedRootFor(Environment.GetEnvironmentVariable(SharedVariable));

    /// <summary><see cref="SharedRoot"/> for a value of <see cref="SharedVariable"/> (null or empty: unset).</summary>
    public static string SharedRootFor(string? variable) => variable is { Length: > 0 } folder
        ? Path.GetFullPath(folder)
        : Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"));

    /// <summary>The real labelled cells (<see cref="SharedRoot"/>/real-cells).</summary>
    public static string SharedRealCells => Path.Combine(SharedRoot, "real-cells");

    /// <summary>The real fields with white-cell boxes (<see cref="SharedRoot"/>/fields).</summary>
    public static string SharedFields => Path.Combine(SharedRoot, "fields");

    /// <summary>The environment variable that sends what notebooks save elsewhere than <see cref="FiguresRoot"/>.</summary>
    public const string FiguresOutVariable = "MARROW_FIGURES_OUT";

    /// <summary>Where a notebook saves its figures and tables: <see cref="FiguresRoot"/>, whose files are committed,
    /// unless <see cref="FiguresOutVariable"/> names another folder. The tests execute every notebook with it set, so a
    /// test run never rewrites a committed figure; what notebooks <i>read</i> (notebook 09's committed predictions)
    /// stays in <see cref="FiguresRoot"/>.</summary>
    public static string FiguresOut => Environment.GetEnvironmentVariable(FiguresOutVariable) is { Length: > 0 } folder
        ? Directory.CreateDirectory(folder).FullName
        : FiguresRoot;

    /// <summary>The profile a notebook or command names, resolved once: its settings, any <c>KEY=VALUE</c> overrides
    /// (<see cref="ExperimentProfile.With"/>) and the seed. Everything made from it carries this one record.</summary>
    public static ExperimentProfile Resolve(string profile, int seed, IEnumerable<string>? set = null)
    {
        var p = ExperimentProfile.Parse(profile);
        foreach (string kv in set ?? [])
            p = kv.Split('=', 2) is [var k, var v] ? p.With(k, v) : throw new ArgumentException($"--set {kv}: use KEY=VALUE");
        return p.WithSeed(seed);
    }

    /// <summary>
    /// Notebooks 02 to 06 open their work with this one call: the profile resolved once, the dataset read, the split
    /// made (or read back) and the training sets ready to build, with one provenance for every stamp. Deconstructs as
    /// <c>var (settings, dataset, prep) = Workbook.Open(...)</c>.
    /// </summary>
    public static WorkbookSession Open(string data, string profile, int seed, string groupBy = "cell", IProgress<WorkProgress>? progress = null, string? pitch = null) =>
        Open(data, Resolve(profile, seed), groupBy, progress, pitch);

    /// <summary><see cref="Open(string, string, int, string, IProgress{WorkProgress}, string)"/> for a resolved profile.</summary>
    /// <param name="outsideStages">Give the cells outside the ten stages their own outcomes (<see cref="CellDataset.WithNonStageOutcomes"/>)
    /// instead of leaving them out of the task.</param>
    public static WorkbookSession Open(string data, ExperimentProfile profile, string groupBy = "cell", IProgress<WorkProgress>? progress = null, string? pitch = null,
                                       BadFilePolicy policy = BadFilePolicy.Skip, bool outsideStages = false)
    {
        var dataset = OpenData(data, profile, policy, progress);
        if (outsideStages) dataset = dataset.WithNonStageOutcomes();
        return new WorkbookSession(profile, dataset, Prepare(dataset, profile, groupBy, progress, pitch));
    }

    /// <summary>
    /// The dataset a notebook works on: <c>"phantom"</c> renders (once, then reuses) the synthetic phantom of the
    /// profile's size for its seed; anything else is a folder path (relative to the current directory, which is the
    /// notebook's folder). Bad files are skipped and listed in Skipped by default: the audit shows them; pass
    /// <see cref="BadFilePolicy.Stop"/> to fail at the first.
    /// </summary>
    public static CellDataset OpenData(string data, ExperimentProfile profile, BadFilePolicy policy = BadFilePolicy.Skip, IProgress<WorkProgress>? progress = null) =>
        CellDatasetLoader.Load(ResolveData(data, profile, progress), policy);

    /// <summary>The folder behind a <c>data</c> value (rendering the phantom of the profile's size and seed if needed).</summary>
    public static string ResolveData(string data, ExperimentProfile p, IProgress<WorkProgress>? progress = null)
    {
        if (data.Equals(PhantomData, StringComparison.OrdinalIgnoreCase))
            return MarrowPhantom.Ensure(DataRoot, p.PhantomSize, p.Seed, progress);
        string root = Path.GetFullPath(data);
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"data folder '{data}' not found (resolved to {root}); give a dataset folder or \"{PhantomData}\"");
        return root;
    }

    /// <summary>The data audit of notebook 01.</summary>
    public static DataAudit Audit(CellDataset dataset, ExperimentProfile profile) =>
        new(dataset, Provenance.For(profile.Name, dataset.Root, profile.Seed));

    /// <summary>
    /// Where the split of a dataset is saved. A dataset the workbook made (under <see cref="DataRoot"/>) keeps its
    /// split beside it; a dataset elsewhere (real images, read where they are) is never written into: its split goes
    /// to <c>data/splits/&lt;folder&gt;-&lt;hash of its path&gt;/</c>.
    /// </summary>
    public static string SplitsFolder(string datasetRoot)
    {
        string root = Path.GetFullPath(datasetRoot);
        string data = Path.GetFullPath(DataRoot) + Path.DirectorySeparatorChar;
        if (root.StartsWith(data, StringComparison.Ordinal)) return root;
        string hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(root)))[..8].ToLowerInvariant();
        return Path.Combine(DataRoot, "splits", $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(root))}-{hash}");
    }

    /// <summary>The data preparation of notebooks 02 and 03: the saved split (made on first use from the profile's
    /// seed), the cell tiles and the profile's six training sets. <paramref name="groupBy"/> is "cell" (default) or
    /// "subject". Single-cell crops of public datasets are resampled to the project's pitch first: <paramref name="pitch"/>
    /// gives a source's pitch ("PBC=0.1;Matek=0.08", µm per px); any source not given is estimated
    /// (<see cref="SourceScales"/>).</summary>
    public static DataPreparation Prepare(CellDataset dataset, ExperimentProfile p, string groupBy = "cell", IProgress<WorkProgress>? progress = null, string? pitch = null) =>
        Prepare(dataset, p, new SplitOptions(p.Seed, SplitOptions.ParseGrouping(groupBy)), SourceScales.ForCrops(dataset, SourceScales.Parse(pitch)),
                Provenance.For(p.Name, dataset.Root, p.Seed), progress);

    /// <summary>
    /// The one split-and-prepare path of every notebook, command and study: the dataset's split saved under
    /// <see cref="SplitsFolder"/> (made on first use), the tiles cut at the sources' <paramref name="scales"/>, the
    /// profile's training sets. A <paramref name="task"/> keeps only its cells (and the Other labels), on the split of
    /// the whole dataset, made first, so a cell is on the same side in every task; its name joins the provenance.
    /// </summary>
    internal static DataPreparation Prepare(CellDataset dataset, ExperimentProfile p, SplitOptions options, IReadOnlyDictionary<string, SourceScale> scales,
                                            Provenance provenance, IProgress<WorkProgress>? progress, (string Name, Func<CellImage, bool> Keep)? task = null)
    {
        string folder = SplitsFolder(dataset.Root);
        if (task is var (name, keep))
        {
            DatasetSplit.Ensure(dataset, options, folder);
            var cells = dataset.Cells.Where(c => c.Label.IsOther || keep(c)).ToList();
            dataset = new CellDataset(dataset.Root, dataset.Layout, cells, dataset.Fields, dataset.Skipped, [.. dataset.Notes, $"task: {name}"]);
            provenance = provenance with { Data = $"{provenance.Data}, {name}" };
        }
        return DataPreparation.Create(dataset, options, folder, p.Variants, provenance, progress: progress, scales: scales);
    }

    /// <summary>Trained models and cross-validation results are cached here (git ignores data/).</summary>
    public static string ModelsRoot => Path.Combine(DataRoot, "models");

    /// <summary>The experiment of notebook 04 on a prepared dataset: cross-validation, six models, Table 1.</summary>
    public static Experiment Experiment(DataPreparation prep, ExperimentProfile profile) => new(prep, profile, ModelsRoot);
}

/// <summary>What <see cref="Workbook.Open(string, string, int, string, IProgress{WorkProgress}, string)"/> returns: the
/// resolved profile (settings and seed), the dataset and its preparation (split, tiles, training sets, provenance).</summary>
public sealed record WorkbookSession(ExperimentProfile Profile, CellDataset Dataset, DataPreparation Prep)
{
    public Provenance Provenance => Prep.Provenance;
    public DatasetSplit Split => Prep.Split;

    /// <summary>The experiment of notebooks 04 to 06 (cross-validation, the six models, Table 1), models cached under
    /// <see cref="Workbook.ModelsRoot"/>.</summary>
    public Experiment Experiment() => Workbook.Experiment(Prep, Profile);
}
