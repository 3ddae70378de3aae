using MarrowDiff.Core;

namespace MarrowDiff.Training;

/// <summary>
/// Training progress for a notebook display: the latest report of every model still training, one line each, handed to
/// <paramref name="show"/> at every report. Models trained side by side (<see cref="Experiments.ExperimentProfile.SideBySide"/>)
/// report in turn; <see cref="RunningStages"/> keeps one line a model so the display does not flip between them.
/// Safe to call from several threads.
/// </summary>
public sealed class TrainingBoard(Action<string> show) : IProgress<TrainingProgress>
{
    private readonly Lock _gate = new();
    private readonly RunningStages _running = new();

    public void Report(TrainingProgress value)
    {
        // A model is a stage: its last step (epoch = epochs, step = steps per epoch) is its stage's Done = Total.
        var work = value.AsWork();
        lock (_gate) show(string.Join("\n", _running.Update(work)));
        NotebookConsole.Report(work);
    }
}
