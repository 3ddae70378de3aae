using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.Json;
using MarrowDiff.Core;

namespace MarrowDiff.Data;

/// <summary>Files whose bytes are identical (one SHA-256). Across classes it is a labelling error; across a later
/// train/test split it would be a leak (the split groups them for that reason).</summary>
public sealed record DuplicateGroup(string Sha256, IReadOnlyList<string> Files, IReadOnlyList<string> Labels);

/// <summary>
/// What a careful reader checks before training on a dataset, as data: images per class and per source, duplicate
/// files by content hash, and every file that could not be used with its reason. The data audit of notebook 01 and
/// `marrow audit` both rest on it; the views (tables, charts) are the reports' business.
/// </summary>
public sealed record DatasetAudit(
    string Root, string Layout, int Images, IReadOnlyDictionary<string, int> PerClass, IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> PerSource,
    IReadOnlyList<DuplicateGroup> Duplicates, IReadOnlyList<BadFile> BadFiles, IReadOnlyList<string> Notes)
{
    /// <summary>True when every file of the dataset was read (none bad).</summary>
    public bool AllReadable => BadFiles.Count == 0;

    /// <summary>Audits a loaded dataset (load it with <see cref="BadFilePolicy.Skip"/> so that bad files are listed,
    /// not thrown). Hashes every image once; a file that vanished or became unreadable since loading is reported too.</summary>
    public static DatasetAudit Of(CellDataset dataset, IProgress<WorkProgress>? progress = null)
    {
        var bad = new List<BadFile>(dataset.Skipped);
        var byHash = new Dictionary<string, List<CellImage>>(StringComparer.Ordinal);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int done = 0;
        foreach (CellImage c in dataset.Cells)
        {
            try
            {
                string hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(c.Path))).ToLowerInvariant();
                (byHash.TryGetValue(hash, out var list) ? list : byHash[hash] = []).Add(c);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                bad.Add(new BadFile(c.Path, $"unreadable while hashing: {e.Message}"));
            }
            if (++done % 200 == 0 || done == dataset.Cells.Count)
                progress?.Report(new WorkProgress("hashing images", done, dataset.Cells.Count, clock.Elapsed));
        }
        var duplicates = byHash.Where(kv => kv.Value.Count > 1).OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new DuplicateGroup(kv.Key, kv.Value.Select(c => Path.GetRelativePath(dataset.Root, c.Path)).ToList(),
                                             kv.Value.Select(c => c.Label.ToString()).Distinct().ToList()))
            .ToList();
        // Classes in the paper's order (C1…C10), then Other labels by code.
        static IReadOnlyDictionary<string, int> Count(IEnumerable<CellImage> cells) =>
            cells.GroupBy(c => c.Label).OrderBy(g => g.Key.Class is { } k ? k.Index() : 100).ThenBy(g => g.Key.OtherCode, StringComparer.Ordinal)
                 .ToDictionary(g => g.Key.ToString(), g => g.Count());
        var perClass = Count(dataset.Cells);
        var perSource = dataset.Cells.GroupBy(c => c.Source).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => Count(g));
        return new DatasetAudit(dataset.Root, dataset.Layout, dataset.Cells.Count, perClass, perSource, duplicates, bad, dataset.Notes);
    }

    /// <summary>The audit as JSON (<c>audit.json</c>).</summary>
    public string ToJson(string? provenance = null)
    {
        var json = new JsonObject
        {
            ["root"] = Root,
            ["layout"] = Layout,
            ["images"] = Images,
            ["all_readable"] = AllReadable,
            ["per_class"] = new JsonObject(PerClass.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["per_source"] = new JsonObject(PerSource.Select(kv => KeyValuePair.Create(kv.Key,
                (JsonNode?)new JsonObject(kv.Value.Select(x => KeyValuePair.Create(x.Key, (JsonNode?)x.Value)))))),
            ["duplicates"] = new JsonArray(Duplicates.Select(d => (JsonNode?)new JsonObject
            {
                ["sha256"] = d.Sha256,
                ["labels"] = new JsonArray(d.Labels.Select(l => (JsonNode?)l).ToArray()),
                ["files"] = new JsonArray(d.Files.Select(f => (JsonNode?)f).ToArray()),
            }).ToArray()),
            ["bad_files"] = new JsonArray(BadFiles.Select(b => (JsonNode?)new JsonObject { ["path"] = b.Path, ["reason"] = b.Reason }).ToArray()),
            ["notes"] = new JsonArray(Notes.Select(n => (JsonNode?)n).ToArray()),
        };
        if (provenance is not null) json["provenance"] = provenance;
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Writes <c>audit.json</c> into <paramref name="folder"/> atomically and returns its path.</summary>
    public string Save(string folder, string? provenance = null)
    {
        string path = Path.Combine(folder, "audit.json");
        AtomicFile.WriteAllText(path, ToJson(provenance));
        return path;
    }

    /// <summary>What a person reads in a terminal.</summary>
    public string Text()
    {
        var t = new System.Text.StringBuilder();
        t.AppendLine($"{Root} ({Layout}): {Images} images read, {BadFiles.Count} bad file(s), {Duplicates.Count} duplicate group(s)");
        t.AppendLine("per class: " + string.Join(", ", PerClass.Select(kv => $"{kv.Key} {kv.Value}")));
        foreach (var (source, counts) in PerSource)
            t.AppendLine($"  {source}: " + string.Join(", ", counts.Select(kv => $"{kv.Key} {kv.Value}")));
        foreach (var d in Duplicates)
            t.AppendLine($"duplicate {d.Sha256[..12]} ({string.Join(", ", d.Labels)}): {string.Join("; ", d.Files)}");
        foreach (var b in BadFiles) t.AppendLine($"bad: {b}");
        foreach (var n in Notes) t.AppendLine($"note: {n}");
        return t.ToString();
    }
}
