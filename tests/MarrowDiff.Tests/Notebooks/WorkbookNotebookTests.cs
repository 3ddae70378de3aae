using MarrowDiff.Notebooks;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Tests.Notebooks;

/// <summary>
/// Every notebook of the workbook, executed headlessly on the smoke profile through the same runner as the
/// README's main command. Notebook 01 goes through the CLI entry point itself (`marrow notebooks`), so CI covers
/// the main job without executing any notebook twice; it also runs on the real development subset when present.
/// </summary>
public class WorkbookNotebookTests
{
    public static TheoryData<string> AllNotebooks()
    {
        var data = new TheoryData<string>();
        foreach (string nb in Directory.GetFiles(Path.Combine(Workbook.RepositoryRoot, "notebooks"), "*.ipynb").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(nb));
        return data;
    }

    [Trait(Workbook.SharedVariable, "reads")]
    [SkippableTheory]
    [MemberData(nameof(AllNotebooks))]
    public async Task Notebook_RunsHeadlessly_OnTheSmokeProfile(string name)
    {
        // Notebooks 07 and 09 read the real cells, 08 the fields, from Workbook.SharedRoot (../shared, or the folder
        // MARROW_SHARED names: CI runs these tests a second time with it empty, as a newcomer's clone is). Without them
        // each runs on its fallback (which is checked), and the test then says it was skipped and why, rather than
        // counting as passed.
        string? missing = null;
        string notebook = Path.Combine(Workbook.RepositoryRoot, "notebooks", name);
        string outDir = Directory.CreateTempSubdirectory("marrow-notebook-test-").FullName;
        string figures = SaveFiguresInto(outDir);
        string realCells = Workbook.SharedRealCells, fieldsFolder = Path.Combine(Workbook.SharedFields, "txl-pbc");
        bool realPresent = Directory.Exists(realCells), fieldsPresent = Directory.Exists(fieldsFolder);
        var parameters = new Dictionary<string, string> { ["profile"] = "smoke" };
        if (name.StartsWith("07-", StringComparison.Ordinal) || name.StartsWith("09-", StringComparison.Ordinal)) parameters["data"] = realCells;
        if (name.StartsWith("08-", StringComparison.Ordinal)) parameters["fields"] = fieldsFolder;
        try
        {
            if (name.StartsWith("01-", StringComparison.Ordinal))
            {
                int code = await MarrowDiff.Cli.Program.Main(["notebooks", notebook, "--profile", "smoke", "--out", outDir]);
                Assert.Equal(0, code);
            }
            else
            {
                await new NotebookRunner().RunAsync(notebook, Path.Combine(outDir, name), parameters);
            }
            Assert.True(File.Exists(Path.Combine(outDir, name)), "no executed copy was written");
            string executed = File.ReadAllText(Path.Combine(outDir, name));
            // Readable without a kernel: charts with their PNG, no real image (rules in ReadableCopies).
            ReadableCopies.Check(Path.Combine(outDir, name));
            // What it saved went to the test's folder. 09 reads the committed predictions and saves nothing; 07 saves
            // only what it trained on real cells, so without them it has nothing to save (and must save nothing).
            bool saves = !name.StartsWith("09-", StringComparison.Ordinal) && !(name.StartsWith("07-", StringComparison.Ordinal) && !realPresent);
            bool saved = Directory.Exists(figures) && Directory.EnumerateFiles(figures, "*", SearchOption.AllDirectories).Any();
            Assert.True(saves == saved, saves ? $"{name} saved nothing into {figures}" : $"{name} saved files into {figures} with nothing to save");
            if (name.StartsWith("07-", StringComparison.Ordinal))
            {
                // Real images when the development subset is there (CI, these machines); otherwise the notebook must
                // still run and say how to get the data.
                foreach (string shown in realPresent ? new[] { "PBC five-stage neutrophil series", "resampled by", "McNemar", "only from Matek" } : new[] { "No data at", "Mendeley" })
                    Assert.Contains(shown, executed);
                if (!realPresent) missing = realCells;
            }
            if (name.StartsWith("08-", StringComparison.Ordinal))
            {
                foreach (string shown in new[] { "Finding nucleated cells", "true percentages inside", "Differential count of", "Exact 95% intervals", "\"image/png\"",
                                                  fieldsPresent ? "White-cell finding on TXL-PBC val" : "No fields at" })
                    Assert.Contains(shown, executed);
                if (!fieldsPresent) missing = fieldsFolder;
            }
            if (name.StartsWith("09-", StringComparison.Ordinal))
            {
                // The committed predictions, whatever the profile: the table and the paper's claims on both tasks, and the
                // wrong cells' pictures when the data are there.
                foreach (string shown in new[] { "Table 1 on real cells, PBC five-stage neutrophil series", "Table 1 on real cells, all sources", "The paper&#39;s claims on PBC five-stage neutrophil series",
                                                  "H7, the dual stage beats its own global model (AG+OS-high):", "Holm", "McNemar", "\"image/png\"", realPresent ? NotebookOutputs.LeftOut : "No data at" })
                    Assert.Contains(shown, executed);
                if (!realPresent) missing = realCells;
            }
            if (name.StartsWith("05-", StringComparison.Ordinal))
                foreach (string shown in new[] { "McNemar", "dual-stage (AG+OS60 + local C9/C10)", "05-dual-stage-confusion.png", "\"image/png\"" })
                    Assert.Contains(shown, executed);
            if (name.StartsWith("07-", StringComparison.Ordinal))
            {
                // Real images when the development subset is beside the repository (CI, this machine); otherwise the
                // notebook must still run and say how to get the data.
                bool present = Directory.Exists(Workbook.SharedRealCells);
                foreach (string shown in present ? new[] { "PBC five-stage neutrophil series", "resampled by", "McNemar", "only from Matek" } : new[] { "No data at", "Mendeley" })
                    Assert.Contains(shown, executed);
                if (!present) missing = "../shared/real-cells";
            }
            if (name.StartsWith("08-", StringComparison.Ordinal))
            {
                bool fields = Directory.Exists(Path.Combine(Workbook.SharedFields, "txl-pbc"));
                foreach (string shown in new[] { "Finding nucleated cells", "true percentages inside", "Differential count of", "Exact 95% intervals", "\"image/png\"",
                                                  fields ? "White-cell finding on TXL-PBC val" : "No fields at" })
                    Assert.Contains(shown, executed);
                if (!fields) missing = "../shared/fields/txl-pbc";
            }
            if (name.StartsWith("09-", StringComparison.Ordinal))
            {
                // The committed predictions, whatever the profile: the table and the paper's claims on both tasks, and the
                // wrong cells' pictures when the data are beside the repository.
                bool present = Directory.Exists(Workbook.SharedRealCells);
                foreach (string shown in new[] { "Table 1 on real cells, PBC five-stage neutrophil series", "Table 1 on real cells, all sources", "The paper&#39;s claims on PBC five-stage neutrophil series",
                                                  "H7, the dual stage beats its own global model (AG+OS-high):", "Holm", "McNemar", "\"image/png\"", present ? NotebookOutputs.LeftOut : "No data at" })
                    Assert.Contains(shown, executed);
                if (!present) missing = "../shared/real-cells";
            }
            if (name.StartsWith("06-", StringComparison.Ordinal))
                foreach (string shown in new[] { "misclassified cells of AG+OS60", "Location invariance", "Rotation invariance", "ECE", "06-wrong-cells-AG+OS60.png", "\"image/png\"", "static-twin" })
                    Assert.Contains(shown, executed);
        }
        finally { Environment.SetEnvironmentVariable(Workbook.FiguresOutVariable, null); Directory.Delete(outDir, recursive: true); }
        Skip.If(missing is not null, $"{name} ran on its fallback only: {missing} is not there");
    }

    /// <summary>The data notebooks (01–03) also run on the real subset; training on it is notebook 07's job, with a
    /// profile sized for it, so 04 onwards run on the phantom only (CI time stays bounded).</summary>
    public static TheoryData<string> DataNotebooks()
    {
        var data = new TheoryData<string>();
        foreach (string nb in Directory.GetFiles(Path.Combine(Workbook.RepositoryRoot, "notebooks"), "*.ipynb").Order(StringComparer.Ordinal))
            if (Path.GetFileName(nb) is var name && (name.StartsWith("01-") || name.StartsWith("02-") || name.StartsWith("03-")))
                data.Add(name);
        return data;
    }

    [Trait(Workbook.SharedVariable, "reads")]
    [SkippableTheory]
    [MemberData(nameof(DataNotebooks))]
    public async Task Notebook_RunsOnTheRealDevelopmentSubset_WhenPresent(string name)
    {
        string shared = Workbook.SharedRealCells;
        Skip.IfNot(Directory.Exists(shared), $"the real development subset is not at {shared}");
        string outDir = Directory.CreateTempSubdirectory("marrow-notebook-test-").FullName;
        SaveFiguresInto(outDir);
        try
        {
            string copy = Path.Combine(outDir, name);
            await new NotebookRunner().RunAsync(Path.Combine(Workbook.RepositoryRoot, "notebooks", name), copy,
                new Dictionary<string, string> { ["data"] = shared });
            string executed = File.ReadAllText(copy);
            Assert.Contains("Not saved", executed); // real images never become project figures
            // ...nor part of the written copy: the cells that show them say they were left out.
            ReadableCopies.Check(copy);
            Assert.Contains(NotebookOutputs.LeftOut, executed);
            if (name.StartsWith("01-", StringComparison.Ordinal)) Assert.Contains("Other(ERB)", executed);
            if (name.StartsWith("02-", StringComparison.Ordinal))
            {
                Assert.Contains("cells of Matek (250x250) resampled from", executed); // one physical scale, then re-cropped inside the crop
                Assert.Contains("cells of PBC (360x363) resampled from", executed);
                Assert.Contains("C2 Basophilic normoblast is absent from this dataset", executed); // said, not hidden
            }
            if (name.StartsWith("03-", StringComparison.Ordinal)) Assert.Contains("AG+OS600", executed);
        }
        finally { Environment.SetEnvironmentVariable(Workbook.FiguresOutVariable, null); Directory.Delete(outDir, recursive: true); }
    }

    /// <summary>Sends what the notebooks save (<see cref="Workbook.FiguresOut"/>) into the test's own folder, so that a
    /// test run never rewrites the committed figures/. The notebook workers inherit the variable; the tests of one class
    /// run one at a time, so one value holds while a notebook runs.</summary>
    private static string SaveFiguresInto(string outDir)
    {
        string figures = Path.Combine(outDir, "figures");
        Environment.SetEnvironmentVariable(Workbook.FiguresOutVariable, figures);
        return figures;
    }
}
