using MarrowDiff.Experiments;
using MarrowDiff.Preparation;
using MarrowDiff.Tests.Preparation;

namespace MarrowDiff.Tests.Experiments;

/// <summary>The two settings of the paper's-claims study: a training seed apart from the split's seed (replicates on
/// one test set), and the equal-training control (every Table 1 model about the same SGD steps).</summary>
public class ReplicateSettingsTests(PreparedPhantomFixture fx) : IClassFixture<PreparedPhantomFixture>
{
    private static ModelKey Key(ExperimentProfile profile) => ModelKeyTests.Key(profile);

    [Fact]
    public void ATrainingSeed_ChangesTheTraining_NotTheSplit_AndTheSplitsOwnSeedKeepsEveryKey()
    {
        var p = ExperimentProfile.RealTable1;
        Assert.Null(p.TrainingSeed);
        Assert.Equal(2017, p.ModelSeed);
        // The split's own seed as training seed is no training seed: the same profile, JSON and key as before replicates.
        Assert.Equal(p, p.WithTrainingSeed(2017));
        Assert.Equal(p.ToJson(), p.WithTrainingSeed(2017).ToJson());
        Assert.Equal(Key(p).Hash, Key(p.WithTrainingSeed(2017)).Hash);
        var q = p.WithTrainingSeed(2018);
        Assert.Equal(2017, q.Seed); // the split
        Assert.Equal(2018, q.Training(q.Grid[0]).Seed);
        Assert.NotEqual(Key(p).Hash, Key(q).Hash);
        Assert.Contains("\"training_seed\": 2018", q.ToJson());
        Assert.Equal(2018, p.With("training_seed", "2018").ModelSeed);
        Assert.Null(p.With("training_seed", "2017").TrainingSeed);
        // Moving the split's seed onto the training seed leaves no separate training seed.
        Assert.Null(q.WithSeed(2018).TrainingSeed);
    }

    [Fact]
    public void ATrainingSeed_DrawsOtherRecrops_OfTheSameCells()
    {
        var os = fx.Prep.Variant(Table1Role.OSHigh);
        var own = fx.Prep.Build(os, validationFold: 1);
        var same = fx.Prep.Build(os, validationFold: 1, trainingSeed: fx.Prep.Provenance.Seed);
        var other = fx.Prep.Build(os, validationFold: 1, trainingSeed: fx.Prep.Provenance.Seed + 1);
        Assert.Same(own, same); // the split's seed is the default
        Assert.Equal(own.DistinctCells.Select(c => c.CellId).Order(), other.DistinctCells.Select(c => c.CellId).Order());
        Assert.Equal(own.Count, other.Count);
        var a = Enumerable.Range(0, own.Count).Select(i => own[i]).ToList();
        var b = Enumerable.Range(0, other.Count).Select(i => other[i]).ToList();
        Assert.NotEqual(a, b); // other shifted centres
    }

    [Fact]
    public void EqualSteps_GiveEveryTrainingSetTheEpochsNearestTheSteps()
    {
        var p = ExperimentProfile.RealTable1.With("steps", "4000");
        Assert.Equal(4000, p.EqualSteps);
        Assert.Equal(91, p.EpochsFor(1730, p.Epochs));   // OG: 44 batches an epoch → 91 epochs, 4,004 steps
        Assert.Equal(10, p.EpochsFor(16000, p.Epochs));  // AG+OS400: 400 batches → 10 epochs, as the paper's protocol gives it
        Assert.Equal(5, p.EpochsFor(32000, p.Epochs));   // AG+OS800: 800 batches → 5
        Assert.Equal(1, p.EpochsFor(1_000_000, p.Epochs)); // never below one epoch
        Assert.Equal(10, ExperimentProfile.RealTable1.EpochsFor(1730, 10)); // off: the paper's same epochs
        Assert.Contains("about 4,000 SGD steps for every model", p.Description);
        Assert.Contains("\"equal_steps\": 4000", p.ToJson());
        Assert.Null(p.With("steps", "off").EqualSteps);
        Assert.Throws<ArgumentException>(() => ExperimentProfile.RealTransfer.With("steps", "4000")); // a fold-ensemble protocol
        Assert.Throws<ArgumentException>(() => ExperimentProfile.RealTable1.With("steps", "0"));
        Assert.DoesNotContain("equal_steps", ExperimentProfile.RealTable1.ToJson());
    }
}

/// <summary>Profiles as data: a setting is one row of <see cref="ProfileSettings"/>, from which the help, the refusal, the
/// JSON, the description and (through what it sets) the model's key all follow.</summary>
public class ProfileSettingsTests
{
    [Fact]
    public void AThrowawaySetting_ReachesHelp_Json_Key_AndDescription_FromItsRowAlone()
    {
        var row = new ProfileSetting("throwaway_batch", "throwaway_batch=N", ChangesWork: true, (p, v) => p with { BatchSize = v.Int() })
        {
            Json = p => p.BatchSize == 40 ? [] : [("throwaway_batch", p.BatchSize)],
            Describe = p => p.BatchSize == 40 ? null : $"throwaway batch {p.BatchSize}",
        };
        IReadOnlyList<ProfileSetting> table = [.. ProfileSettings.All, row];
        Assert.EndsWith("throwaway_batch=N", ProfileSettings.NamesOf(table));
        Assert.Contains("throwaway_batch=N", Assert.Throws<ArgumentException>(() => ExperimentProfile.Smoke.With("nonsense", "1", table)).Message);
        Assert.Contains("unknown setting 'throwaway_batch'", Assert.Throws<ArgumentException>(() => ExperimentProfile.Smoke.With("throwaway_batch", "7")).Message);

        var p = ExperimentProfile.RealPlus.With("throwaway_batch", "7", table);
        Assert.Equal(7, p.BatchSize);
        Assert.Contains("\"throwaway_batch\": 7", p.ToJson(table));
        Assert.DoesNotContain("throwaway_batch", ExperimentProfile.RealPlus.ToJson(table));
        Assert.Contains("throwaway batch 7", ProfileDescription.Settings(p, table));
        var key = new ModelKey("model", "d", "s", "OG", p.Training(p.Grid[0]), 1);
        Assert.NotEqual(new ModelKey("model", "d", "s", "OG", ExperimentProfile.RealPlus.Training(ExperimentProfile.RealPlus.Grid[0]), 1).Hash, key.Hash);
        Assert.False(p.Run.BudgetNeedsAvx512); // it changes the work: the measured budget no longer describes the profile
        Assert.Equal("real-plus+throwaway_batch=7", p.Name);
    }

    [Fact]
    public void EveryRow_HasOneKey_AndEveryProfileIsFoundByName()
    {
        Assert.Equal(ProfileSettings.All.Count, ProfileSettings.All.Select(s => s.Key).Distinct().Count());
        Assert.Equal(["paper", "smoke", "laptop", "real", "real-table1", "real-plus", "real-lite", "real-fast", "real-transfer", "real-transfer-os"],
                     ExperimentProfile.All.Select(p => p.Name));
        Assert.All(ExperimentProfile.All, p => Assert.Same(p, ExperimentProfile.Parse(p.Name)));
        // real-fast is real-lite with one more setting: its true parent.
        Assert.Equal(ExperimentProfile.RealLite with { Name = "real-fast", Purpose = ExperimentProfile.RealFast.Purpose, FinalModel = true }, ExperimentProfile.RealFast);
    }
}
