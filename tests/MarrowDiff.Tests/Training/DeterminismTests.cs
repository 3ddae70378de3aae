using System.Globalization;
using System.Text.Json;
using MarrowDiff.Phantom;
using MarrowDiff.Training;
using MarrowDiff.Model;

namespace MarrowDiff.Tests.Training;

/// <summary>
/// One `marrow train` command on the smoke phantom, run to the end in a child process: the reference that later runs
/// of the same command (again from scratch, or resumed after a kill) must reproduce byte for byte. 17 epochs of
/// AG+OS60 (120 steps each) plus a one-epoch cross-validation: 2,190 SGD steps, the 16-channel first block included.
/// </summary>
public sealed class ReferenceTrainingRun : IDisposable
{
    public const int Epochs = 17, CrossValidationEpochs = 1;

    public ReferenceTrainingRun()
    {
        Root = Directory.CreateTempSubdirectory("marrow-determinism-").FullName;
        Phantom = Path.Combine(Root, "phantom");
        MarrowPhantom.Write(Phantom, PhantomSize.Smoke, 2017);
        (Folder, Output) = Train("reference");
    }

    public string Root { get; }
    public string Phantom { get; }

    /// <summary>The reference run's --out folder and console output.</summary>
    public string Folder { get; }
    public string Output { get; }

    /// <summary>The command, with its own models cache (so nothing is read from another run's cache) and output folder.</summary>
    public IReadOnlyList<string> Arguments(string run) =>
    [
        "train", "--data", Phantom, "--variant", "AG+OS60", "--profile", "smoke",
        "--set", $"epochs={Epochs}", "--set", $"cv_epochs={CrossValidationEpochs}",
        "--models", Path.Combine(Root, run, "models"), "--out", Path.Combine(Root, run, "out"),
    ];

    /// <summary>Runs the command to the end under the name <paramref name="run"/>; fails with its output if it fails.</summary>
    public (string Folder, string Output) Train(string run)
    {
        var (code, output) = MarrowProcess.Run(Arguments(run), MarrowProcess.TrainingCommand);
        Assert.True(code == 0, $"marrow train ({run}) exited {code}:\n{output}");
        return (Path.Combine(Root, run, "out"), output);
    }

    /// <summary>The reference run's weights.</summary>
    public byte[] Weights => File.ReadAllBytes(Path.Combine(Folder, TrainedModel.SafetensorsFile));

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>The tests that compare against one reference run share it, and run one after another (each trains).</summary>
[CollectionDefinition(Name)]
public sealed class ReferenceTrainingCollection : ICollectionFixture<ReferenceTrainingRun>
{
    public const string Name = "reference training run";
}

/// <summary>Issue 11: determinism is a tested property. The same training command, run twice in two processes, gives
/// byte-equal weights and cross-validation tables, and every one of its 2,000+ steps has a finite loss.</summary>
[Collection(ReferenceTrainingCollection.Name)]
public class DeterminismTests(ReferenceTrainingRun reference)
{
    [Fact]
    public void SameTrainingTwice_GivesByteEqualWeightsAndTables_OverTwoThousandFiniteSteps()
    {
        var (again, output) = reference.Train("again");

        foreach (string file in new[] { TrainedModel.SafetensorsFile, TrainedModel.WeightsFile, TrainedModel.CardFile, TrainedModel.NormalisationFile })
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
