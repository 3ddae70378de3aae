namespace MarrowDiff.Core;

/// <summary>
/// Progress from inside a notebook cell to the console of <c>marrow notebooks</c>. A cell's own output goes to the
/// notebook (the kernel captures <c>Console.Out</c>), so a long training cell would look hung on the console that runs
/// it headlessly. The notebook worker sets <see cref="Variable"/>; then every report also goes, as one line per 10% of
/// each stage (as the CLI's own progress does on a log), to the process's real standard output in the worker's line
/// protocol, which the runner prints. Outside a worker (VS Code, a test) it does nothing.
/// </summary>
public static class NotebookConsole
{
    /// <summary>Set to 1 by the notebook worker in its own process.</summary>
    public const string Variable = "MarrowNotebookProgress";

    /// <summary>The worker protocol's prefix and this message's verb (MarrowDiff.Notebooks reads it; the two projects
    /// share no code, so the text is the contract).</summary>
    public const string Prefix = "@@marrow progress ";

    private static readonly Lazy<TextWriter?> Raw = new(() => Environment.GetEnvironmentVariable(Variable) == "1"
        ? TextWriter.Synchronized(new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true })
        : null);

    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, int> LastDecile = new(StringComparer.Ordinal);

    /// <summary>Relays <paramref name="value"/> when it starts a new tenth of its stage (its first and last reports
    /// always); thread-safe.</summary>
    public static void Report(WorkProgress value)
    {
        if (Raw.Value is not { } raw) return;
        lock (Gate)
        {
            int decile = value.Total == 0 ? 10 : value.Done * 10 / value.Total;
            if (LastDecile.TryGetValue(value.Stage, out int last) && decile == last) return;
            LastDecile[value.Stage] = decile;
            if (value.Done == value.Total) LastDecile.Remove(value.Stage);
            // One line: a stage name or detail never carries a newline into the protocol.
            raw.WriteLine(Prefix + value.ToString().ReplaceLineEndings(" "));
        }
    }

    /// <summary>A notebook's progress: <paramref name="show"/> (its updating display) at every report, and the console of
    /// <c>marrow notebooks</c> at every tenth. Called on the reporting thread.</summary>
    public static IProgress<WorkProgress> For(Action<string> show) => new Relay(show);

    private sealed class Relay(Action<string> show) : IProgress<WorkProgress>
    {
        public void Report(WorkProgress value)
        {
            show(value.ToString());
            NotebookConsole.Report(value);
        }
    }
}
