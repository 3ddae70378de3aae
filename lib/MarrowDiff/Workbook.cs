using MarrowDiff.Data;
using MarrowDiff.Phantom;
using MarrowDiff.Preparation;
using MarrowDiff.Reports;

namespace MarrowDiff;

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
    public static string RepositoryRoot
    {
        get
        {
            foreach (string start in new[] { Environment.CurrentDirectory, Path.GetDirectoryName(typeof(Workbook).Assembly.Location)! })
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                    if (File.Exists(Path.Combine(dir.FullName, "global.json")) && Directory.Exists(Path.Combine(dir.FullName, "notebooks")))
                        return dir.FullName;
            throw new DirectoryNotFoundException($"no MarrowDiff checkout (global.json + notebooks/) above {Environment.CurrentDirectory}");
        }
    }

    /// <summary>Generated data (phantoms) live here; git ignores it.</summary>
    public static string DataRoot => Path.Combine(RepositoryRoot, "data");

    /// <summary>Figures and tables that are part of the project live here.</summary>
    public static string FiguresRoot => Path.Combine(RepositoryRoot, "figures");

    /// <summary>
    /// The dataset a notebook works on: <c>"phantom"</c> renders (once, then reuses) the synthetic phantom of the
    /// profile's size for <paramref name="seed"/>; anything else is a folder path (relative to the current
    /// directory, which is the notebook's folder). Bad files are skipped and listed in Skipped by default: the
    /// audit shows them; pass <see cref="BadFilePolicy.Stop"/> to fail at the first.
    /// </summary>
    public static CellDataset OpenData(string data, string profile, int seed, BadFilePolicy policy = BadFilePolicy.Skip, IProgress<WorkProgress>? progress = null) =>
        OpenData(data, ExperimentProfile.Parse(profile), seed, policy, progress);

    /// <summary><see cref="OpenData(string, string, int, BadFilePolicy, IProgress{WorkProgress})"/> with a resolved profile
    /// (e.g. one with <c>--set</c> overrides), whose name then stamps everything made from it.</summary>
    public static CellDataset OpenData(string data, ExperimentProfile profile, int seed, BadFilePolicy policy = BadFilePolicy.Skip, IProgress<WorkProgress>? progress = null)
    {
        string root = ResolveData(data, profile, seed, progress);
        return CellDatasetLoader.Load(root, policy);
    }

    /// <summary>The folder behind a <c>data</c> value (rendering the phantom if needed).</summary>
    public static string ResolveData(string data, string profile, int seed, IProgress<WorkProgress>? progress = null) =>
        ResolveData(data, ExperimentProfile.Parse(profile), seed, progress);

    /// <summary>The folder behind a <c>data</c> value for a resolved profile.</summary>
    public static string ResolveData(string data, ExperimentProfile p, int seed, IProgress<WorkProgress>? progress = null)
    {
        if (data.Equals(PhantomData, StringComparison.OrdinalIgnoreCase))
            return MarrowPhantom.Ensure(DataRoot, p.PhantomSize, seed, progress);
        string root = Path.GetFullPath(data);
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"data folder '{data}' not found (resolved to {root}); give a dataset folder or \"{PhantomData}\"");
        return root;
    }

    /// <summary>The data audit of notebook 01.</summary>
    public static DataAudit Audit(CellDataset dataset, string profile, int seed) => Audit(dataset, ExperimentProfile.Parse(profile), seed);

    /// <summary>The data audit for a resolved profile.</summary>
    public static DataAudit Audit(CellDataset dataset, ExperimentProfile profile, int seed) =>
        new(dataset, Provenance.For(profile.Name, dataset.Root, seed));

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

    /// <summary>The data preparation of notebooks 02 and 03: the saved split (made on first use), the cell tiles and
    /// the profile's six training sets. <paramref name="groupBy"/> is "cell" (default) or "subject". Single-cell crops
    /// of public datasets are resampled to the project's pitch first: <paramref name="pitch"/> gives a source's pitch
    /// ("PBC=0.1;Matek=0.08", µm per px); any source not given is estimated (<see cref="SourceScales"/>).</summary>
    public static DataPreparation Prepare(CellDataset dataset, string profile, int seed, string groupBy = "cell", IProgress<WorkProgress>? progress = null, string? pitch = null) =>
        Prepare(dataset, ExperimentProfile.Parse(profile), seed, groupBy, progress, pitch);

    /// <summary>The data preparation for a resolved profile: its training sets, and its name on every stamp.</summary>
    public static DataPreparation Prepare(CellDataset dataset, ExperimentProfile p, int seed, string groupBy = "cell", IProgress<WorkProgress>? progress = null, string? pitch = null)
    {
        var options = new SplitOptions(seed, SplitOptions.ParseGrouping(groupBy));
        var scales = SourceScales.ForCrops(dataset, SourceScales.Parse(pitch));
        return DataPreparation.Create(dataset, options, SplitsFolder(dataset.Root), p.Variants, Provenance.For(p.Name, dataset.Root, seed), progress: progress, scales: scales);
    }

    /// <summary>Trained models and cross-validation results are cached here (git ignores data/).</summary>
    public static string ModelsRoot => Path.Combine(DataRoot, "models");

    /// <summary>The experiment of notebook 04 on a prepared dataset: cross-validation, six models, Table 1.</summary>
    public static Training.Experiment Experiment(DataPreparation prep, string profile) => Experiment(prep, ExperimentProfile.Parse(profile));

    /// <summary>The experiment for a resolved profile.</summary>
    public static Training.Experiment Experiment(DataPreparation prep, ExperimentProfile profile) => new(prep, profile, ModelsRoot);
}
