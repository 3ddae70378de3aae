using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Preparation;

namespace MarrowDiff.Tests.Data;

/// <summary>The cells outside the ten stages as outcomes of their own: the paper's ten stay the default everywhere (a
/// dataset's Other labels are not trained on unless asked), and asking for them moves no stage cell in the split.</summary>
public class NonStageOutcomesTests
{
    [Fact]
    public void TheTenStagesStayTheDefault_AndTheOutcomesFollowThemInIndexOrder()
    {
        Assert.Equal(10, CellTaxonomy.All.Count);
        Assert.All(CellTaxonomy.All, k => Assert.True(k.IsStage()));
        Assert.Equal([CellClass.Lymphocyte, CellClass.Monocyte, CellClass.Eosinophil, CellClass.Basophil, CellClass.Erythroblast], CellTaxonomy.NonStage);
        Assert.Equal(Enumerable.Range(0, 15), CellTaxonomy.Outcomes.Select(k => k.Index()));
        Assert.All(CellTaxonomy.Outcomes, k => Assert.Equal(k, CellTaxonomy.FromIndex(k.Index())));
        // Codes and file names read back (a predictions file names its columns by them).
        Assert.All(CellTaxonomy.Outcomes, k => Assert.Equal(k, CellTaxonomy.ParseCode(k.Code())));
        Assert.All(CellTaxonomy.Outcomes, k => Assert.Equal(k, CellTaxonomy.ParseCode(k.SnakeName())));
        Assert.Equal("erythroblast_unstaged", CellClass.Erythroblast.SnakeName());
        Assert.Equal(15, CellTaxonomy.Outcomes.Select(k => k.Code()).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        // A cell outside the stages has no maturation stage and belongs to neither series.
        Assert.Equal(Series.NonStage, CellClass.Monocyte.Series());
        Assert.Throws<ArgumentOutOfRangeException>(() => CellClass.Lymphocyte.Stage());
    }

    [Fact]
    public void MeSides_FollowIcsh_GranulocytesMyeloid_EveryErythroidPrecursorErythroid_LymphocytesAndMonocytesNeither()
    {
        Assert.All(CellTaxonomy.All, k => Assert.Equal(k.Series(), k.RatioSide()));
        Assert.Equal(Series.Myeloid, CellClass.Eosinophil.RatioSide());
        Assert.Equal(Series.Myeloid, CellClass.Basophil.RatioSide());
        Assert.Equal(Series.Erythroid, CellClass.Erythroblast.RatioSide());
        Assert.Null(CellClass.Lymphocyte.RatioSide());
        Assert.Null(CellClass.Monocyte.RatioSide());
    }

    [Theory]
    [InlineData("other:LYT", CellClass.Lymphocyte)]
    [InlineData("LY", CellClass.Lymphocyte)]
    [InlineData("MON", CellClass.Monocyte)]
    [InlineData("MO", CellClass.Monocyte)]
    [InlineData("EOS", CellClass.Eosinophil)]
    [InlineData("EO", CellClass.Eosinophil)]
    [InlineData("other:BAS", CellClass.Basophil)]
    [InlineData("BA", CellClass.Basophil)]
    [InlineData("ERB", CellClass.Erythroblast)]
    [InlineData("EBO", CellClass.Erythroblast)]
    [InlineData("lymphocyte", CellClass.Lymphocyte)]
    [InlineData("Eosinophil", CellClass.Eosinophil)]
    public void AnOtherCodeOfACellOutsideTheStages_NamesItsOutcome_ButStaysOtherWhenRead(string text, CellClass expected)
    {
        var label = CellLabel.Parse(text);
        Assert.True(label.IsOther); // read as before: existing tasks, splits and keys do not change
        Assert.Equal(expected, label.NonStageClass);
    }

    [Theory]
    [InlineData("NIF")]
    [InlineData("PLM")]
    [InlineData("KSC")]
    [InlineData("ART")]
    public void ACodeOfNoSuchCell_HasNoOutcome(string code) => Assert.Null(CellLabel.Parse(code).NonStageClass);

    [Fact]
    public void RelabellingADataset_GivesEachCellOutsideTheStagesItsOutcome_AndKeepsTheRest()
    {
        var dataset = new CellDataset("/x", "test",
            [new("/x/a.png", CellClass.Myeloblast, "a", "t"), new("/x/b.png", CellLabel.Other("LYT"), "b", "t"), new("/x/c.png", CellLabel.Other("NIF"), "c", "t")], [], [], []);
        var relabelled = dataset.WithNonStageOutcomes();
        Assert.Equal([CellLabel.Of(CellClass.Myeloblast), CellLabel.Of(CellClass.Lymphocyte), CellLabel.Other("NIF")], relabelled.Cells.Select(c => c.Label));
        Assert.Equal(["a", "b"], relabelled.PaperCells.Select(c => c.CellId));
        Assert.Contains(relabelled.Notes, n => n.StartsWith("1 image(s) of cells outside the ten stages", StringComparison.Ordinal));
    }

    /// <summary>The stages' split is the one every earlier model was made on: asking for the cells outside the stages
    /// writes their split to a file of its own and moves no stage cell; each of their cells is on one side.</summary>
    [Fact]
    public void SplittingTheCellsOutsideTheStages_LeavesTheStagesSplitByteEqual()
    {
        string dir = Directory.CreateTempSubdirectory("marrow-nonstage-").FullName;
        try
        {
            var cells = new List<CellImage>();
            int n = 0;
            CellImage Image(CellLabel label, string id)
            {
                string path = Path.Combine(dir, $"{n++}.bin");
                File.WriteAllBytes(path, BitConverter.GetBytes(n)); // distinct bytes: no merging of identical files
                return new CellImage(path, label, id, "t");
            }
            foreach (var k in new[] { CellClass.Myeloblast, CellClass.Promyelocyte, CellClass.SegmentedNeutrophil })
                for (int i = 0; i < 14; i++) cells.Add(Image(k, $"{k.Code()}-{i}"));
            foreach (var code in new[] { "LYT", "MON", "NIF" })
                for (int i = 0; i < 13; i++)
                {
                    cells.Add(Image(CellLabel.Other(code), $"{code}-{i}"));
                    cells.Add(Image(CellLabel.Other(code), $"{code}-{i}")); // a second crop of the same cell
                }
            var dataset = new CellDataset(dir, "test", cells, [], [], []);
            var options = new SplitOptions(5);
            string stagesDir = Path.Combine(dir, "stages"), bothDir = Path.Combine(dir, "both");
            Directory.CreateDirectory(stagesDir);
            Directory.CreateDirectory(bothDir);

            var stages = DatasetSplit.Ensure(dataset, options, stagesDir);
            var both = DatasetSplit.Ensure(dataset.WithNonStageOutcomes(), options, bothDir);

            string stageFile = options.FileStem + ".csv", outsideFile = options.FileStem + DatasetSplit.NonStageFileSuffix + ".csv";
            Assert.Equal(File.ReadAllBytes(Path.Combine(stagesDir, stageFile)), File.ReadAllBytes(Path.Combine(bothDir, stageFile)));
            Assert.False(File.Exists(Path.Combine(stagesDir, outsideFile)));
            Assert.True(File.Exists(Path.Combine(bothDir, outsideFile)));
            Assert.All(stages.Cells, c => Assert.Equal(stages.PartOf(c), both.PartOf(c)));
            // 42 stage cells and 26 lymphocyte and monocyte cells (52 images); NIF names no outcome and stays out.
            Assert.Equal(42 + 52, both.Cells.Count);
            Assert.DoesNotContain(both.Cells, c => c.CellId.StartsWith("NIF", StringComparison.Ordinal));
            Assert.All(both.Cells.GroupBy(c => c.CellId), g => Assert.Single(g.Select(both.PartOf).Distinct()));
            Assert.Contains(both.Test, c => c.Label.Class == CellClass.Lymphocyte);
            Assert.Contains(both.Test, c => c.Label.Class == CellClass.Monocyte);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>The floors' two numbers, by hand: of four cells outside the stages one is called a stage (75% kept out);
    /// the stages' macro F1 counts a stage cell called a lymphocyte against its stage and a lymphocyte called C9
    /// against C9.</summary>
    [Fact]
    public void OutsideStageScores_CountTheCellsCalledAStage_AndTheStagesF1OverTheWholeMatrix()
    {
        IReadOnlyList<CellClass> outputs = [CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil, CellClass.Lymphocyte, CellClass.Monocyte];
        PredictedCell Cell(string id, CellClass truth, CellClass answer) =>
            new(id, "t", truth, answer, [.. outputs.Select(k => k == answer ? 0.7f : 0.1f)]);
        var p = new CellPredictions("m", outputs,
        [
            Cell("a", CellClass.BandNeutrophil, CellClass.BandNeutrophil), Cell("b", CellClass.BandNeutrophil, CellClass.Lymphocyte),
            Cell("c", CellClass.SegmentedNeutrophil, CellClass.SegmentedNeutrophil), Cell("d", CellClass.SegmentedNeutrophil, CellClass.SegmentedNeutrophil),
            Cell("e", CellClass.Lymphocyte, CellClass.Lymphocyte), Cell("f", CellClass.Lymphocyte, CellClass.BandNeutrophil),
            Cell("g", CellClass.Monocyte, CellClass.Monocyte), Cell("h", CellClass.Monocyte, CellClass.Lymphocyte),
        ]);
        var s = OutsideStageScores.Of(p)!;
        Assert.Equal((4, 1, 0.75), (s.Cells, s.CalledAStage, s.NotCalledAStage));
        // C9: 1 right of 2, answered twice (a, f): precision 1/2, recall 1/2, F1 0.5. C10: both right, answered only for them: F1 1.
        Assert.Equal(0.75, s.StagesMacroF1, 12);
        Assert.Equal([(CellClass.Lymphocyte, 2, 1, 1), (CellClass.Monocyte, 2, 1, 0)], s.Types.Select(t => (t.Class, t.Cells, t.Right, t.CalledAStage)));
        Assert.Null(OutsideStageScores.Of(new CellPredictions("ten", CellTaxonomy.All, [])));
    }
}
