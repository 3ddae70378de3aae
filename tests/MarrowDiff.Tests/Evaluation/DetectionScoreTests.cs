using MarrowDiff.Data;
using MarrowDiff.Evaluation;

namespace MarrowDiff.Tests.Evaluation;

public class DetectionScoreTests
{
    [Fact]
    public void Matching_IsOneToOne_ClosestFirst()
    {
        var boxes = new[] { new CellBox(0, 0, 10, 10), new CellBox(20, 0, 30, 10) };
        // Two finds in the first box (one hit, one false find), none in the second (a miss), one outside all.
        var s = DetectionMatching.AgainstBoxes([(5, 5), (6, 6), (50, 50)], boxes);
        Assert.Equal((2, 3, 1), (s.Truth, s.Found, s.Matched));
        Assert.Equal([1], s.Missed);
        Assert.Equal([1, 2], s.FalseFinds);   // (5,5) is closer to the box centre and takes it
        Assert.Equal(0.5, s.Recall);
    }

    [Fact]
    public void Matching_TakesTheClosestFind_NotTheFirstListed()
    {
        var box = new[] { new CellBox(0, 0, 10, 10) };
        var s = DetectionMatching.AgainstBoxes([(8, 8), (5, 6)], box);
        Assert.Equal([0], s.FalseFinds); // the second find, 1 px from the centre, takes the box from the first, 4.2 px
    }

    [Fact]
    public void OneFindInTwoOverlappingBoxes_MatchesOnlyTheCloserOne()
    {
        var boxes = new[] { new CellBox(0, 0, 10, 10), new CellBox(4, 0, 14, 10) }; // centres (5,5) and (9,5)
        var s = DetectionMatching.AgainstBoxes([(7.5, 5)], boxes);
        Assert.Equal(1, s.Matched);       // a find is used once, however many boxes it lies in
        Assert.Equal([0], s.Missed);      // 2.5 px from the first centre, 1.5 from the second
        Assert.Empty(s.FalseFinds);
    }

    [Fact]
    public void AgainstCentres_AHitLiesWithinHalfTheDiameter()
    {
        var s = DetectionMatching.AgainstCentres([(104, 100), (200, 111)], [(100, 100, 10), (200, 100, 20)]);
        Assert.Equal(1, s.Matched);   // 4 px from a 10-px cell: inside 5; 11 px from a 20-px cell: outside 10
    }

    [Fact]
    public void YoloLabels_AreReadAsBoxes_AndABadLineIsNamed()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "1 0.5 0.5 0.1 0.1\n0 0.25 0.5 0.5 0.2\n\n");
            var box = Assert.Single(YoloLabels.Read(path, 200, 100));
            Assert.Equal((0, 40, 100, 60), (box.X0, box.Y0, box.X1, box.Y1));
            File.WriteAllText(path, "0 0.25 0.5 0.5\n");
            var e = Assert.Throws<InvalidDataException>(() => YoloLabels.Read(path, 200, 100));
            Assert.Contains($"{path}, line 1", e.Message);
        }
        finally { File.Delete(path); }
    }
}
