using MarrowDiff.Core;

namespace MarrowDiff.Tests.Core;

public class RunningStagesTests
{
    private static WorkProgress At(string stage, int done) => new(stage, done, 10, TimeSpan.FromSeconds(done));

    [Fact]
    public void EachRunningStage_KeepsItsLatestReport_InTheOrderTheStagesStarted()
    {
        var running = new RunningStages();
        running.Update(At("fold 1", 1));
        running.Update(At("fold 2", 1));
        var shown = running.Update(At("fold 1", 2));
        Assert.Equal(["fold 1", "fold 2"], shown.Select(p => p.Stage));
        Assert.Equal([2, 1], shown.Select(p => p.Done));
    }

    [Fact]
    public void AFinishedStage_IsShownOnceMore_ThenDropped_AndARerunStartsAtTheEnd()
    {
        var running = new RunningStages();
        running.Update(At("fold 1", 1));
        running.Update(At("fold 2", 1));
        var last = running.Update(At("fold 1", 10));
        Assert.Equal(["fold 1", "fold 2"], last.Select(p => p.Stage)); // its finished bar, shown once
        Assert.Equal(["fold 2"], running.Update(At("fold 2", 2)).Select(p => p.Stage));
        Assert.Equal(["fold 2", "fold 1"], running.Update(At("fold 1", 1)).Select(p => p.Stage));
    }
}
