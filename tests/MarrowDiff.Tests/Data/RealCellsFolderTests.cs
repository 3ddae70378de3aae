using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Tests.Data;

/// <summary>The real-cell folder rebuilt from the public downloads: exactly the listed files, each one's bytes checked,
/// a missing or changed file named and never replaced.</summary>
public sealed class RealCellsFolderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("marrow-realcells-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Copies the first <paramref name="perSource"/> files of each source of the development folder into
    /// download-like folders (PBC_dataset_normal_DIB, BM_cytomorphology_data) and returns their manifest entries.</summary>
    private (IReadOnlyList<ManifestEntry> Entries, Dictionary<string, string> Downloads) Downloads(string shared, int perSource)
    {
        var all = RealCellsFolder.Read(Path.Combine(Workbook.DataRoot, "real-cells-manifest.csv"));
        var picked = all.GroupBy(e => e.Source).SelectMany(g => g.Take(perSource)).ToList();
        var downloads = new Dictionary<string, string>
        {
            ["PBC"] = Path.Combine(_root, "downloads", "PBC_dataset_normal_DIB"), ["Matek"] = Path.Combine(_root, "downloads", "BM_cytomorphology_data"),
        };
        foreach (var e in picked)
        {
            string target = Path.Combine(downloads[e.Source], e.Path[RealCellsFolder.Prefixes[e.Source].Length..]);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(shared, e.Path), target);
        }
        return (picked, downloads);
    }

    [Trait(Workbook.SharedVariable, "reads")]
    [SkippableFact]
    public void AFolderLaidOutAsDownloaded_BuildsTheListedFiles_AndNamesARemovedAndAChangedOne()
    {
        string shared = Workbook.SharedRealCells;
        Skip.IfNot(Directory.Exists(shared), $"the real development subset is not at {shared}");
        var (entries, downloads) = Downloads(shared, perSource: 3);
        string built = Path.Combine(_root, "built");

        var ok = RealCellsFolder.Build(entries, downloads, built);
        Assert.Empty(ok.Problems);
        Assert.Equal(entries.Count, ok.Copied);
        Assert.All(entries, e => Assert.Equal(e.Sha256, RealCellsFolder.Sha256(Path.Combine(built, e.Path))));
        // The built folder reads as the development folder does: the same cells, classes and sources.
        var read = CellDatasetLoader.Load(built, verifyImages: false);
        Assert.Equal(entries.Count, read.Cells.Count);
        Assert.Equal(["Matek", "PBC"], read.Cells.Select(c => c.Source).Distinct().Order());

        var removed = entries[0];
        var changed = entries[^1];
        File.Delete(Path.Combine(downloads[removed.Source], removed.Path[RealCellsFolder.Prefixes[removed.Source].Length..]));
        File.AppendAllText(Path.Combine(downloads[changed.Source], changed.Path[RealCellsFolder.Prefixes[changed.Source].Length..]), "x");
        var refused = RealCellsFolder.Build(entries, downloads, Path.Combine(_root, "second"));
        Assert.Null(refused.Folder);
        Assert.False(Directory.Exists(Path.Combine(_root, "second")));
        Assert.Equal([removed.Path], refused.Missing.Select(p => p.Entry.Path));
        Assert.Equal([changed.Path], refused.Changed.Select(p => p.Entry.Path));
        Assert.StartsWith($"missing: {removed.Path}", refused.Missing.Single().ToString());
        Assert.Contains("bytes differ", refused.Changed.Single().ToString());
        // A missing file stops even an accepting build: nothing is substituted for it.
        Assert.Null(RealCellsFolder.Build(entries, downloads, Path.Combine(_root, "second"), acceptChanged: true).Folder);
    }

    [Fact]
    public void AChangedFile_IsCopiedOnlyWhenAccepted_AndListed()
    {
        var downloads = new Dictionary<string, string> { ["PBC"] = Path.Combine(_root, "pbc-download") };
        var entries = new List<ManifestEntry>();
        foreach (var (name, text) in new[] { ("ig/MY_1.jpg", "a"), ("neutrophil/SNE_2.jpg", "b") })
        {
            string file = Path.Combine(downloads["PBC"], name);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllText(file, text);
            entries.Add(new ManifestEntry("pbc/PBC_dataset_normal_DIB/" + name, "PBC", "peripheral_blood", "MY", "myelocyte", RealCellsFolder.Sha256(file)));
        }
        File.WriteAllText(Path.Combine(downloads["PBC"], "neutrophil/SNE_2.jpg"), "changed");
        string built = Path.Combine(_root, "built");
        Assert.Null(RealCellsFolder.Build(entries, downloads, built).Folder);
        var accepted = RealCellsFolder.Build(entries, downloads, built, acceptChanged: true);
        Assert.Equal(Path.GetFullPath(built), accepted.Folder);
        Assert.Equal("changed", File.ReadAllText(Path.Combine(built, "pbc/PBC_dataset_normal_DIB/neutrophil/SNE_2.jpg")));
        var listed = Csv.Parse(File.ReadAllText(Path.Combine(built, "changed-files.csv")));
        Assert.Equal(["path", "manifest_sha256", "copied_sha256"], listed[0]);
        Assert.Equal("pbc/PBC_dataset_normal_DIB/neutrophil/SNE_2.jpg", listed[1][0]);
        Assert.StartsWith(RealCellsFolder.Header, File.ReadAllText(Path.Combine(built, "manifest.csv")));
    }

    [Fact]
    public void TheCommittedManifest_ListsEveryFileOnce_UnderItsSourcesFolder()
    {
        var entries = RealCellsFolder.Read(Path.Combine(Workbook.DataRoot, "real-cells-manifest.csv"));
        Assert.True(entries.Count >= 5796, $"{entries.Count} files");
        Assert.Equal(entries.Count, entries.Select(e => e.Path).Distinct().Count());
        Assert.Equal(["Matek", "PBC"], entries.Select(e => e.Source).Distinct().Order());
        string bad = Path.Combine(_root, "bad.csv");
        File.WriteAllText(bad, RealCellsFolder.Header + "\nelsewhere/x.jpg,PBC,pb,MY,myelocyte," + new string('0', 64) + "\n");
        Assert.Contains("bad.csv:2", Assert.Throws<InvalidDataException>(() => RealCellsFolder.Read(bad)).Message);
    }
}
