using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Preparation;
using MarrowDiff.Reports;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Tests.Evaluation;

public class PairedTable1Tests
{
    internal static readonly CellClass[] Five = [CellClass.Promyelocyte, CellClass.Myelocyte, CellClass.Metamyelocyte, CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil];

    /// <summary>100 cells, 20 a class; the model answers right on the cells whose index passes <paramref name="right"/>
    /// and otherwise names the next class, with a softmax that peaks on its answer. The first half of the cells are
    /// PBC's, the rest Matek's, unless <paramref name="oneSource"/>.</summary>
    internal static CellPredictions Model(string name, Func<int, bool> right, int cells = 100, bool oneSource = false) =>
        new(name, Five, Enumerable.Range(0, cells).Select(i =>
        {
            var truth = Five[i % 5];
            var answer = right(i) ? truth : Five[(i % 5 + 1) % 5];
            var p = Five.Select(k => k == answer ? 0.6f : 0.1f).ToArray();
            return new PredictedCell($"cell{i:000}", oneSource || i < cells / 2 ? "PBC" : "Matek", truth, answer, p);
        }).ToList());

    /// <summary>Each source read on its own: PBC's cells (all right) and Matek's (all answered as the next class) give
    /// 100% and 0%, where the pooled score would say 50%; only the classes a source has cells of are listed.</summary>
    [Fact]
    public void PerSource_ScoresEachSourceOnItsOwnCells_AndListsOnlyItsClasses()
    {
        var model = Model("AG", i => i < 50);
        Assert.Equal(0.5, model.Metrics.Accuracy);
        var sources = model.PerSource();
        Assert.Equal(["Matek", "PBC"], sources.Select(s => s.Source));
        var (matek, pbc) = (sources[0], sources[1]);
        Assert.Equal((50, 1.0, 1.0), (pbc.Cells, pbc.Accuracy, pbc.MacroF1));
        Assert.Equal((50, 0.0, 0.0), (matek.Cells, matek.Accuracy, matek.MacroF1));
        Assert.Equal(Five, pbc.F1.Select(f => f.Class));
        Assert.True(pbc.Low <= pbc.MacroF1 && pbc.MacroF1 <= pbc.High);
        Assert.StartsWith("PBC: 50 cells, accuracy 100.0%, macro F1 100.0% (95% CI 100.0–100.0); F1 C6 100.0, C7 100.0", pbc.ToString());

        // A source with the cells of two classes only lists those two.
        var two = new CellPredictions("m", Five, [
            new PredictedCell("a", "Matek", CellClass.Promyelocyte, CellClass.Promyelocyte, [0.6f, 0.1f, 0.1f, 0.1f, 0.1f]),
            new PredictedCell("b", "Matek", CellClass.SegmentedNeutrophil, CellClass.Promyelocyte, [0.6f, 0.1f, 0.1f, 0.1f, 0.1f]),
            new PredictedCell("c", "PBC", CellClass.Myelocyte, CellClass.Myelocyte, [0.1f, 0.6f, 0.1f, 0.1f, 0.1f])]);
        Assert.Equal([CellClass.Promyelocyte, CellClass.SegmentedNeutrophil], two.PerSource()[0].F1.Select(f => f.Class));
    }

    [Fact]
    public void Predictions_RoundTripThroughTheirCsv()
    {
        string dir = Directory.CreateTempSubdirectory("marrow-pred-").FullName;
        try
        {
            var model = Model("AG", i => i % 3 != 0);
            string file = Path.Combine(dir, "AG.csv");
            model.Save(file);
            Assert.StartsWith("cell,source,true_class,predicted_class,p_promyelocyte,p_myelocyte,", File.ReadAllText(file));
            var back = CellPredictions.Load(file);
            Assert.Equal("AG", back.Model);
            Assert.Equal(model.Outputs, back.Outputs);
            Assert.Equal(model.Cells.Select(c => (c.Cell, c.Source, c.Truth, c.Predicted)), back.Cells.Select(c => (c.Cell, c.Source, c.Truth, c.Predicted)));
            Assert.Equal(model.Metrics.MacroF1, back.Metrics.MacroF1);
            Assert.Equal(model.Cells[4].Probabilities, back.Cells[4].Probabilities);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Theory]
    [InlineData("cell,source,truth,predicted_class,p_promyelocyte,p_myelocyte\n", ":1:")]
    [InlineData("cell,source,true_class,predicted_class,p_promyelocyte,p_myelocyte\na,PBC,promyelocyte,myelocyte,0.9,0.1\n", ":2: predicted myelocyte")]
    [InlineData("cell,source,true_class,predicted_class,p_promyelocyte,p_myelocyte\na,PBC,promyelocyte,promyelocyte,1.5,0.1\n", ":2: probability '1.5'")]
    [InlineData("cell,source,true_class,predicted_class,p_promyelocyte,p_myelocyte\na,PBC,blast,promyelocyte,0.9,0.1\n", ":2: true_class 'blast'")]
    [InlineData("cell,source,true_class,predicted_class,p_promyelocyte,p_myelocyte\na,PBC,promyelocyte,promyelocyte,0.9\n", ":2: 5 fields")]
    [InlineData("cell,source,true_class,predicted_class,p_promyelocyte,p_myelocyte\na,PBC,band_neutrophil,promyelocyte,0.9,0.1\n", "not among the outputs")]
    public void ABadPredictionsFile_IsRefused_NamingTheFileAndLine(string text, string expected)
    {
        string file = Path.Combine(Directory.CreateTempSubdirectory("marrow-pred-").FullName, "bad.csv");
        File.WriteAllText(file, text);
        var e = Assert.Throws<InvalidDataException>(() => CellPredictions.Load(file));
        Assert.Contains(file, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void APairedComparison_OfAModelWithItself_FindsNoDifference()
    {
        var a = Model("OG", i => i % 2 == 0);
        var c = PairedComparison.Of(a, a, seed: 1);
        Assert.Equal(0, c.MacroF1Difference);
        Assert.Equal(1, c.McNemar.PValue);
        Assert.Equal((0.0, 0.0), c.Interval);
        Assert.Equal(1, c.BootstrapP);
    }

    [Fact]
    public void APairedComparison_OfABetterModel_IsPositive_AndExact()
    {
        // The second is right on every cell the first is, and on 10 more: McNemar's exact p = 2 × 0.5^10.
        var first = Model("OG", i => i >= 10);
        var second = Model("AG", _ => true);
        var c = PairedComparison.Of(first, second, seed: 1);
        Assert.Equal(0, c.McNemar.FirstOnlyCorrect);
        Assert.Equal(10, c.McNemar.SecondOnlyCorrect);
        Assert.True(c.McNemar.Exact);
        Assert.Equal(2 * Math.Pow(0.5, 10), c.McNemar.PValue, 12);
        Assert.True(c.MacroF1Difference > 0);
        Assert.True(c.Interval.Low > 0 && c.Interval.High >= c.MacroF1Difference);
        Assert.True(c.BootstrapP < 0.01);
        // Beyond 25 discordant cells it stays exact (the chi-square would be the default).
        var many = PairedComparison.Of(Model("OG", i => i >= 40), second, seed: 1);
        Assert.True(many.McNemar.Exact);
        Assert.Equal(1, 2 * Math.Pow(0.5, 40) / many.McNemar.PValue, 9);
        // The same seed gives the same interval; other cells are refused.
        Assert.Equal(c, PairedComparison.Of(first, second, seed: 1));
        Assert.Contains("same cells", Assert.Throws<ArgumentException>(() => PairedComparison.Of(first, Model("X", _ => true, 90), seed: 1)).Message);
    }

    [Fact]
    public void TheTable_PairsEveryRow_WithOG_AndTheRowAbove_AndNamesItsRowsByRole()
    {
        // Given out of the paper's order: the table puts them in it by their names.
        var rows = new List<Table1Row>
        {
            new("AG", 800, Model("AG", i => i % 4 != 0)),
            new("OG", 100, Model("OG", i => i % 2 == 0)),
            new("OS40", 200, Model("OS40", i => i % 2 == 0)), // as OG: lower than AG
            new("AG+OS80", 3200, Model("AG+OS80", i => i % 6 != 0)),
            new("OS80", 400, Model("OS80", i => i % 3 != 0)),
            new("AG+OS40", 1600, Model("AG+OS40", i => i % 5 != 0)),
        };
        var table = PairedTable1.Build("test task", rows, new Table1Row(Table1Roles.DualStageName, 160, Model("dual", i => i % 4 != 0)), seed: 3);
        Assert.Equal(["OG", "AG", "OS40", "OS80", "AG+OS40", "AG+OS80"], table.Rows.Select(r => r.Variant));
        Assert.Null(table.Rows[0].AgainstOG);
        Assert.Equal(0, table.Rows[2].AgainstOG!.MacroF1Difference);
        Assert.Equal(table.Rows[1].AgainstOG, table.Rows[1].AgainstPrevious);
        Assert.True(table.Rows[2].AgainstPrevious!.MacroF1Difference < 0);
        Assert.Equal(table.Rows[^1].Metrics.MacroF1 + table.DualAgainstGlobal.MacroF1Difference, table.DualStage.Metrics.MacroF1, 12);
        Assert.Equal(["PBC", "Matek"], table.Sources);
        Assert.Equal("OS80", table.Of(Table1Role.OSHigh).Variant);
        Assert.Equal("AG+OS40", table.Of(Table1Role.AGOSLow).Variant);
        Assert.Same(table.DualStage, table.Of(Table1Role.DualStage));
        string md = table.Markdown();
        Assert.DoesNotContain("the paper's ordering", md); // an order the paper never claims: the claims are tested over seeds
        Assert.Contains("Macro F1 % by source", md);
        Assert.Equal(1 + 1 + 7, table.Csv().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // caption, header, 6 rows, dual
    }

    /// <summary>Six rows and the dual stage saved as a seed folder's files, in a shuffled file order.</summary>
    internal static void SaveSeedFolder(string dir, int shift = 0)
    {
        Directory.CreateDirectory(dir);
        var lines = new List<string> { "variant,training_images,training_steps,training_minutes,cpu,predictions" };
        foreach (var (name, images, right) in new (string, int, Func<int, bool>)[]
                 {
                     ("AG+OS80", 3200, i => (i + shift) % 6 != 0), ("OG", 100, i => (i + shift) % 2 == 0), ("AG", 800, i => (i + shift) % 4 != 0),
                     ("OS40", 200, i => (i + shift) % 2 == 0), ("OS80", 400, i => (i + shift) % 3 != 0), ("AG+OS40", 1600, i => (i + shift) % 5 != 0),
                     ("dual-stage", 160, i => (i + shift) % 7 != 0),
                 })
        {
            Model(name, right).Save(Path.Combine(dir, $"{name}.csv"));
            lines.Add($"{name},{images},{images / 4},0.5,\"a CPU, 2 threads\",{name}.csv");
        }
        File.WriteAllText(Path.Combine(dir, RealTable1Study.ModelsFile), string.Join("\n", lines) + "\n");
    }

    [Fact]
    public void TheTable_RebuildsFromItsSavedFolder_WithoutAModel()
    {
        string dir = Directory.CreateTempSubdirectory("marrow-t1-").FullName;
        try
        {
            Assert.Contains("models.csv is missing", Assert.Throws<FileNotFoundException>(() => RealTable1Study.Load(dir, "t", 1)).Message);
            SaveSeedFolder(dir);
            var table = RealTable1Study.Load(dir, "t", 1);
            Assert.Equal(["OG", "AG", "OS40", "OS80", "AG+OS40", "AG+OS80"], table.Rows.Select(r => r.Variant)); // the paper's order, whatever the file's
            Assert.Equal(800, table.Of(Table1Role.AG).TrainingImages);
            Assert.Equal(table.Markdown(), RealTable1Study.Load(dir, "t", 1).Markdown()); // seeded: the same table twice
            var files = table.Save(Path.Combine(dir, "table1-real-t"));
            Assert.All(files, f => Assert.True(new FileInfo(f).Length > 0, f));
            File.WriteAllText(Path.Combine(dir, RealTable1Study.ModelsFile), "variant,training_images,training_steps,training_minutes,cpu,predictions\nOG,100,30,0.5,x,../OG.csv\n");
            Assert.Contains("must be a file name", Assert.Throws<InvalidDataException>(() => RealTable1Study.Load(dir, "t", 1)).Message);
            File.WriteAllText(Path.Combine(dir, RealTable1Study.ModelsFile), "variant,training_images,training_minutes,predictions\nOG,100,0.5,OG.csv\n");
            Assert.Contains("header must be", Assert.Throws<InvalidDataException>(() => RealTable1Study.Load(dir, "t", 1)).Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
