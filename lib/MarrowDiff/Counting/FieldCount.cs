using System.Diagnostics;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Detection;

namespace MarrowDiff.Counting;

/// <summary>Where the time of a count went, per field (the 1-second-per-field budget is a benchmark, not a test).</summary>
public sealed record CountTiming(int Fields, TimeSpan Reading, TimeSpan Finding, TimeSpan Classifying)
{
    public double SecondsPerField => Fields == 0 ? 0 : (Reading + Finding + Classifying).TotalSeconds / Fields;
}

/// <summary>
/// <c>marrow count</c> and notebook 08 in one call: fields (images, or folders searched recursively) read through the
/// project's reader (a bad field is named and skipped, never silently), scaled (the given pitch, or from red cells),
/// searched for nucleated cells, and counted (classified when a classifier is given).
/// </summary>
public static class FieldCount
{
    /// <summary>The image files behind <paramref name="paths"/>, with the name each is reported under (a file as given;
    /// a file found in a folder by its path relative to that folder), in a stable order.</summary>
    public static IReadOnlyList<(string Path, string Name)> Files(IEnumerable<string> paths)
    {
        var files = new List<(string, string)>();
        foreach (string given in paths)
        {
            if (Directory.Exists(given))
            {
                string root = Path.GetFullPath(given);
                var inside = Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                    .Where(f => CellImageReader.Extensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal).ToList();
                if (inside.Count == 0) throw new FileNotFoundException($"{given}: a folder with no image file (PNG, JPEG, BMP, TIFF) in it", given);
                files.AddRange(inside.Select(f => (f, Path.GetRelativePath(root, f))));
            }
            else if (File.Exists(given) || new FileInfo(given).LinkTarget is not null) files.Add((Path.GetFullPath(given), Path.GetFileName(given)));
            else throw new FileNotFoundException($"{given}: no such field image or folder", given);
        }
        return files;
    }

    /// <summary>The folder whose name (or synthetic-data card) describes the fields for provenance: the nearest folder
    /// at or above the first path that carries a synthetic card (a phantom's fields/ sit one below it), else the
    /// first path's own folder.</summary>
    public static string DataRoot(IReadOnlyList<string> paths)
    {
        string start = Directory.Exists(paths[0]) ? Path.GetFullPath(paths[0]) : Path.GetDirectoryName(Path.GetFullPath(paths[0]))!;
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, Provenance.SyntheticDataCard))) return dir.FullName;
        return start;
    }

    /// <summary>Finds (and with <paramref name="classifier"/> classifies) the cells of every field.</summary>
    /// <param name="pitch">µm per pixel of every field; null: estimated from red cells (<see cref="FieldDetection.EstimateScales"/>).</param>
    public static (DifferentialCount Count, CountTiming Timing) Run(IEnumerable<string> paths, double? pitch, PatchClassifier? classifier, int target = 500,
                                                                   double reviewBelow = 0.7, IProgress<WorkProgress>? progress = null, CellImageReader? reader = null)
    {
        reader ??= new CellImageReader();
        var files = Files(paths);
        var skipped = new List<(string Field, string Reason)>();
        var reading = Stopwatch.StartNew();
        var clock = Stopwatch.StartNew();

        // First pass: which fields read, and (for an estimated pitch) their red cells.
        var readable = new List<(string Path, string Name, int Width, int Height, IReadOnlyList<double> RedCells)>();
        for (int i = 0; i < files.Count; i++)
        {
            var (path, name) = files[i];
            try
            {
                var image = reader.Read(path);
                readable.Add((path, name, image.Width, image.Height, pitch is null ? FieldRedCells.Diameters(image) : []));
            }
            catch (CellImageException e) { skipped.Add((name, e.Reason)); }
            progress?.Report(new WorkProgress("reading fields", i + 1, files.Count, clock.Elapsed));
        }
        reading.Stop();
        var scales = pitch is { } given
            ? readable.ToDictionary(f => f.Name, _ => FieldDetection.Given(given), StringComparer.Ordinal)
            : FieldDetection.EstimateScales([.. readable.Select(f => (f.Name, f.Width, f.Height, f.RedCells))]);

        // Second pass: find the cells (the image is read again rather than held, so memory stays one field).
        var finding = Stopwatch.StartNew();
        var fields = new List<DetectedField>();
        clock.Restart();
        for (int i = 0; i < readable.Count; i++)
        {
            fields.Add(FieldDetection.Detect(reader.Read(readable[i].Path), readable[i].Name, scales[readable[i].Name]));
            progress?.Report(new WorkProgress("finding cells", i + 1, readable.Count, clock.Elapsed));
        }
        finding.Stop();
        var classifying = Stopwatch.StartNew();
        var count = DifferentialCounter.Count(fields, classifier, target, reviewBelow, skipped, progress);
        classifying.Stop();
        return (count, new CountTiming(fields.Count, reading.Elapsed, finding.Elapsed, classifying.Elapsed));
    }
}
