using MarrowDiff.Training;

namespace MarrowDiff.Tests.Model;

public class DualStageTests
{
    [Fact]
    public void WhenTheGlobalTopIsInThePair_OnlyThePairsMassMoves_AndItStillSumsToOne()
    {
        float[] global = [0.05f, 0.05f, 0.05f, 0.05f, 0.05f, 0.05f, 0.05f, 0.05f, 0.45f, 0.15f]; // top: C9 (index 8)
        float[] combined = DualStage.Combine(global, [0.2f, 0.8f], 8, 9);
        Assert.Equal(1.0, combined.Sum(), 5);
        Assert.Equal(0.6 * 0.2, combined[8], 6);
        Assert.Equal(0.6 * 0.8, combined[9], 6);
        for (int c = 0; c < 8; c++) Assert.Equal(global[c], combined[c]);
        Assert.Equal(9, Array.IndexOf(combined, combined.Max())); // the local model turned band into segmented
    }

    [Fact]
    public void WhenTheGlobalTopIsOutsideThePair_NothingChanges()
    {
        float[] global = [0.7f, 0.05f, 0.05f, 0.05f, 0.05f, 0.0f, 0.0f, 0.0f, 0.05f, 0.05f];
        float[] combined = DualStage.Combine(global, [0.99f, 0.01f], 8, 9);
        Assert.Equal(global, combined);
    }

    [Fact]
    public void AnyPair_AndBadPairs()
    {
        float[] global = [0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.3f, 0.0f, 0.05f, 0.05f]; // top: C7 (index 6)
        float[] combined = DualStage.Combine(global, [0.25f, 0.75f], 6, 7);                // C7 / C8 pair
        Assert.Equal(0.075, combined[6], 6); Assert.Equal(0.225, combined[7], 6);
        Assert.Equal(1.0, combined.Sum(), 5);
        Assert.Throws<ArgumentOutOfRangeException>(() => DualStage.Combine(global, [0.5f, 0.5f], 3, 3));
        Assert.Throws<ArgumentException>(() => DualStage.Combine(global, [1f], 8, 9));
    }
}
