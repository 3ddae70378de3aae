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

    public static async Task<int> RunAsync(string requestPath)
    {
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
            string? error = Collect(result.Events, outputs, count);
            cell["outputs"] = NotebookOutputs.WithoutMachinePaths(
                NotebookOutputs.ForReaders(outputs, NotebookOutputs.LeavesOutImages(NotebookDocument.Tags(cell), data)), checkout);
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

    /// <summary>Turns kernel events into nbformat outputs; returns the error text when the cell failed.</summary>
    private static string? Collect(IReadOnlyList<KernelEvent> events, JsonArray outputs, int executionCount)
    {
        string? error = null;
        var displays = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        var unbound = new List<JsonObject>();
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
                    // In Microsoft.DotNet.Interactive 1.0.0-beta.26120.1 the update carries another id than the
                    // DisplayedValueProduced it updates, so an unknown id is bound to the latest display of the
                    // cell not yet bound to one; the notebook then keeps the final text of a progress display.
                    if (!displays.TryGetValue(id, out JsonObject? shown))
                    {
                        shown = unbound.LastOrDefault();
                        if (shown is null) break;
                        unbound.Remove(shown);
                        displays[id] = shown;
                    }
                    shown["data"] = Data(u.FormattedValues);
                    break;
                case ReturnValueProduced r:
                    outputs.Add(new JsonObject { ["output_type"] = "execute_result", ["execution_count"] = executionCount, ["data"] = Data(r.FormattedValues), ["metadata"] = new JsonObject() });
                    break;
                case DisplayedValueProduced d:
                    var display = new JsonObject { ["output_type"] = "display_data", ["data"] = Data(d.FormattedValues), ["metadata"] = new JsonObject() };
                    if (d.ValueId is { } valueId) { displays[valueId] = display; unbound.Add(display); }
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
