using MarrowDiff.Phantom;
using MarrowDiff.Training;

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
