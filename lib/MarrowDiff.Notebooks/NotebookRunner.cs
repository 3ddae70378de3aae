using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using System.Text.Json;

namespace MarrowDiff.Notebooks;

/// <summary>A notebook stopped at a cell: which notebook, which cell, and what it threw.</summary>
public sealed class NotebookFailedException(string notebook, int cellNumber, int codeCellNumber, string cellSource, string error, string? executedCopy)
    : Exception($"{notebook}: cell {cellNumber} (code cell {codeCellNumber}) failed: {error}\n--- cell {cellNumber} ---\n{cellSource.TrimEnd()}\n---" +
                (executedCopy is null ? "" : $"\nexecuted copy up to the failing cell: {executedCopy}"))
{
    public string Notebook { get; } = notebook;
    public int CellNumber { get; } = cellNumber;
    public int CodeCellNumber { get; } = codeCellNumber;
    public string Error { get; } = error;
}

public sealed record NotebookResult(string Notebook, string ExecutedCopy, int CodeCells, TimeSpan Elapsed);

/// <summary>Where a notebook run is: for a console bar or a log line.</summary>
/// <param name="Message">Null when a cell starts; otherwise a progress line from inside the running cell (one per 10% of
/// each of its stages: MarrowDiff's <c>NotebookConsole</c>).</param>
public sealed record NotebookProgress(string Notebook, int CellNumber, int CodeCellNumber, int CodeCells, TimeSpan Elapsed, string? Message = null);

/// <summary>
/// Executes notebooks headlessly, one worker process per notebook (see <see cref="NotebookWorker"/>): cells in
/// order, stop at the first failing cell (<see cref="NotebookFailedException"/> names the notebook, the cell and
/// the exception), a per-cell timeout after which the worker is ended, and an executed nbformat-4 copy with
/// outputs and execution counts. Parameters follow papermill (see <see cref="NotebookParameters"/>).
/// </summary>
public sealed class NotebookRunner
{
    /// <summary>Longest a single cell may run before the notebook is stopped.</summary>
    public TimeSpan CellTimeout { get; init; } = TimeSpan.FromMinutes(20);

    /// <summary>Added to <see cref="CellTimeout"/> for the worker's start and its first code cell, which also load the
    /// runtime and compile with a cold C# scripting engine: seconds when idle, far more on a loaded 2-core machine,
    /// and not the cell's own time. Every later cell gets <see cref="CellTimeout"/> alone, counted from its start.</summary>
    public TimeSpan StartAllowance { get; init; } = TimeSpan.FromMinutes(2);

    public async Task<NotebookResult> RunAsync(string notebook, string executedCopy, IReadOnlyDictionary<string, string>? parameters = null,
                                               IProgress<NotebookProgress>? progress = null, CancellationToken cancel = default)
    {
        notebook = Path.GetFullPath(notebook);
        executedCopy = Path.GetFullPath(executedCopy);
        if (!File.Exists(notebook)) throw new FileNotFoundException($"{notebook}: notebook not found", notebook);
        // Validate parameters here, before a process is started, so a typo fails fast with a clear message.
        NotebookParameters.Inject(NotebookDocument.Load(notebook).Clone(executedCopy), parameters ?? new Dictionary<string, string>());

        string work = Directory.CreateTempSubdirectory("marrow-notebook-").FullName;
        try
        {
            string requestFile = Path.Combine(work, "request.json"), resultFile = Path.Combine(work, "result.json");
            File.WriteAllText(requestFile, JsonSerializer.Serialize(new WorkerRequest(notebook, executedCopy,
                new Dictionary<string, string>(parameters ?? new Dictionary<string, string>()), resultFile)));
            if (File.Exists(executedCopy)) File.Delete(executedCopy);

            using var process = new Process { StartInfo = WorkerStartInfo(requestFile) };
            var stderr = new System.Text.StringBuilder();
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
            var clock = Stopwatch.StartNew();
            process.Start();
            process.BeginErrorReadLine();

            int cell = 0, codeCell = 0, codeCells = 0;
            var cellClock = Stopwatch.StartNew();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            Task<string?> nextLine = process.StandardOutput.ReadLineAsync(stop.Token).AsTask();
            while (true)
            {
                TimeSpan limit = codeCell <= 1 ? CellTimeout + StartAllowance : CellTimeout;
                TimeSpan left = limit - cellClock.Elapsed;
                Task finished = await Task.WhenAny(nextLine, Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero, cancel));
                if (finished != nextLine)
                {
                    Kill(process);
                    cancel.ThrowIfCancellationRequested();
                    string message = $"did not finish within {limit.TotalSeconds:0} s (the cell timeout{(limit > CellTimeout ? ", with the worker's start allowance" : "")}); the notebook was stopped";
                    MarkTimedOut(executedCopy, cell, message);
                    throw new NotebookFailedException(notebook, cell, codeCell, CellSource(notebook, cell), message, File.Exists(executedCopy) ? executedCopy : null);
                }
                string? line = await nextLine;
                if (line is null) break;
                nextLine = process.StandardOutput.ReadLineAsync(stop.Token).AsTask();
                if (!line.StartsWith(NotebookWorker.ProtocolPrefix, StringComparison.Ordinal)) continue;
                if (line.StartsWith(NotebookWorker.ProgressPrefix, StringComparison.Ordinal))
                {
                    progress?.Report(new NotebookProgress(notebook, cell, codeCell, codeCells, clock.Elapsed, line[NotebookWorker.ProgressPrefix.Length..]));
                    continue;
                }
                string[] parts = line[NotebookWorker.ProtocolPrefix.Length..].Split(' ');
                if (parts[0] == "cell-start")
                {
                    cell = int.Parse(parts[1]); codeCell = int.Parse(parts[2]); codeCells = int.Parse(parts[3]);
                    cellClock.Restart();
                    progress?.Report(new NotebookProgress(notebook, cell, codeCell, codeCells, clock.Elapsed));
                }
            }
            await process.WaitForExitAsync(cancel);
            if (process.ExitCode == 3 && File.Exists(resultFile))
            {
                var failure = JsonSerializer.Deserialize<WorkerFailure>(File.ReadAllText(resultFile))!;
                throw new NotebookFailedException(notebook, failure.CellNumber, failure.CodeCellNumber, failure.CellSource, failure.Error, executedCopy);
            }
            if (process.ExitCode != 0)
                throw new NotebookFailedException(notebook, cell, codeCell, cell > 0 ? CellSource(notebook, cell) : "",
                    $"the notebook worker exited with code {process.ExitCode}: {stderr.ToString().Trim()}", File.Exists(executedCopy) ? executedCopy : null);
            return new NotebookResult(notebook, executedCopy, codeCells, clock.Elapsed);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>`dotnet MarrowDiff.Notebooks.dll worker request.json`, from wherever this assembly was loaded
    /// (the CLI's or the tests' output folder, which carry its runtimeconfig and deps files).</summary>
    private static ProcessStartInfo WorkerStartInfo(string requestFile)
    {
        string dll = typeof(NotebookRunner).Assembly.Location;
        string config = Path.ChangeExtension(dll, ".runtimeconfig.json");
        if (!File.Exists(config)) throw new FileNotFoundException($"{config} is missing: the notebook worker cannot start (rebuild the solution)");
        // The worker's stdin is a pipe the runner never writes to and holds open while it lives: when the runner ends in
        // any way (killed included), the worker reads end-of-file and stops (NotebookWorker.StopWhenTheRunnerIsGone).
        var psi = new ProcessStartInfo(DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("worker");
        psi.ArgumentList.Add(requestFile);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        return psi;
    }

    /// <summary>The dotnet host that runs this process (its runtime folder is shared/Microsoft.NETCore.App/&lt;version&gt;).</summary>
    private static string DotnetHost()
    {
        string exe = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        string root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        string candidate = Path.Combine(root, exe);
        return File.Exists(candidate) ? candidate : exe;
    }

    private static void Kill(Process process)
    {
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); process.WaitForExit(10_000); }
        catch (InvalidOperationException) { /* already gone */ }
    }

    private static string CellSource(string notebook, int cellNumber)
    {
        var cells = NotebookDocument.Load(notebook).Cells;
        return cellNumber >= 1 && cellNumber <= cells.Count ? NotebookDocument.Source(cells[cellNumber - 1]!) : "";
    }

    /// <summary>Puts the timeout into the executed copy as the hung cell's error output.</summary>
    private static void MarkTimedOut(string executedCopy, int cellNumber, string message)
    {
        if (!File.Exists(executedCopy) || cellNumber < 1) return;
        NotebookDocument doc = NotebookDocument.Load(executedCopy);
        // The copy may hold an injected-parameters cell the source lacks; find the cell by its position among originals.
        var originals = doc.Cells.Where(c => c is not null && !NotebookDocument.Tags(c).Contains(NotebookParameters.InjectedTag)).ToList();
        if (cellNumber > originals.Count) return;
        originals[cellNumber - 1]!["outputs"] = new JsonArray(new JsonObject
        {
            ["output_type"] = "error", ["ename"] = "TimeoutException", ["evalue"] = message, ["traceback"] = new JsonArray(),
        });
        doc.Save(executedCopy);
    }
}
