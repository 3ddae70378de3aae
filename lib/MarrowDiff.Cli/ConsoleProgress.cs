using MarrowDiff.Core;

namespace MarrowDiff.Cli;

/// <summary>A progress bar with ETA on a terminal (redrawn in place); on a log (CI, redirected output) one line
/// per 10% of each stage (a training run is one stage: its epoch and loss are the detail, not the stage), so logs
/// stay short and still show that work is moving. Stages may run at once (models trained side by side): each keeps
/// its own tenths on a log, and a terminal line shows every unfinished one.</summary>
public sealed class ConsoleProgress(TextWriter? writer = null, bool? redirected = null) : IProgress<WorkProgress>
{
    private readonly TextWriter _out = writer ?? Console.Out;
    private readonly bool _redirected = redirected ?? Console.IsOutputRedirected;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _lastDecile = new(StringComparer.Ordinal);
    private readonly RunningStages _running = new(); // terminal only

    public void Report(WorkProgress value)
    {
        lock (_gate)
        {
            bool done = value.Done == value.Total;
            if (!_redirected)
            {
                IReadOnlyList<WorkProgress> running = _running.Update(value);
                if (done)
                {
                    // A finished stage keeps its full bar on a line of its own; the others redraw at their next report.
                    _out.Write("\r" + value + "   ");
                    _out.WriteLine();
                    return;
                }
                // One stage: its full bar. Several: each one's share and ETA, on one line.
                string line = running.Count == 1 ? value.ToString() : string.Join(" | ", running.Select(Short));
                _out.Write("\r" + line + "   ");
                return;
            }
            int decile = value.Total == 0 ? 10 : value.Done * 10 / value.Total;
            if (_lastDecile.TryGetValue(value.Stage, out int last) && decile == last) return;
            _lastDecile[value.Stage] = decile;
            if (done) _lastDecile.Remove(value.Stage); // a stage run again later starts its tenths afresh
            _out.WriteLine(value);
        }
    }

    private static string Short(WorkProgress p) =>
        $"{p.Stage} {(p.Total == 0 ? 100 : p.Done * 100 / p.Total)}%" + (p.Remaining is { } r ? $" ETA {r:m\\:ss}" : "");
}
