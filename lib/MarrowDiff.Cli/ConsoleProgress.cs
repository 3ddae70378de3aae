using MarrowDiff.Phantom;

namespace MarrowDiff.Cli;

/// <summary>A progress bar with ETA on a terminal (redrawn in place); on a log (CI, redirected output) one line
/// per 10% so logs stay short and still show that work is moving.</summary>
internal sealed class ConsoleProgress : IProgress<WorkProgress>
{
    private readonly Lock _gate = new();
    private int _lastDecile = -1;
    private string? _stage;

    public void Report(WorkProgress value)
    {
        lock (_gate)
        {
            if (value.Stage != _stage) { _stage = value.Stage; _lastDecile = -1; }
            if (!Console.IsOutputRedirected)
            {
                Console.Write("\r" + value + "   ");
                if (value.Done == value.Total) Console.WriteLine();
                return;
            }
            int decile = value.Total == 0 ? 10 : value.Done * 10 / value.Total;
            if (decile == _lastDecile) return;
            _lastDecile = decile;
            Console.WriteLine(value);
        }
    }
}
