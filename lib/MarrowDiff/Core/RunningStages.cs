namespace MarrowDiff.Core;

/// <summary>
/// The latest report of every stage still running, in the order the stages started. Stages that run at once (models
/// trained side by side) report in turn; a display that showed the latest report alone would flip between them, so
/// the console bar and the notebook's training display both draw from this instead. Not thread-safe: callers report
/// under their own lock, which also keeps their output in the order of the reports.
/// </summary>
public sealed class RunningStages
{
    private readonly List<WorkProgress> _running = [];

    /// <summary>
    /// Records <paramref name="value"/> as its stage's latest report and returns every running stage's latest report,
    /// this one included even when it is its stage's last (so a display shows the finished bar once). A finished
    /// stage (Done = Total) is then dropped: the same stage run again later starts a new line at the end.
    /// </summary>
    public IReadOnlyList<WorkProgress> Update(WorkProgress value)
    {
        int at = _running.FindIndex(p => p.Stage == value.Stage);
        if (at < 0) _running.Add(value); else _running[at] = value;
        WorkProgress[] shown = [.. _running];
        if (value.Done == value.Total) _running.RemoveAll(p => p.Stage == value.Stage);
        return shown;
    }
}
