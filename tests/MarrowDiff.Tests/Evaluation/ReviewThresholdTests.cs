using MarrowDiff.Evaluation;
using MarrowDiff.Training;

namespace MarrowDiff.Tests.Evaluation;

public class ReviewThresholdTests
{
    [Fact]
    public void TheLowestThresholdReachingTheTarget_IsChosen_KeepingTheMostCells()
    {
        // Surest first: 0.99 ✓, 0.95 ✓, 0.90 ✓, 0.80 ✗, 0.70 ✓, 0.60 ✗, 0.50 ✗. Kept accuracy at each threshold:
        // 1, 1, 1, 3/4, 4/5, 4/6, 4/7. At 80%: 0.70 keeps five cells at exactly 80%; at 90%: 0.90 keeps three.
        (double, bool)[] answered = [(0.5, false), (0.99, true), (0.8, false), (0.95, true), (0.6, false), (0.9, true), (0.7, true)];
        var at80 = ReviewThreshold.Choose(answered, 0.8);
        Assert.Equal((0.7, true, 5.0 / 7, 0.8), (at80.Below, at80.Reached, at80.Coverage, at80.KeptAccuracy));
        var at90 = ReviewThreshold.Choose(answered, 0.9);
        Assert.Equal((0.9, 3.0 / 7), (at90.Below, at90.Coverage));
        Assert.Equal(7, at90.Cells);
    }

    [Fact]
    public void CellsOfEqualConfidence_AreKeptOrSentTogether()
    {
        // A threshold of 0.8 keeps both 0.8 cells, one wrong: 2 of 3 right, short of 90%, so only the 0.9 cell is kept.
        (double, bool)[] answered = [(0.9, true), (0.8, true), (0.8, false)];
        var chosen = ReviewThreshold.Choose(answered, 0.9);
        Assert.Equal(0.9, chosen.Below);
        Assert.Equal(1.0 / 3, chosen.Coverage);
    }

    [Fact]
    public void AnUnreachableTarget_KeepsOnlyTheSurest_AndSaysSo()
    {
        var chosen = ReviewThreshold.Choose([(0.9, false), (0.6, true)], 0.9);
        Assert.False(chosen.Reached);
        Assert.Equal(0.9, chosen.Below);
        Assert.Contains("the target was not reached", SavedScores.DescribeReview(chosen.Scores));
        Assert.Throws<ArgumentException>(() => ReviewThreshold.Choose(Array.Empty<(double, bool)>(), 0.9));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReviewThreshold.Choose([(0.9, true)], 1.5));
    }

    [Fact]
    public void ACommandsThreshold_IsTheGivenOne_ElseTheModelsOwn_ElseTheFixedDefault_NamingWhich()
    {
        string dir = Directory.CreateTempSubdirectory("marrow-review-").FullName;
        try
        {
            Assert.Equal((SavedScores.Unchosen, "no threshold was chosen on folds for this model: the fixed default"), SavedScores.ReviewFor(null, dir));
            File.WriteAllText(Path.Combine(dir, SavedScores.CrossValidationFile), """{ "cv_macro_f1": 0.8, "review_below": 0.83 }""");
            Assert.Equal((0.83, "the model's own, chosen on its folds"), SavedScores.ReviewFor(null, dir));
            Assert.Equal((0.5, "given"), SavedScores.ReviewFor(0.5, dir));
            File.WriteAllText(Path.Combine(dir, SavedScores.CrossValidationFile), "{ not json");
            Assert.Contains(SavedScores.CrossValidationFile, Assert.Throws<InvalidDataException>(() => SavedScores.ReviewFor(null, dir)).Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
