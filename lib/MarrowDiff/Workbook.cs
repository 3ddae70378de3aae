using MarrowDiff.Data;
using MarrowDiff.Phantom;
using MarrowDiff.Preparation;
using MarrowDiff.Reports;

namespace MarrowDiff;

/// <summary>A named set of settings. <c>smoke</c> is sized for CI and a first look on a 2-core CPU; <c>paper</c>
/// is the paper's setting (a GPU job once training arrives). Later stages add their settings here, so that one
/// validated record, saved beside every output, says how it was made.</summary>
public sealed record ExperimentProfile(string Name, PhantomSize PhantomSize, string Description)
{
    /// <summary>Oversampling targets (images per class) of the OS and AG+OS training sets: the paper's 300 and 600.
    /// Building a set is lazy and cheap at any N; training on it is what a profile has to size.</summary>
    public (int Low, int High) OversampleTo { get; init; } = (300, 600);

    /// <summary>The six training sets of Table 1 for this profile.</summary>
    public IReadOnlyList<Preparation.TrainingVariant> Variants => Preparation.TrainingVariant.Six(OversampleTo.Low, OversampleTo.High);

    public static ExperimentProfile Smoke { get; } = new("smoke", PhantomSize.Smoke,
        "CI and a first look: small phantom (16 fields, ~235 cells). Not comparable to the paper.");

    public static ExperimentProfile Paper { get; } = new("paper", PhantomSize.Paper,
        "The paper's settings: phantom of 200 fields and 2,174 cells.");

    public static IReadOnlyList<ExperimentProfile> All { get; } = [Smoke, Paper];

    public static ExperimentProfile Parse(string name) =>
        All.FirstOrDefault(p => p.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown profile '{name}': use {string.Join(" or ", All.Select(p => p.Name))}");
}

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
    public static CellDataset OpenData(string data, string profile, int seed, BadFilePolicy policy = BadFilePolicy.Skip, IProgress<WorkProgress>? progress = null)
    {
        string root = ResolveData(data, profile, seed, progress);
        return CellDatasetLoader.Load(root, policy);
    }

    /// <summary>The folder behind a <c>data</c> value (rendering the phantom if needed).</summary>
    public static string ResolveData(string data, string profile, int seed, IProgress<WorkProgress>? progress = null)
    {
        ExperimentProfile p = ExperimentProfile.Parse(profile);
        if (data.Equals(PhantomData, StringComparison.OrdinalIgnoreCase))
            return MarrowPhantom.Ensure(DataRoot, p.PhantomSize, seed, progress);
        string root = Path.GetFullPath(data);
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"data folder '{data}' not found (resolved to {root}); give a dataset folder or \"{PhantomData}\"");
        return root;
    }

    /// <summary>The data audit of notebook 01.</summary>
    public static DataAudit Audit(CellDataset dataset, string profile, int seed) =>
        new(dataset, Provenance.For(profile, dataset.Root, seed));

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
    /// the profile's six training sets. <paramref name="groupBy"/> is "cell" (default) or "subject".</summary>
    public static DataPreparation Prepare(CellDataset dataset, string profile, int seed, string groupBy = "cell", IProgress<WorkProgress>? progress = null)
    {
        ExperimentProfile p = ExperimentProfile.Parse(profile);
        var options = new SplitOptions(seed, SplitOptions.ParseGrouping(groupBy));
        return DataPreparation.Create(dataset, options, SplitsFolder(dataset.Root), p.Variants, Provenance.For(profile, dataset.Root, seed), progress: progress);
    }
}
