using System.Security.Cryptography;
using MarrowDiff.Core;

namespace MarrowDiff.Data;

/// <summary>One file of the real-cell folder's manifest: where it sits in the folder, what it is, and its bytes' SHA-256.</summary>
public sealed record ManifestEntry(string Path, string Source, string Specimen, string OriginalLabel, string MappedClass, string Sha256);

/// <summary>A file the downloads do not give as the manifest lists it.</summary>
/// <param name="Found">Where it was looked for in the download.</param>
/// <param name="ActualSha256">The bytes' SHA-256, or null when the file is not there.</param>
public sealed record ManifestProblem(ManifestEntry Entry, string Found, string? ActualSha256)
{
    public bool Missing => ActualSha256 is null;

    public override string ToString() => Missing
        ? $"missing: {Entry.Path} (looked for {Found})"
        : $"bytes differ: {Entry.Path} ({Found}: sha256 {ActualSha256}, the manifest's {Entry.Sha256})";
}

/// <summary>What <see cref="RealCellsFolder.Build"/> did, or found in the way.</summary>
public sealed record RealCellsBuild(string? Folder, int Copied, IReadOnlyList<ManifestProblem> Problems)
{
    public IEnumerable<ManifestProblem> Missing => Problems.Where(p => p.Missing);
    public IEnumerable<ManifestProblem> Changed => Problems.Where(p => !p.Missing);
}

/// <summary>
/// The project's real-cell development folder, rebuilt by anyone from the public downloads: the committed manifest
/// (<c>data/real-cells-manifest.csv</c>: every file's path, source, labels and SHA-256, no image) names which files of
/// PBC's <c>PBC_dataset_normal_DIB</c> and Matek's <c>BM_cytomorphology_data</c> it holds, in each dataset's own layout.
/// The build copies exactly those files and checks every one's bytes; a missing file or one whose bytes differ is
/// named, never replaced by another.
/// </summary>
public static class RealCellsFolder
{
    /// <summary>The manifest's columns, as committed and as written into a built folder (the loader reads
    /// <c>path</c> and <c>mapped_class</c>; <c>dataset</c> and <c>specimen</c> say where a cell came from).</summary>
    public const string Header = "path,dataset,specimen,original_label,mapped_class,sha256";

    /// <summary>Each source's folder inside the built folder, as the downloads name it.</summary>
    public static readonly IReadOnlyDictionary<string, string> Prefixes = new Dictionary<string, string>
    {
        ["PBC"] = "pbc/PBC_dataset_normal_DIB/", ["Matek"] = "matek-bm/BM_cytomorphology_data/",
    };

    /// <summary>Reads a manifest in <see cref="Header"/>'s columns; a bad row is refused naming its line.</summary>
    public static IReadOnlyList<ManifestEntry> Read(string manifest)
    {
        var rows = Csv.Parse(File.ReadAllText(manifest), manifest);
        if (rows.Count == 0 || string.Join(",", rows[0]) != Header) throw new InvalidDataException($"{manifest}:1: header must be {Header}");
        var entries = new List<ManifestEntry>();
        for (int i = 1; i < rows.Count; i++)
        {
            var r = rows[i];
            if (r.Length == 1 && r[0].Length == 0) continue;
            if (r.Length != 6) throw new InvalidDataException($"{manifest}:{i + 1}: {r.Length} columns, expected {Header}");
            if (!Prefixes.TryGetValue(r[1], out string? prefix) || !r[0].StartsWith(prefix, StringComparison.Ordinal))
                throw new InvalidDataException($"{manifest}:{i + 1}: {r[0]} of source '{r[1]}' is not under {string.Join(" or ", Prefixes.Select(p => $"{p.Value} ({p.Key})"))}");
            if (r[0].Contains("..", StringComparison.Ordinal) || System.IO.Path.IsPathRooted(r[0]))
                throw new InvalidDataException($"{manifest}:{i + 1}: {r[0]} must be a path inside the folder");
            if (r[5].Length != 64) throw new InvalidDataException($"{manifest}:{i + 1}: '{r[5]}' is not a SHA-256");
            entries.Add(new ManifestEntry(r[0], r[1], r[2], r[3], r[4], r[5]));
        }
        return entries;
    }

    /// <summary>
    /// Copies every file of <paramref name="manifest"/> from the downloads (<paramref name="downloads"/>: each source's
    /// folder as downloaded, by source) into <paramref name="outFolder"/>, in the manifest's layout, with the manifest
    /// beside them. Every file is looked for and hashed first; when one is missing, or its bytes differ and
    /// <paramref name="acceptChanged"/> is false, nothing is written and the problems are returned. With
    /// <paramref name="acceptChanged"/> the changed files are copied as they are and listed in the folder's
    /// <c>changed-files.csv</c>; a missing file always stops the build. The folder appears whole or not at all.
    /// </summary>
    public static RealCellsBuild Build(IReadOnlyList<ManifestEntry> manifest, IReadOnlyDictionary<string, string> downloads, string outFolder,
                                       bool acceptChanged = false, IProgress<WorkProgress>? progress = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var problems = new List<ManifestProblem>();
        var sources = new List<(ManifestEntry Entry, string File)>();
        for (int i = 0; i < manifest.Count; i++)
        {
            var e = manifest[i];
            if (!downloads.TryGetValue(e.Source, out string? root))
                throw new ArgumentException($"the manifest lists {e.Source} files ({e.Path}) and no {e.Source} download was given");
            string file = System.IO.Path.Combine(root, e.Path[Prefixes[e.Source].Length..]);
            string? sha = File.Exists(file) ? Sha256(file) : null;
            if (sha != e.Sha256) problems.Add(new ManifestProblem(e, file, sha));
            sources.Add((e, file));
            progress?.Report(new WorkProgress("checking the downloads", i + 1, manifest.Count, clock.Elapsed));
        }
        if (problems.Any(p => p.Missing) || (problems.Count > 0 && !acceptChanged)) return new RealCellsBuild(null, 0, problems);
        string built = AtomicFile.WriteFolder(outFolder, temp =>
        {
            for (int i = 0; i < sources.Count; i++)
            {
                var (e, file) = sources[i];
                string target = System.IO.Path.Combine(temp, e.Path);
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
                File.Copy(file, target);
                progress?.Report(new WorkProgress("copying", i + 1, sources.Count, clock.Elapsed));
            }
            File.WriteAllText(System.IO.Path.Combine(temp, "manifest.csv"),
                string.Join("\n", manifest.Select(e => Csv.Line(e.Path, e.Source, e.Specimen, e.OriginalLabel, e.MappedClass, e.Sha256)).Prepend(Header)) + "\n");
            if (problems.Count > 0)
                File.WriteAllText(System.IO.Path.Combine(temp, "changed-files.csv"),
                    string.Join("\n", problems.Select(p => Csv.Line(p.Entry.Path, p.Entry.Sha256, p.ActualSha256)).Prepend("path,manifest_sha256,copied_sha256")) + "\n");
        });
        return new RealCellsBuild(built, sources.Count, problems);
    }

    public static string Sha256(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }
}
