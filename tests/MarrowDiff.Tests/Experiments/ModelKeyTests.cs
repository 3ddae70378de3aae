using System.Text.Json;
using MarrowDiff.Data;
using MarrowDiff.Experiments;
using MarrowDiff.Tests.Preparation;

namespace MarrowDiff.Tests.Experiments;

public class ModelKeyTests(PreparedPhantomFixture fx) : IClassFixture<PreparedPhantomFixture>
{
    internal static ModelKey Key(ExperimentProfile profile) =>
        new("model", "data-sha", "split-sha", "AG+OS150", profile.Training(profile.Grid[0]), HeldOutFold: 1);

    [Fact]
    public void TheKey_WritesEveryField_DefaultsToo_WithItsVersion()
    {
        string json = Key(ExperimentProfile.Paper).ToJson();
        // The parts the issue names, and the settings that used to hide from the JSON when off.
        foreach (string field in new[] { "\"Version\": 3", "\"Kind\": \"model\"", "\"Data\": \"data-sha\"", "\"Split\": \"split-sha\"", "\"Variant\": \"AG+OS150\"",
                                         "\"Seed\": 2017", "\"HeldOutFold\": 1", "\"CellShare\": 1", "\"Outputs\": null", "\"StartFrom\": null",
                                         "\"Refinements\": null", "\"Engine\": \"Default\"", "\"SingleThreaded\": false", "\"Depth\": 16",
                                         "\"Kind\": \"vgg\"", "\"GlobalPool\": false" })
            Assert.Contains(field, json);
        Assert.Contains("\"Mixup\": 0", Key(ExperimentProfile.RealPlus).ToJson());
        Assert.Contains("\"Rotation\": true", Key(ExperimentProfile.RealPlus).ToJson());
        Assert.Contains("\"ClassifierRate\": null", Key(ExperimentProfile.RealTransfer).ToJson());
        Assert.Matches("^[0-9a-f]{12}$", Key(ExperimentProfile.Paper).Hash);
    }

    [Theory]
    [InlineData("epochs", "3")]
    [InlineData("width", "0.25")]
    [InlineData("depth", "13")]
    [InlineData("input", "64")]
    [InlineData("batch", "20")]
    [InlineData("lr", "0.02")]
    [InlineData("engine", "bf16")]
    [InlineData("global_pool", "on")]
    [InlineData("mixup", "0.2")]
    [InlineData("rotate", "on")]
    [InlineData("label_smoothing", "0.1")]
    [InlineData("side_by_side", "on")]
    public void EverySettingThatChangesTheWeights_ChangesTheHash(string setting, string value)
    {
        var smoke = ExperimentProfile.Smoke;
        var changed = smoke.With(setting, value);
        var a = Key(smoke);
        var b = setting == "side_by_side" ? a with { Recipe = changed.FoldTraining(changed.Grid[0]) } : Key(changed);
        Assert.NotEqual(a.Hash, b.Hash);
    }

    [Fact]
    public void TheOtherParts_ChangeTheHash_AndTheVersionDoesNot()
    {
        var key = Key(ExperimentProfile.Smoke);
        Assert.NotEqual(key.Hash, (key with { Data = "other" }).Hash);
        Assert.NotEqual(key.Hash, (key with { Split = "other" }).Hash);
        Assert.NotEqual(key.Hash, (key with { Variant = "OG" }).Hash);
        Assert.NotEqual(key.Hash, (key with { HeldOutFold = 2 }).Hash);
        Assert.NotEqual(key.Hash, (key with { CellShare = 0.5 }).Hash);
        Assert.NotEqual(key.Hash, (key with { Outputs = [CellClass.BandNeutrophil, CellClass.SegmentedNeutrophil] }).Hash);
        Assert.NotEqual(key.Hash, (key with { StartFrom = "AG+OS150-abc" }).Hash);
        Assert.NotEqual(key.Hash, (key with { Recipe = key.Recipe with { Seed = 7 } }).Hash);
        Assert.NotEqual(Key(ExperimentProfile.RealTransfer).Hash, Key(ExperimentProfile.RealTransfer.With("backbone", "vgg")).Hash);
        // The version is not in the folder name: an entry of another version is found there, and refused.
        Assert.Equal(key.Hash, (key with { Version = 2 }).Hash);
    }

    [Fact]
    public void Check_RefusesAMissingKey_AnotherVersion_AndAnotherKey_NamingTheFile()
    {
        string dir = Directory.CreateTempSubdirectory("marrow-key-").FullName;
        try
        {
            var key = Key(ExperimentProfile.Smoke);
            string file = Path.Combine(dir, ModelKey.FileName);
            Assert.Contains("missing", Assert.Throws<InvalidDataException>(() => key.Check(file)).Message);
            File.WriteAllText(file, key.ToJson());
            key.Check(file);
            File.WriteAllText(file, (key with { Version = 2 }).ToJson());
            var old = Assert.Throws<InvalidDataException>(() => key.Check(file));
            Assert.Contains(file, old.Message);
            Assert.Contains("version 2", old.Message);
            Assert.Contains($"version {ModelKey.CurrentVersion}", old.Message);
            File.WriteAllText(file, (key with { HeldOutFold = 3 }).ToJson());
            Assert.Contains("differs", Assert.Throws<InvalidDataException>(() => key.Check(file)).Message);
            File.WriteAllText(file, "{ not json");
            Assert.Contains(file, Assert.Throws<InvalidDataException>(() => key.Check(file)).Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void ACachedModelOfAnotherVersion_IsRefused_NeverReused()
    {
        var tiny = ExperimentProfile.Smoke.WithSeed(fx.Prep.Provenance.Seed).With("epochs", "1").With("lr", "0.01").With("oversample", "5,10");
        string models = Path.Combine(fx.Root, "models-key-version");
        var hyper = tiny.Grid[0];
        string folder;
        using (var model = new Experiment(fx.Prep, tiny, models).Train(fx.Prep.Variant("OG"), hyper))
            folder = model.Folder!;
        string keyFile = Path.Combine(folder, ModelKey.FileName);
        var saved = JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(keyFile));
        Assert.Equal(ModelKey.CurrentVersion, saved.GetProperty("Version").GetInt32());
        Assert.Equal("model", saved.GetProperty("Kind").GetString());
        Assert.False(File.Exists(folder + ".training-key.json")); // dropped with the checkpoint

        // Read back as it is; refused once its key says another version, or once the key is gone.
        var again = new Experiment(fx.Prep, tiny, models);
        using (again.Train(fx.Prep.Variant("OG"), hyper)) Assert.Contains(again.Log, l => l.Contains("cached", StringComparison.Ordinal));
        File.WriteAllText(keyFile, File.ReadAllText(keyFile).Replace($"\"Version\": {ModelKey.CurrentVersion}", "\"Version\": 2", StringComparison.Ordinal));
        var refused = Assert.Throws<InvalidDataException>(() => new Experiment(fx.Prep, tiny, models).Train(fx.Prep.Variant("OG"), hyper));
        Assert.Contains("version 2", refused.Message);
        File.Delete(keyFile);
        Assert.Contains("missing", Assert.Throws<InvalidDataException>(() => new Experiment(fx.Prep, tiny, models).Train(fx.Prep.Variant("OG"), hyper)).Message);

        // A checkpoint resumes only under its own key: one left by another version is refused, not resumed.
        Directory.Delete(folder, recursive: true);
        File.WriteAllText(folder + ".checkpoint", "not read");
        File.WriteAllText(folder + ".training-key.json", "{ \"Version\": 2 }");
        Assert.Contains("version 2", Assert.Throws<InvalidDataException>(() => new Experiment(fx.Prep, tiny, models).Train(fx.Prep.Variant("OG"), hyper)).Message);
        Assert.False(Directory.Exists(folder));
    }
}
