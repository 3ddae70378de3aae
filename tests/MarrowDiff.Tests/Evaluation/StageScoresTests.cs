using MarrowDiff.Data;
using MarrowDiff.Evaluation;

namespace MarrowDiff.Tests.Evaluation;

/// <summary>The scores a hematologist reads beside macro F1: within one stage, κ over the maturation order, ECE and the
/// risk–coverage curve.</summary>
public class StageScoresTests
{
    private static readonly CellClass[] Five = [CellClass.Promyelocyte, CellClass.Myelocyte, CellClass.Metamyelocyte, CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil];

    private static CellPredictions Answers(params (CellClass Truth, CellClass Answer, float Confidence)[] cells) =>
        new("m", Five, [.. cells.Select((c, i) => new PredictedCell($"c{i}", "PBC", c.Truth, c.Answer,
            [.. Five.Select(k => k == c.Answer ? c.Confidence : (1 - c.Confidence) / 4)]))]);

    [Fact]
    public void QuadraticKappa_IsOneWhenRight_AndMatchesAHandComputation()
    {
        Assert.Equal(1, StageScores.QuadraticWeightedKappa([2, 3, 4, 5, 6], [2, 3, 4, 5, 6], 6), 12);
        // The same table worked by hand (observed and expected disagreements weighted by (i - j)^2): 0.536585…
        Assert.Equal(0.5365853658536585, StageScores.QuadraticWeightedKappa([2, 3, 4, 5, 6, 2, 3, 4, 5, 6], [2, 3, 5, 5, 6, 3, 3, 4, 6, 2], 6), 12);
        // A far miss costs more than a near one.
        Assert.True(StageScores.QuadraticWeightedKappa([2, 3, 4, 5], [2, 3, 4, 6], 6) > StageScores.QuadraticWeightedKappa([2, 3, 4, 5], [2, 3, 4, 2], 6));
    }

    [Fact]
    public void WithinOneStage_CountsNeighbours_AndTheCurveKeepsTheSurestCells()
    {
        var p = Answers(
            (CellClass.Myelocyte, CellClass.Myelocyte, 0.95f),        // right, sure
            (CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil, 0.9f), // one stage off, sure
            (CellClass.Promyelocyte, CellClass.BandNeutrophil, 0.4f),  // three stages off, unsure
            (CellClass.Metamyelocyte, CellClass.Metamyelocyte, 0.6f)); // right
        var s = StageScores.Of(p);
        Assert.Equal(0.75, s.WithinOneStage, 12);
        Assert.Equal(4, s.KappaCells);
        Assert.Equal([0.5, 0.8, 0.9, 1.0], s.RiskCoverage.Select(c => c.Coverage));
        Assert.Equal((2, 0.9, 0.5), (s.RiskCoverage[0].Cells, Math.Round(s.RiskCoverage[0].Threshold, 6), s.RiskCoverage[0].Accuracy));
        Assert.Equal((4, 0.5), (s.RiskCoverage[3].Cells, s.RiskCoverage[3].Accuracy));
        Assert.Equal((4, 0.5), (s.RiskCoverage[1].Cells, s.RiskCoverage[1].Accuracy)); // 80% of 4 cells rounds up to all 4
    }

    [Fact]
    public void Ece_IsZeroForACalibratedAnswerSet_AndTheGapOtherwise()
    {
        Assert.Equal(0, Calibration.Ece([(1.0, true), (1.0, true)]), 12);
        Assert.Equal(0.45, Calibration.Ece([(0.95, false), (0.95, true)]), 12);
    }
}

/// <summary>A second annotation of PBC's bands and segmented: agreement, κ, and a classifier's answers split by it.</summary>
public class SecondAnnotationTests
{
    [Fact]
    public void Kappa_OfTheFoldersTable_IsTheOneTheIssueMeasured_AndAnswersSplitByAgreement()
    {
        string dir = Directory.CreateTempSubdirectory("marrow-wbcatt-").FullName;
        try
        {
            // The development folder's counts: PBC band read as band 569, as segmented 17; PBC segmented read as band 231, as segmented 366.
            var lines = new List<string> { "path,pbc_label,nucleus_shape" };
            void Add(string prefix, string shape, int n, int start) { for (int i = 0; i < n; i++) lines.Add($"pbc/PBC_dataset_normal_DIB/neutrophil/{prefix}_{start + i}.jpg,{prefix},{shape}"); }
            Add("BNE", "unsegmented-band", 569, 0); Add("BNE", "segmented-bilobed", 17, 1000); Add("SNE", "unsegmented-band", 231, 2000);
            Add("SNE", "segmented-multilobed", 366, 3000); Add("SNE", "irregular", 2, 4000);
            string csv = Path.Combine(dir, "w.csv");
            File.WriteAllLines(csv, lines);
            var second = SecondAnnotation.Read(csv);
            var labelled = lines.Skip(1).Select(l => l.Split(',')).Select(x => (x[0], x[1] == "BNE" ? CellClass.BandNeutrophil : CellClass.SegmentedNeutrophil));
            var a = LabelAgreement.Of(labelled, second);
            Assert.Equal((1183, 2), (a.Cells, a.LeftOut));
            Assert.Equal(0.790, a.Agreement, 3);
            Assert.Equal(0.582, a.Kappa, 3);

            CellClass[] pair = [CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil];
            var p = new CellPredictions("m", pair,
            [
                new PredictedCell("neutrophil/BNE_0.jpg", "PBC", CellClass.BandNeutrophil, CellClass.BandNeutrophil, [0.9f, 0.1f]),          // agreed, right
                new PredictedCell("neutrophil/SNE_3000.jpg", "PBC", CellClass.SegmentedNeutrophil, CellClass.BandNeutrophil, [0.6f, 0.4f]),  // agreed, wrong
                new PredictedCell("neutrophil/SNE_2000.jpg", "PBC", CellClass.SegmentedNeutrophil, CellClass.BandNeutrophil, [0.7f, 0.3f]),  // disputed: sides with the second team
                new PredictedCell("neutrophil/SNE_4000.jpg", "PBC", CellClass.SegmentedNeutrophil, CellClass.SegmentedNeutrophil, [0.2f, 0.8f]), // no reading
            ]);
            var split = AnswersByAgreement.Of(p, second);
            Assert.Equal((2, 0.5, 1, 0.0, 1.0, 1), (split.Agreed, split.RightWhereAgreed, split.Disputed, split.WithPbcWhereDisputed, split.WithSecondWhereDisputed, split.LeftOut));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
