using System.Text.Json.Nodes;
using MarrowDiff.Notebooks;

namespace MarrowDiff.Tests.Notebooks;

public sealed class NotebookRunnerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("marrow-runner-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Notebook(string name, params (string Source, string[] Tags)[] cells)
    {
        var array = new JsonArray { new JsonObject { ["cell_type"] = "markdown", ["metadata"] = new JsonObject(), ["source"] = "# test" } };
        foreach (var (source, tags) in cells) array.Add(NotebookDocument.NewCodeCell(source, tags));
        var nb = new JsonObject { ["cells"] = array, ["metadata"] = new JsonObject(), ["nbformat"] = 4, ["nbformat_minor"] = 5 };
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, nb.ToJsonString());
        return path;
    }

    [Fact]
    public async Task Run_ThrowingCell_StopsAndNamesNotebookCellAndException()
    {
        string nb = Notebook("fails.ipynb",
            ("int x = 1;", []),
            ("throw new System.InvalidOperationException(\"boom from the test\");", []),
            ("System.IO.File.WriteAllText(\"never.txt\", \"ran\");", []));
        string copy = Path.Combine(_dir, "out", "fails.ipynb");

        var e = await Assert.ThrowsAsync<NotebookFailedException>(() => new NotebookRunner().RunAsync(nb, copy));

        Assert.Equal(3, e.CellNumber);        // cell 1 is markdown
        Assert.Equal(2, e.CodeCellNumber);
        Assert.Contains("fails.ipynb", e.Message);
        Assert.Contains("InvalidOperationException", e.Error);
        Assert.Contains("boom from the test", e.Error);
        Assert.False(File.Exists(Path.Combine(_dir, "never.txt")), "a cell after the failing one ran");
        JsonNode executed = JsonNode.Parse(File.ReadAllText(copy))!;
        Assert.Equal("error", executed["cells"]![2]!["outputs"]![0]!["output_type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Run_Parameters_AreInjectedAfterTheParametersCell_AndOutputsRecorded()
    {
        string nb = Notebook("params.ipynb",
            ("string profile = \"smoke\";\nint seed = 1;", ["parameters"]),
            ("System.IO.File.WriteAllText(\"seen.txt\", $\"{profile}/{seed}\");\nConsole.WriteLine(\"hello\");\nseed * 2", []));
        string copy = Path.Combine(_dir, "out", "params.ipynb");

        NotebookResult r = await new NotebookRunner().RunAsync(nb, copy, new Dictionary<string, string> { ["profile"] = "paper", ["seed"] = "21" });

        Assert.Equal("paper/21", File.ReadAllText(Path.Combine(_dir, "seen.txt"))); // the notebook's folder is the current directory
        Assert.Equal(3, r.CodeCells);
        JsonArray cells = JsonNode.Parse(File.ReadAllText(copy))!["cells"]!.AsArray();
        Assert.Contains("injected-parameters", NotebookDocument.Tags(cells[2]!));
        JsonArray outputs = cells[3]!["outputs"]!.AsArray();
        Assert.Contains(outputs, o => o!["output_type"]!.GetValue<string>() == "stream" && o["text"]!.ToJsonString().Contains("hello"));
        JsonNode result = Assert.Single(outputs, o => o!["output_type"]!.GetValue<string>() == "execute_result")!;
        Assert.Equal(3, result["execution_count"]!.GetValue<int>());
        Assert.Contains("42", result["data"]!.ToJsonString());
    }

    [Fact]
    public async Task Run_UnknownParameterOrBadValue_FailsBeforeAnyCellRuns()
    {
        string nb = Notebook("p.ipynb", ("int seed = 1;", ["parameters"]), ("System.IO.File.WriteAllText(\"ran.txt\", \"x\");", []));
        var unknown = await Assert.ThrowsAsync<ArgumentException>(() => new NotebookRunner().RunAsync(nb, Path.Combine(_dir, "o.ipynb"), new Dictionary<string, string> { ["sed"] = "1" }));
        Assert.Contains("no parameter 'sed'", unknown.Message);
        var bad = await Assert.ThrowsAsync<ArgumentException>(() => new NotebookRunner().RunAsync(nb, Path.Combine(_dir, "o.ipynb"), new Dictionary<string, string> { ["seed"] = "abc" }));
        Assert.Contains("not a whole number", bad.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "ran.txt")));
    }

    /// <summary>A status line one cell shows and a later cell updates (notebook 04's training line) is written with its
    /// final text, in the cell that showed it; a cell's own display takes its own updates.</summary>
    [Fact]
    public async Task ADisplayUpdatedByALaterCell_IsWrittenWithItsFinalText()
    {
        string nb = Notebook("status.ipynb",
            ("var status = display(\"training …\");", []),
            ("int x = 1;", []),
            ("var own = display(\"reading …\");\nown.Update(\"read 3 files\");", []),
            ("status.Update(\"trained 6 models\");", []));
        string copy = Path.Combine(_dir, "out", "status.ipynb");
        await new NotebookRunner().RunAsync(nb, copy);

        JsonArray cells = JsonNode.Parse(File.ReadAllText(copy))!["cells"]!.AsArray();
        string Shown(int at) => string.Concat(cells[at]!["outputs"]!.AsArray().Select(o => o!["data"]?["text/plain"]?.ToJsonString() ?? ""));
        Assert.Contains("trained 6 models", Shown(1));
        Assert.DoesNotContain("training …", Shown(1));
        Assert.Contains("read 3 files", Shown(3));
        Assert.DoesNotContain("trained", Shown(3));
        Assert.Empty(cells[4]!["outputs"]!.AsArray());
    }

    /// <summary>A long cell's progress reaches the runner (and so the console of `marrow notebooks`): one line per tenth
    /// of each stage, in order, tagged with the cell; nothing of it is left in the cell's own output.</summary>
    [Fact]
    public async Task ProgressInsideACell_ReachesTheRunner_OneLineATenth()
    {
        string library = typeof(MarrowDiff.Core.WorkProgress).Assembly.Location;
        string nb = Notebook("progress.ipynb", ("int x = 1;", []), (
            $"#r \"{library}\"\n" +
            "var p = MarrowDiff.Core.NotebookConsole.For(_ => { });\n" +
            "for (int i = 1; i <= 200; i++) p.Report(new MarrowDiff.Core.WorkProgress(\"training AG+OS60\", i, 200, System.TimeSpan.FromSeconds(i)));", []));
        var lines = new List<NotebookProgress>();
        await new NotebookRunner().RunAsync(nb, Path.Combine(_dir, "out", "progress.ipynb"), progress: new Collect(lines));

        var inside = lines.Where(l => l.Message is not null).ToList();
        Assert.Equal(11, inside.Count); // the first report, then 20, 40, …, 200 of 200: a line at each new tenth
        Assert.All(inside, l => Assert.Equal(3, l.CellNumber));
        Assert.StartsWith("training AG+OS60", inside[0].Message);
        Assert.Contains("200/200", inside[^1].Message);
        Assert.Contains(lines, l => l.Message is null && l.CellNumber == 3); // the cell's own start line came first
        Assert.True(lines.FindIndex(l => l.Message is null && l.CellNumber == 3) < lines.IndexOf(inside[0]));
    }

    private sealed class Collect(List<NotebookProgress> into) : IProgress<NotebookProgress>
    {
        public void Report(NotebookProgress value) { lock (into) into.Add(value); }
    }

    [Fact]
    public async Task Run_HangingCell_IsStoppedAfterTheCellTimeout()
    {
        string nb = Notebook("hangs.ipynb", ("int x = 1;", []), ("System.Threading.Thread.Sleep(System.Threading.Timeout.Infinite);", []));
        var runner = new NotebookRunner { CellTimeout = TimeSpan.FromSeconds(20) };
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<NotebookFailedException>(() => runner.RunAsync(nb, Path.Combine(_dir, "out", "hangs.ipynb")));

        Assert.Equal(3, e.CellNumber);
        Assert.Contains("did not finish within 20 s", e.Error);
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(5), $"took {clock.Elapsed}: the timeout did not stop the cell"); // a hang guard
    }

    /// <summary>`marrow notebooks --cell-timeout` on a cell that sleeps forever: the command fails naming the notebook
    /// and the cell, and the worker process that ran the cell (its id written by the first cell) is gone.</summary>
    [Fact]
    public void CellTimeout_OnTheCommandLine_NamesNotebookAndCell_AndLeavesNoWorkerBehind()
    {
        string pidFile = Path.Combine(_dir, "worker.pid");
        string nb = Notebook("sleeps.ipynb",
            ($"System.IO.File.WriteAllText(@\"{pidFile}\", System.Environment.ProcessId.ToString());", []),
            ("System.Threading.Thread.Sleep(System.Threading.Timeout.Infinite);", []));
        var (code, output) = MarrowProcess.Run(["notebooks", nb, "--cell-timeout", "15", "--out", Path.Combine(_dir, "out")], MarrowProcess.ShortCommand);
        Assert.True(code == 1, output);
        Assert.Contains("sleeps.ipynb: cell 3 (code cell 2) failed: did not finish within 15 s", output);
        Assert.Contains("Thread.Sleep", output); // the hung cell's source is shown

        int worker = int.Parse(File.ReadAllText(pidFile));
        Assert.NotEqual(Environment.ProcessId, worker);
        Assert.False(Directory.Exists($"/proc/{worker}") && !File.ReadAllText($"/proc/{worker}/stat").Contains(") Z ", StringComparison.Ordinal),
                     $"the worker {worker} that ran the hung cell is still running");
    }

    /// <summary>A runner killed outright (no chance to clean up) leaves no worker behind: the worker sees its stdin pipe
    /// close and stops, instead of running its cell on, unseen.</summary>
    [Fact]
    public void AKilledRunner_LeavesNoWorkerBehind()
    {
        string pidFile = Path.Combine(_dir, "killed-worker.pid");
        string nb = Notebook("runs-on.ipynb",
            ($"System.IO.File.WriteAllText(@\"{pidFile}\", System.Environment.ProcessId.ToString());", []),
            ("System.Threading.Thread.Sleep(System.Threading.Timeout.Infinite);", []));
        var (runner, output) = MarrowProcess.Start(["notebooks", nb, "--out", Path.Combine(_dir, "killed-out")]);
        using (runner)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!File.Exists(pidFile) && clock.Elapsed < TimeSpan.FromMinutes(5) && !runner.HasExited) Thread.Sleep(200);
            Assert.True(File.Exists(pidFile), $"the worker never ran its first cell:\n{output}");
            Thread.Sleep(500); // the pid is written; let the worker reach the sleeping cell
            runner.Kill(entireProcessTree: false); // SIGKILL to the runner alone, as a user's kill -9 or a lost terminal
            runner.WaitForExit();
        }
        int worker = int.Parse(File.ReadAllText(pidFile));
        bool Alive() => Directory.Exists($"/proc/{worker}") && !File.ReadAllText($"/proc/{worker}/stat").Contains(") Z ", StringComparison.Ordinal);
        var wait = System.Diagnostics.Stopwatch.StartNew();
        while (Alive() && wait.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(200);
        bool alive = Alive();
        if (alive) System.Diagnostics.Process.GetProcessById(worker).Kill();
        Assert.False(alive, $"the worker {worker} kept running 30 s after its runner was killed");
    }
}
