using System.Diagnostics;
using System.Text.Json;
using MarrowDiff.Core;
using MarrowDiff.Model;
using MarrowDiff.Training;

namespace MarrowDiff.Tests.Training;

/// <summary>
/// Issue 12: `marrow train` killed with SIGKILL at several points (during the cross-validation, mid-epoch, halfway
/// through writing a checkpoint, halfway through writing the model), then run again with the same command: it resumes,
/// finishes, and its weights are byte-equal to the uninterrupted reference run's. After every kill, no file a later
/// run reads is half-written: checkpoints load, tables parse, a model folder is whole or absent.
/// </summary>
[Collection(ReferenceTrainingCollection.Name)]
public class KillResumeTests(ReferenceTrainingRun reference)
{
    [Fact]
    public void KilledDuringCrossValidationThenMidEpoch_ResumesToTheSameWeights()
    {
        const string run = "killed-cv-and-mid-epoch";
        // During the cross-validation: its runs are showing progress, its table is not written yet.
        string killedAt = StartAndKill(run, output => output.Contains("CV ", StringComparison.Ordinal));
        Assert.Empty(Directory.Exists(Models(run)) ? Directory.GetFiles(Models(run), "cv-*.json") : []);
        AssertNothingHalfWritten(run);

        // Mid-epoch of the final model: a checkpoint exists (an epoch is done) and the next epoch is under way.
        DateTime? firstCheckpoint = null;
        killedAt += StartAndKill(run, _ =>
        {
            if (firstCheckpoint is null && Checkpoints(run).Length > 0) firstCheckpoint = DateTime.UtcNow;
            return firstCheckpoint is { } t && DateTime.UtcNow - t > TimeSpan.FromSeconds(2);
        });
        Assert.Single(Checkpoints(run));
        AssertNothingHalfWritten(run);

        var (folder, output) = reference.Train(run);
        Assert.Matches(@"resumed from \S+ after epoch [0-9]+ of [0-9]+: [0-9]+ SGD steps run here", output);
        Assert.Equal(reference.Weights, File.ReadAllBytes(Path.Combine(folder, TrainedModel.SafetensorsFile)));
        Assert.Empty(Checkpoints(run)); // dropped once the model is saved
    }

    [Fact]
    public void KilledWhileWritingACheckpointThenTheModel_ResumesToTheSameWeights()
    {
        const string run = "killed-while-writing";
        // Halfway through the third checkpoint (after epoch 3): the second stays, whole; the half file is a temp file.
        var (code, output) = Train(run, ".checkpoint#3");
        Assert.True(code != 0, $"the process was to be killed while writing:\n{output}");
        string checkpoint = Assert.Single(Checkpoints(run));
        Assert.Equal(2, CheckpointEpochs(checkpoint));
        Assert.NotEmpty(Directory.GetFiles(Models(run), "*.marrowdiff-tmp"));
        AssertNothingHalfWritten(run);

        // Resumed, then killed halfway through writing the model's weights into its (temporary) folder.
        (code, output) = Train(run, TrainedModel.SafetensorsFile + "#1");
        Assert.True(code != 0, $"the process was to be killed while writing the model:\n{output}");
        Assert.Equal(ReferenceTrainingRun.Epochs, CheckpointEpochs(Assert.Single(Checkpoints(run))));
        Assert.Empty(ModelFolders(run)); // no model folder under its real name until it is whole
        AssertNothingHalfWritten(run);

        var (folder, final) = reference.Train(run);
        Assert.Matches(@"resumed from \S+ after epoch [0-9]+ of [0-9]+: [0-9]+ SGD steps run here", final);
        Assert.Equal(reference.Weights, File.ReadAllBytes(Path.Combine(folder, TrainedModel.SafetensorsFile)));
        Assert.Empty(Directory.GetDirectories(Models(run), "*.writing"));
    }

    private string Models(string run) => Path.Combine(reference.Root, run, "models");

    private string[] Checkpoints(string run) => Directory.Exists(Models(run)) ? Directory.GetFiles(Models(run), "*.checkpoint") : [];

    private string[] ModelFolders(string run) => Directory.Exists(Models(run))
        ? Directory.GetDirectories(Models(run)).Where(d => !d.EndsWith(".writing", StringComparison.Ordinal)).ToArray() : [];

    private (int Code, string Output) Train(string run, string killWhileWriting) =>
        MarrowProcess.Run(reference.Arguments(run), MarrowProcess.TrainingCommand,
                          new Dictionary<string, string> { [AtomicFile.KillWhileWritingVariable] = killWhileWriting });

    /// <summary>Starts the command and SIGKILLs it as soon as <paramref name="when"/> (given its output so far) says so.</summary>
    private string StartAndKill(string run, Func<string, bool> when)
    {
        var (p, output) = MarrowProcess.Start(reference.Arguments(run));
        using (p)
        {
            var clock = Stopwatch.StartNew();
            string text = "";
            while (!p.HasExited && clock.Elapsed < MarrowProcess.TrainingCommand)
            {
                lock (output) text = output.ToString();
                if (when(text)) break;
                Thread.Sleep(50);
            }
            Assert.False(p.HasExited, $"the run ended before the moment to kill it came:\n{text}");
            p.Kill(entireProcessTree: true); // SIGKILL: no finally block, no flush, as the OOM killer or a power cut
            p.WaitForExit();
            return text;
        }
    }

    private static int CheckpointEpochs(string checkpoint)
    {
        var (metadata, tensors) = Safetensors.Load(checkpoint);
        foreach (var t in tensors.Values) t.Dispose();
        using var json = JsonDocument.Parse(metadata[Trainer.CheckpointKey]);
        return json.RootElement.GetProperty("Epochs").GetInt32();
    }

    /// <summary>Every file a later run would read is whole: checkpoints load, cross-validation tables and splits parse,
    /// a model folder under its real name has every file and its weights load. Temp files are never read.</summary>
    private void AssertNothingHalfWritten(string run)
    {
        foreach (string c in Checkpoints(run)) Assert.InRange(CheckpointEpochs(c), 1, ReferenceTrainingRun.Epochs);
        foreach (string cv in Directory.Exists(Models(run)) ? Directory.GetFiles(Models(run), "cv-*.json") : [])
            using (JsonDocument.Parse(File.ReadAllText(cv))) { }
        foreach (string folder in ModelFolders(run))
            using (TrainedModel.Load(folder)) { }
        foreach (string split in Directory.GetFiles(reference.Phantom, "splits-*.csv"))
            Assert.EndsWith("\n", File.ReadAllText(split));
        Assert.False(Directory.Exists(Path.Combine(reference.Root, run, "out")), "the --out folder is written only by a finished run");
    }
}
