using System.Globalization;
using System.Text.Json;
using MarrowDiff.Training;

namespace MarrowDiff.Tests.Training;

/// <summary>Issue 11: determinism is a tested property. The same training command, run twice in two processes, gives
/// byte-equal weights and cross-validation tables, and every one of its 2,000+ steps has a finite loss.</summary>
[Collection(ReferenceTrainingCollection.Name)]
public class DeterminismTests(ReferenceTrainingRun reference)
{
    [Fact]
    public void SameTrainingTwice_GivesByteEqualWeightsAndTables_OverTwoThousandFiniteSteps()
    {
        var (again, output) = reference.Train("again");

        foreach (string file in new[] { TrainedModel.SafetensorsFile, TrainedModel.CardFile, TrainedModel.NormalisationFile })
            Assert.True(File.ReadAllBytes(Path.Combine(reference.Folder, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(again, file))),
                        $"{file} differs between two runs of the same command on {MarrowDiff.Torch.CpuInfo.Current()}");
        string cv = Path.GetFileName(Directory.GetFiles(Path.Combine(reference.Root, "reference", "models"), "cv-*.json").Single());
        Assert.Equal(File.ReadAllText(Path.Combine(reference.Root, "reference", "models", cv)), File.ReadAllText(Path.Combine(reference.Root, "again", "models", cv)));

        // history.csv: identical but for the two timing columns; every training loss finite.
        string[] a = File.ReadAllLines(Path.Combine(reference.Folder, TrainedModel.HistoryFile)), b = File.ReadAllLines(Path.Combine(again, TrainedModel.HistoryFile));
        Assert.Equal(a.Select(WithoutTimings), b.Select(WithoutTimings));
        Assert.Equal(ReferenceTrainingRun.Epochs + 1, a.Length);
        Assert.All(a.Skip(1), line => Assert.True(double.IsFinite(double.Parse(line.Split(',')[1], CultureInfo.InvariantCulture)), line));

        // The number of SGD steps those weights went through: the final model's plus the cross-validation's.
        using var card = JsonDocument.Parse(File.ReadAllText(Path.Combine(again, TrainedModel.CardFile)));
        int images = card.RootElement.GetProperty("TrainingImages").GetInt32();
        int finalSteps = ReferenceTrainingRun.Epochs * (int)Math.Ceiling(images / 40.0);
        Assert.Equal(4800, images);
        Assert.True(finalSteps >= 2000, $"only {finalSteps} steps");
        Assert.DoesNotContain("NaN", output);
    }

    private static string WithoutTimings(string line) => string.Join(',', line.Split(',').Take(5));
}
