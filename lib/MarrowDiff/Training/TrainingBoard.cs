namespace MarrowDiff.Training;

/// <summary>
/// Training progress for a notebook display: the latest report of every model still training, one line each, handed to
/// <paramref name="show"/> at every report. Models trained side by side (<see cref="Experiments.ExperimentProfile.SideBySide"/>)
/// report in turn; one line for the latest report alone would flip between them. Safe to call from several threads.
/// </summary>
public sealed class TrainingBoard(Action<string> show) : IProgress<TrainingProgress>
{
    private readonly Lock _gate = new();
    // Models still training, in the order they started, with their latest report.
    private readonly List<TrainingProgress> _running = [];

    public void Report(TrainingProgress value)
    {
        string text;
        lock (_gate)
        {
            int at = _running.FindIndex(p => p.Model == value.Model);
            if (at < 0) _running.Add(value); else _running[at] = value;
            text = string.Join("\n", _running);
            if (value.Epoch == value.Epochs && value.Step == value.StepsPerEpoch) _running.RemoveAt(at < 0 ? _running.Count - 1 : at);
            show(text);
        }
    }
}
