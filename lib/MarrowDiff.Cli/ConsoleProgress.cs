using MarrowDiff.Core;

namespace MarrowDiff.Cli;

/// <summary>A progress bar with ETA on a terminal (redrawn in place); on a log (CI, redirected output) one line
/// per 10% of each stage (a training run is one stage: its epoch and loss are the detail, not the stage), so logs
/// stay short and still show that work is moving.</summary>
public sealed class ConsoleProgress(TextWriter? writer = null, bool? redirected = null) : IProgress<WorkProgress>
{
    private readonly TextWriter _out = writer ?? Console.Out;
    private readonly bool _redirected = redirected ?? Console.IsOutputRedirected;
    private readonly Lock _gate = new();
    private int _lastDecile = -1;
    private string? _stage;

    public void Report(WorkProgress value)
    {
        lock (_gate)
        {
            if (value.Stage != _stage) { _stage = value.Stage; _lastDecile = -1; }
            if (!_redirected)
            {
                _out.Write("\r" + value + "   ");
                if (value.Done == value.Total) _out.WriteLine();
                return;
            }
            int decile = value.Total == 0 ? 10 : value.Done * 10 / value.Total;
            if (decile == _lastDecile) return;
            _lastDecile = decile;
            _out.WriteLine(value);
        }
    }
}
