using MarrowDiff.Core;
using MarrowDiff.Counting;
using MarrowDiff.Data;
using MarrowDiff.Detection;
using MarrowDiff.Imaging;
using MarrowDiff.Reports;

namespace MarrowDiff.Tests.Counting;

public class DifferentialCountTests
{
    [Fact]
    public void ClassShare_CarriesTheExactInterval()
    {
        var share = ClassShare.For("C5 Myeloblast", 5, 100);
        Assert.Equal(0.05, share.Share);
        Assert.Equal(0.0164, share.Low, 4);   // Clopper-Pearson 5/100: 1.64-11.28%
        Assert.Equal(0.1128, share.High, 4);
    }

    [Fact]
    public void MyeloidToErythroid_BoundsFollowTheMyeloidShare()
    {
        var r = DifferentialCounter.Ratio(150, 50)!;
        Assert.Equal(3.0, r.Ratio);
        Assert.InRange(r.Low, 2.0, 3.0);
        Assert.InRange(r.High, 3.0, 4.5);
        Assert.True(double.IsPositiveInfinity(DifferentialCounter.Ratio(10, 0)!.High));
        Assert.Null(DifferentialCounter.Ratio(0, 0));
    }

    [Fact]
    public void CellsNeeded_ForPlusMinus2Point5_AtAShare()
    {
        // A share of 50% needs about 1,600 cells for ±2.5 points (1.96·√(0.25/n) = 0.025 gives 1,537 by the normal
        // approximation; the exact interval is a little wider); 5% needs far fewer.
        int half = DifferentialCounter.CellsFor(0.5, 0.025);
        Assert.InRange(half, 1537, 1700);
        int five = DifferentialCounter.CellsFor(0.05, 0.025);
        Assert.InRange(five, 250, 400);
        var (l, h) = MarrowDiff.Evaluation.Intervals.ClopperPearson((int)Math.Round(0.5 * half), half);
        Assert.True((h - l) / 2 <= 0.025);
    }

    [Fact]
    public void BadSettings_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DifferentialCounter.Count([], null, target: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => DifferentialCounter.Count([], null, reviewBelow: 1.5));
    }

    /// <summary>The count with a classifier, by numbers: each cell gets the probability row of its own patch (the
    /// stand-in classifier answers by the patch's centre colour, so a row given to the wrong cell shows), edge cells get
    /// none, the shares and M:E follow from the classes, and the review queue lists the least sure first.</summary>
    [Fact]
    public void WithAClassifier_EachCellGetsItsOwnPatchsRow_AndTheReviewQueueIsLeastSureFirst()
    {
        static DetectedField Field(string name, params (int X, int Y, byte Mark, bool Edge)[] cells)
        {
            var image = new RgbImage(400, 200);
            foreach (var c in cells)
                for (int y = c.Y - 2; y <= c.Y + 2; y++) for (int x = c.X - 2; x <= c.X + 2; x++) image[x, y] = (c.Mark, 0, 0);
            return new DetectedField(name, 400, 200, new FieldScale(CellPatch.PitchUm, "given"), image,
                [.. cells.Select(c => new FieldCell(c.X, c.Y, 60, c.Edge, c.X, c.Y, 50))]);
        }
        // Mark → (class, its probability, runner-up, its probability); the rest of the row is spread evenly.
        var answers = new Dictionary<byte, (CellClass Top, float P, CellClass Second, float Q)>
        {
            [10] = (CellClass.Myeloblast, 0.9f, CellClass.Promyelocyte, 0.05f),
            [20] = (CellClass.SegmentedNeutrophil, 0.6f, CellClass.BandNeutrophil, 0.3f),
            [30] = (CellClass.Pronormoblast, 0.5f, CellClass.BasophilicNormoblast, 0.45f),
        };
        int calls = 0;
        float[,] Classify(IReadOnlyList<RgbImage> patches)
        {
            calls++;
            var p = new float[patches.Count, CellTaxonomy.All.Count];
            for (int i = 0; i < patches.Count; i++)
            {
                var (top, pt, second, ps) = answers[patches[i][CellPatch.Size / 2, CellPatch.Size / 2].R];
                float rest = (1 - pt - ps) / (CellTaxonomy.All.Count - 2);
                for (int c = 0; c < CellTaxonomy.All.Count; c++) p[i, c] = rest;
                p[i, (int)top - 1] = pt;
                p[i, (int)second - 1] = ps;
            }
            return p;
        }
        var fields = new[]
        {
            Field("a.png", (100, 100, 30, false), (200, 100, 99, true), (300, 100, 10, false)),
            Field("b.png", (150, 100, 20, false), (250, 100, 30, false)),
        };

        var count = DifferentialCounter.Count(fields, ("stand-in", CellTaxonomy.All, Classify), target: 500, reviewBelow: 0.7, skipped: null, progress: null);

        Assert.Equal(2, calls); // one batch a field, edge cells left out of it
        Assert.Equal([CellClass.Pronormoblast, null, CellClass.Myeloblast, CellClass.SegmentedNeutrophil, CellClass.Pronormoblast],
                     count.Cells.Select(c => c.Class));
        var edge = count.Cells[1];
        Assert.True(edge.Cell.Edge && edge.Probabilities is null && !edge.Review);
        var first = count.Cells[0];
        Assert.Equal((0.5f, CellClass.BasophilicNormoblast, 0.45f, true), (first.Probability, first.Second, first.SecondProbability, first.Review));
        Assert.Equal(CellTaxonomy.All.Count, first.Probabilities!.Length);
        Assert.False(count.Cells[2].Review); // 0.9 ≥ 0.7

        // Four counted cells: C1 twice, C5 and C10 once; myeloid 2 : erythroid 2; blasts 1 of 4.
        Assert.Equal([2, 0, 0, 0, 1, 0, 0, 0, 0, 1], count.Classes.Select(c => c.Count));
        Assert.All(count.Classes, c => Assert.Equal(4, c.Total));
        Assert.Equal((2, 2, 1.0), (count.MyeloidToErythroid!.Myeloid, count.MyeloidToErythroid.Erythroid, count.MyeloidToErythroid.Ratio));
        Assert.Equal(0.25, count.Blasts!.Share);

        // Least sure first; among equals, by field then position.
        Assert.Equal([("a.png", 100.0, 0.5f), ("b.png", 250.0, 0.5f), ("b.png", 150.0, 0.6f)],
                     count.ReviewQueue.Select(c => (c.Field, c.Cell.X, c.Probability)));
    }

    /// <summary>A model that also names cells outside the ten stages: those cells get rows of their own (shares of every
    /// classified cell), stay out of the stages' percentages, and count in M:E by ICSH's sides (an eosinophil myeloid,
    /// an unstaged erythroblast erythroid, a lymphocyte on neither); the report says so.</summary>
    [Fact]
    public void CellsOutsideTheStages_AreRowsOfTheirOwn_OutOfTheStagePercentages_AndCountInMeByTheirSide()
    {
        IReadOnlyList<CellClass> outputs = [CellClass.Myeloblast, CellClass.SegmentedNeutrophil, CellClass.Pronormoblast,
                                            CellClass.Lymphocyte, CellClass.Eosinophil, CellClass.Erythroblast];
        // Mark → the output called (probability 0.9, the rest spread evenly).
        var called = new Dictionary<byte, int> { [10] = 0, [20] = 1, [30] = 2, [40] = 3, [50] = 4, [60] = 5 };
        float[,] Classify(IReadOnlyList<RgbImage> patches)
        {
            var p = new float[patches.Count, outputs.Count];
            for (int i = 0; i < patches.Count; i++)
            {
                for (int c = 0; c < outputs.Count; c++) p[i, c] = 0.1f / (outputs.Count - 1);
                p[i, called[patches[i][CellPatch.Size / 2, CellPatch.Size / 2].R]] = 0.9f;
            }
            return p;
        }
        var image = new RgbImage(800, 200);
        byte[] marks = [10, 20, 20, 30, 40, 40, 40, 50, 60];
        var cells = marks.Select((m, i) => (X: 60 + i * 80, Mark: m)).ToList();
        foreach (var c in cells)
            for (int y = 98; y <= 102; y++) for (int x = c.X - 2; x <= c.X + 2; x++) image[x, y] = (c.Mark, 0, 0);
        var field = new DetectedField("f.png", 800, 200, new FieldScale(CellPatch.PitchUm, "given"), image,
            [.. cells.Select(c => new FieldCell(c.X, 100, 60, false, c.X, 100, 50))]);

        var count = DifferentialCounter.Count([field], ("stand-in", outputs, Classify), target: 500, reviewBelow: 0.7, skipped: null, progress: null);

        // Four cells called a stage (C5, C10 twice, C1): the ten stages' shares are of those four.
        Assert.Equal(4, count.StageCells);
        Assert.All(count.Classes, c => Assert.Equal(4, c.Total));
        Assert.Equal(0.5, count.Classes[CellClass.SegmentedNeutrophil.Index()].Share);
        Assert.Equal(1.0, count.Classes.Sum(c => c.Share), 9);
        // Three lymphocytes, one eosinophil, one erythroblast: rows of their own, shares of all nine.
        Assert.Equal([("Lym", 3, 9), ("Eos", 1, 9), ("EB", 1, 9)], count.NonStage.Select(c => (c.Name.Split(' ')[0], c.Count, c.Total)));
        // M:E = (C5 + 2 C10 + Eos) : (C1 + EB) = 4 : 2; lymphocytes on neither side.
        Assert.Equal((4, 2), (count.MyeloidToErythroid!.Myeloid, count.MyeloidToErythroid.Erythroid));
        // Blasts: of every classified nucleated cell.
        Assert.Equal(9, count.Blasts!.Total);
        Assert.Equal(outputs.Count, count.Cells[0].Probabilities!.Length);

        var provenance = new Provenance("smoke", "phantom", 7, "abc", true);
        string table = count.Table(provenance).Html;
        Assert.Contains("Lym Lymphocyte (outside the stages)", table);
        Assert.Contains("Stage percentages are of the 4 cells called a stage", table);
        Assert.Contains(RatioWithInterval.Definition, table);
        Assert.Contains("M:E ratio (C5-C10, Eos, Baso : C1-C4, EB)", table);
        string json = count.CountJson(provenance);
        Assert.Contains("\"outside_the_stages\"", json);
        Assert.Contains("\"Lym\"", json);
        Assert.Contains("\"definition\"", json);
    }

    [Fact]
    public void ACountingModel_MustNameTheStages()
    {
        var field = new DetectedField("f.png", 200, 200, new FieldScale(CellPatch.PitchUm, "given"), new RgbImage(200, 200), [new FieldCell(100, 100, 60, false, 100, 100, 50)]);
        var e = Assert.Throws<ArgumentException>(() => DifferentialCounter.Count([field], ("lymph-only", [CellClass.Lymphocyte, CellClass.Monocyte], _ => new float[1, 2]), 500, 0.7, null, null));
        Assert.Contains("must name the maturation stages", e.Message);
    }
}
