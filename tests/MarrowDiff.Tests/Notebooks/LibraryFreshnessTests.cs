using System.Text.Json.Nodes;
using MarrowDiff.Notebooks;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Tests.Notebooks;

/// <summary>The first code cell of every notebook loads the one shared check (notebooks/setup.csx) of the library it is
/// about to load: built, and not older than its sources. Run here on a copy of the cell and the file in a folder laid
/// out like the repository, with a dll that is missing, stale and current, so the check is tested without touching the
/// real library.</summary>
public sealed class LibraryFreshnessTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("marrow-freshness-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string CheckCell(string notebook)
    {
        var cells = JsonNode.Parse(File.ReadAllText(notebook))!["cells"]!.AsArray();
        var first = cells.First(c => (string?)c!["cell_type"] == "code")!;
        var source = first["source"]!.AsArray().Select(s => (string)s!);
        return string.Concat(source);
    }

    private async Task<Exception?> Run(string cell)
    {
        string nb = Path.Combine(_root, "notebooks", "check.ipynb");
        Directory.CreateDirectory(Path.GetDirectoryName(nb)!);
        var doc = new JsonObject
        {
            ["cells"] = new JsonArray(new JsonObject { ["cell_type"] = "code", ["metadata"] = new JsonObject(), ["outputs"] = new JsonArray(), ["source"] = cell }),
            ["metadata"] = new JsonObject(), ["nbformat"] = 4, ["nbformat_minor"] = 4,
        };
        File.WriteAllText(nb, doc.ToJsonString());
        File.Copy(Path.Combine(Workbook.RepositoryRoot, "notebooks", "setup.csx"), Path.Combine(_root, "notebooks", "setup.csx"), overwrite: true);
        try { await new NotebookRunner().RunAsync(nb, Path.Combine(_root, "out", "check.ipynb")); return null; }
        catch (NotebookFailedException e) { return e; }
    }

    [Fact]
    public async Task EveryNotebook_StartsWithTheCheck_WhichNamesAMissingOrStaleLibrary_AndPassesACurrentOne()
    {
        var notebooks = Directory.GetFiles(Path.Combine(Workbook.RepositoryRoot, "notebooks"), "*.ipynb");
        Assert.NotEmpty(notebooks);
        string cell = CheckCell(notebooks[0]);
        Assert.Contains("#load \"setup.csx\"", cell);
        Assert.Contains("is the library built", File.ReadAllText(Path.Combine(Workbook.RepositoryRoot, "notebooks", "setup.csx")));
        Assert.All(notebooks, nb => Assert.Equal(cell, CheckCell(nb)));

        string source = Path.Combine(_root, "lib", "MarrowDiff", "Model", "Net.cs");
        string dll = Path.Combine(_root, "lib", "MarrowDiff", "bin", "Release", "net10.0", "MarrowDiff.dll");
        Directory.CreateDirectory(Path.GetDirectoryName(source)!);
        File.WriteAllText(source, "// a source");

        var missing = await Run(cell);
        Assert.Contains("is not built: run `dotnet build -c Release lib/MarrowDiff`", Assert.IsType<NotebookFailedException>(missing).Error);

        Directory.CreateDirectory(Path.GetDirectoryName(dll)!);
        File.WriteAllText(dll, "a dll");
        File.SetLastWriteTimeUtc(dll, DateTime.UtcNow.AddHours(-1));
        File.SetLastWriteTimeUtc(source, DateTime.UtcNow);
        var stale = Assert.IsType<NotebookFailedException>(await Run(cell));
        Assert.Contains("is older than", stale.Error);
        Assert.Contains("Net.cs", stale.Error);
        Assert.Contains("restart the kernel", stale.Error);

        File.SetLastWriteTimeUtc(dll, DateTime.UtcNow.AddMinutes(1));
        Assert.Null(await Run(cell));
    }
}
