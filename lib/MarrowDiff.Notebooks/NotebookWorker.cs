using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json.Nodes;
using System.Text.Json;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.PackageManagement;
using Microsoft.DotNet.Interactive;

namespace MarrowDiff.Notebooks;

/// <summary>What the parent asks a worker to do (written as JSON, passed by path).</summary>
public sealed record WorkerRequest(string Notebook, string Output, Dictionary<string, string> Parameters, string ResultFile);

/// <summary>How a worker ended, when a cell failed.</summary>
public sealed record WorkerFailure(int CellNumber, int CodeCellNumber, string CellSource, string Error);

/// <summary>
/// Runs inside the worker process: one C# kernel with <c>#r "nuget:"</c> and interactive extensions (the
/// <c>interactive-extensions/dotnet</c> folder of a package, how Plotly.NET.Interactive registers its chart
/// formatter), cells in order, the notebook's folder as current directory. After every cell the executed
/// copy is written (atomically), so even a killed worker leaves a readable notebook up to the cell it was on.
/// Progress goes to the parent on the process's real stdout as lines <c>@@marrow …</c>.
/// </summary>
internal static class NotebookWorker
{
    public const string ProtocolPrefix = "@@marrow ";

    /// <summary>A progress line a cell's library code writes (MarrowDiff's <c>NotebookConsole.Prefix</c>: the text is
    /// the contract, the projects share no code).</summary>
    public const string ProgressPrefix = ProtocolPrefix + "progress ";

    /// <summary>Set in the worker's own environment so that MarrowDiff's <c>NotebookConsole</c> relays progress.</summary>
    public const string ProgressVariable = "MarrowNotebookProgress";

    /// <summary>The exit code of a worker whose runner is gone.</summary>
    public const int RunnerGone = 4;

    /// <summary>
    /// Ends this process when its runner is gone. The runner starts the worker with a stdin pipe it never writes to; the
    /// pipe closes only when the runner ends, killed or not, and the worker then reads end-of-file. Without this a
    /// killed <c>marrow notebooks</c> left its worker training on, unseen, taking the CPU from whatever ran next.
    /// </summary>
    private static void StopWhenTheRunnerIsGone()
    {
        var thread = new Thread(() =>
        {
            using var stdin = Console.OpenStandardInput();
            var buffer = new byte[64];
            try { while (stdin.Read(buffer, 0, buffer.Length) > 0) { } }
            catch (IOException) { }
            Environment.Exit(RunnerGone);
        }) { IsBackground = true, Name = "runner watch" };
        thread.Start();
    }

    public static async Task<int> RunAsync(string requestPath)
    {
        StopWhenTheRunnerIsGone();
        // Cells' Console output is captured by the kernel; the protocol writes to the raw stream instead.
        var protocol = TextWriter.Synchronized(new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true });
        Environment.SetEnvironmentVariable(ProgressVariable, "1");
        var request = JsonSerializer.Deserialize<WorkerRequest>(File.ReadAllText(requestPath))!;
        NotebookDocument notebook = NotebookDocument.Load(request.Notebook).Clone(request.Output);
        string? data = request.Parameters.TryGetValue("data", out string? given) ? given : NotebookParameters.Default(notebook, "data");
        NotebookParameters.Inject(notebook, request.Parameters);
        Environment.CurrentDirectory = Path.GetDirectoryName(Path.GetFullPath(request.Notebook))!;
        string checkout = NotebookOutputs.CheckoutOf(request.Notebook);

        using CompositeKernel kernel = CreateKernel();
        var displays = new Displays();
        var raw = new Dictionary<int, JsonArray>(); // each run cell's outputs as the kernel gave them: an update may reach back
        int count = 0, codeCount = 0, original = 0, total = notebook.Cells.Count(c => c is not null && NotebookDocument.IsCode(c));
        for (int i = 0; i < notebook.Cells.Count; i++)
        {
            JsonNode cell = notebook.Cells[i]!;
            // Cell numbers in messages are those of the notebook as written: the injected cell does not shift them.
            bool injected = NotebookDocument.Tags(cell).Contains(NotebookParameters.InjectedTag);
            if (!injected) original++;
            if (!NotebookDocument.IsCode(cell)) continue;
            codeCount++;
            string source = NotebookDocument.Source(cell);
            protocol.WriteLine($"{ProtocolPrefix}cell-start {original} {codeCount} {total}");
            var outputs = new JsonArray();
            cell["outputs"] = outputs;
            cell["execution_count"] = ++count;

            KernelCommandResult result = await kernel.SendAsync(new SubmitCode(source, NotebookDocument.KernelName(cell)));
            string? error = Collect(result.Events, outputs, count, i, displays, out IReadOnlySet<int> updatedEarlier);
            raw[i] = outputs;
            JsonArray Written(int at) => NotebookOutputs.WithoutMachinePaths(
                NotebookOutputs.ForReaders(raw[at], NotebookOutputs.LeavesOutImages(NotebookDocument.Tags(notebook.Cells[at]!), data)), checkout);
            cell["outputs"] = Written(i);
            foreach (int earlier in updatedEarlier) notebook.Cells[earlier]!["outputs"] = Written(earlier);
            notebook.Save(request.Output);
            if (error is not null)
            {
                File.WriteAllText(request.ResultFile, JsonSerializer.Serialize(new WorkerFailure(original, codeCount, source, error)));
                protocol.WriteLine($"{ProtocolPrefix}cell-failed {original}");
                return 3;
            }
            protocol.WriteLine($"{ProtocolPrefix}cell-end {original}");
        }
        return 0;
    }

    private static CompositeKernel CreateKernel()
    {
        var csharp = new CSharpKernel()
            .UseNugetDirective((k, packages) => LoadExtensionsAsync(k, packages))
            .UseKernelHelpers()
            .UseValueSharing();
        var composite = new CompositeKernel { csharp };
        composite.DefaultKernelName = csharp.Name;
        return composite;
    }

    private static readonly HashSet<string> LoadedExtensions = new(StringComparer.Ordinal);

    /// <summary>Loads IKernelExtension types from each restored package's interactive-extensions/dotnet folder.</summary>
    private static async Task LoadExtensionsAsync(Kernel kernel, IReadOnlyList<ResolvedPackageReference> packages)
    {
        foreach (ResolvedPackageReference package in packages)
        {
            string dir = Path.Combine(package.PackageRoot, "interactive-extensions", "dotnet");
            if (!Directory.Exists(dir)) continue;
            foreach (string dll in Directory.GetFiles(dir, "*.dll"))
            {
                if (!LoadedExtensions.Add(AssemblyName.GetAssemblyName(dll).FullName)) continue;
                Assembly assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(dll);
                foreach (Type type in assembly.GetExportedTypes().Where(t => !t.IsAbstract && typeof(IKernelExtension).IsAssignableFrom(t)))
                    if (Activator.CreateInstance(type) is IKernelExtension extension)
                        await extension.OnLoadAsync(kernel.RootKernel);
            }
        }
    }

    /// <summary>The displays of the notebook so far, for the updates that change them. In Microsoft.DotNet.Interactive
    /// 1.0.0-beta.26120.1 an update carries another id than the DisplayedValueProduced it updates, so an unknown id is bound
    /// to the latest display not yet bound to one: this cell's, or, when the cell shows none of its own, an earlier
    /// cell's (a status line one cell shows and the training of later cells updates, as notebook 04's). The written
    /// copy then keeps the final text of every progress display, never its first.</summary>
    private sealed class Displays
    {
        private readonly Dictionary<string, (int Cell, JsonObject Shown)> _byId = new(StringComparer.Ordinal);
        private readonly List<(int Cell, JsonObject Shown)> _unbound = [];

        public void Produced(string? id, int cell, JsonObject shown)
        {
            if (id is null) return; // nothing can update it
            _byId[id] = (cell, shown);
            _unbound.Add((cell, shown));
        }

        public (int Cell, JsonObject Shown)? Updated(string id)
        {
            if (_byId.TryGetValue(id, out var known)) return known;
            if (_unbound.Count == 0) return null;
            var latest = _unbound[^1];
            _unbound.RemoveAt(_unbound.Count - 1);
            _byId[id] = latest;
            return latest;
        }
    }

    /// <summary>Turns kernel events into nbformat outputs; returns the error text when the cell failed, and in
    /// <paramref name="updatedEarlier"/> the earlier cells whose displays this cell's updates changed.</summary>
    private static string? Collect(IReadOnlyList<KernelEvent> events, JsonArray outputs, int executionCount, int cell, Displays displays,
                                   out IReadOnlySet<int> updatedEarlier)
    {
        string? error = null;
        var earlier = new HashSet<int>();
        updatedEarlier = earlier;
        foreach (KernelEvent e in events)
        {
            switch (e)
            {
                case StandardOutputValueProduced o:
                    AppendStream(outputs, "stdout", o.FormattedValues.FirstOrDefault()?.Value ?? "");
                    break;
                case StandardErrorValueProduced o:
                    AppendStream(outputs, "stderr", o.FormattedValues.FirstOrDefault()?.Value ?? "");
                    break;
                case DisplayedValueUpdated u when u.ValueId is { } id:
                    if (displays.Updated(id) is not { } target) break;
                    target.Shown["data"] = Data(u.FormattedValues);
                    if (target.Cell != cell) earlier.Add(target.Cell);
                    break;
                case ReturnValueProduced r:
                    outputs.Add(new JsonObject { ["output_type"] = "execute_result", ["execution_count"] = executionCount, ["data"] = Data(r.FormattedValues), ["metadata"] = new JsonObject() });
                    break;
                case DisplayedValueProduced d:
                    var display = new JsonObject { ["output_type"] = "display_data", ["data"] = Data(d.FormattedValues), ["metadata"] = new JsonObject() };
                    displays.Produced(d.ValueId, cell, display);
                    outputs.Add(display);
                    break;
                case ErrorProduced p when e is not CommandFailed:
                    outputs.Add(ErrorOutput("Error", p.Message, []));
                    break;
                case CommandFailed f:
                    error = f.Exception is { } ex ? $"{ex.GetType().FullName}: {ex.Message}" : f.Message;
                    outputs.Add(ErrorOutput(f.Exception?.GetType().Name ?? "Error", error, (f.Exception?.ToString() ?? f.Message).Split('\n')));
                    break;
            }
        }
        return error;
    }

    private static void AppendStream(JsonArray outputs, string name, string text)
    {
        if (outputs.LastOrDefault() is JsonObject last && last["output_type"]?.GetValue<string>() == "stream" && last["name"]?.GetValue<string>() == name)
            ((JsonArray)last["text"]!).Add(text);
        else
            outputs.Add(new JsonObject { ["output_type"] = "stream", ["name"] = name, ["text"] = new JsonArray(text) });
    }

    private static JsonObject Data(IReadOnlyCollection<Microsoft.DotNet.Interactive.Formatting.FormattedValue> values)
    {
        var data = new JsonObject();
        foreach (var v in values.Where(v => !v.SuppressDisplay)) data[v.MimeType] = NotebookDocument.SourceLines(v.Value);
        return data;
    }

    private static JsonObject ErrorOutput(string name, string message, IEnumerable<string> traceback) => new()
    {
        ["output_type"] = "error",
        ["ename"] = name,
        ["evalue"] = message,
        ["traceback"] = new JsonArray(traceback.Select(t => (JsonNode)JsonValue.Create(t.TrimEnd('\r'))!).ToArray()),
    };
}
