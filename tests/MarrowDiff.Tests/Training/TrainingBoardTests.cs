using MarrowDiff.Training;

namespace MarrowDiff.Tests.Training;

public class TrainingBoardTests
{
    [Fact]
    public void ModelsTrainingSideBySide_EachHoldOneLine_UntilTheyFinish()
    {
        var shown = new List<string>();
        var board = new TrainingBoard(shown.Add);
        static TrainingProgress At(string model, int epoch, int step) => new(model, epoch, 2, step, 10, 0.5, TimeSpan.FromSeconds(epoch * 10 + step));

        board.Report(At("fold 1", 1, 1));
        board.Report(At("fold 2", 1, 1));
        board.Report(At("fold 1", 1, 2));
        string[] lines = shown[^1].Split('\n');
        Assert.Equal(2, lines.Length); // one line a model, in the order they started, each its latest report
        Assert.StartsWith("fold 1 [", lines[0]);
        Assert.Contains(" 2/20 ", lines[0]);
        Assert.StartsWith("fold 2 [", lines[1]);

        board.Report(At("fold 1", 2, 10)); // fold 1's last step: shown once more, then gone
        Assert.Contains(" 20/20 ", shown[^1].Split('\n')[0]);
        board.Report(At("fold 2", 1, 2));
        Assert.Single(shown[^1].Split('\n'));
        Assert.StartsWith("fold 2 [", shown[^1]);
    }
}
