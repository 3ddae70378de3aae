using System.Text.Json.Nodes;
using System.Text.Json;

namespace MarrowDiff.Notebooks;

/// <summary>An .ipynb file (nbformat 4) kept as JSON, so that everything the runner does not touch (metadata,
/// markdown, attachments) is written back unchanged.</summary>
public sealed class NotebookDocument
{
    private readonly JsonObject _root;

    private NotebookDocument(JsonObject root, string path) { _root = root; Path = path; }

    public string Path { get; }

    public JsonArray Cells => _root["cells"] as JsonArray ?? throw new InvalidDataException($"{Path}: no 'cells' array");

    public static NotebookDocument Load(string path)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid notebook (JSON error: {e.Message})", e); }
        if (node is not JsonObject root || root["nbformat"]?.GetValue<int>() != 4 || root["cells"] is not JsonArray)
            throw new InvalidDataException($"{path}: not an nbformat 4 notebook");
        return new NotebookDocument(root, path);
    }

    public static string Source(JsonNode cell) => Text(cell["source"]);

    /// <summary>nbformat text, stored either as one string or as a list of lines (<see cref="SourceLines"/>).</summary>
    public static string Text(JsonNode? node) => node switch
    {
        JsonArray lines => string.Concat(lines.Select(l => l?.GetValue<string>())),
        JsonValue v => v.GetValue<string>(),
        _ => "",
    };

    public static bool IsCode(JsonNode cell) => cell["cell_type"]?.GetValue<string>() == "code";

    public static IEnumerable<string> Tags(JsonNode cell) =>
        (cell["metadata"]?["tags"] as JsonArray)?.Select(t => t?.GetValue<string>() ?? "") ?? [];

    /// <summary>Kernel of a Polyglot Notebooks cell ("csharp" unless the cell says otherwise).</summary>
    public static string KernelName(JsonNode cell) =>
        cell["metadata"]?["polyglot_notebook"]?["kernelName"]?.GetValue<string>()
        ?? cell["metadata"]?["dotnet_interactive"]?["language"]?.GetValue<string>()
        ?? "csharp";

    public static JsonObject NewCodeCell(string source, params string[] tags) => new()
    {
        ["cell_type"] = "code",
        ["execution_count"] = null,
        ["metadata"] = new JsonObject
        {
            ["tags"] = new JsonArray(tags.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
            ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" },
        },
        ["outputs"] = new JsonArray(),
        ["source"] = SourceLines(source),
    };

    /// <summary>nbformat stores text as a list of lines, each but the last ending in \n.</summary>
    public static JsonArray SourceLines(string text)
    {
        var lines = new JsonArray();
        int start = 0;
        for (int i = 0; i < text.Length; i++)
            if (text[i] == '\n') { lines.Add(text[start..(i + 1)]); start = i + 1; }
        if (start < text.Length) lines.Add(text[start..]);
        return lines;
    }

    /// <summary>Writes atomically (temp file + rename). The same idea as MarrowDiff's AtomicFile, repeated on
    /// purpose: the runner does not reference the core library, so the notebook worker never loads libtorch.</summary>
    public void Save(string path)
    {
        string json = _root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        string full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        string temp = full + $".{Environment.ProcessId}.marrowdiff-tmp";
        File.WriteAllText(temp, json + "\n");
        File.Move(temp, full, overwrite: true);
    }

    public NotebookDocument Clone(string path) => new((JsonObject)_root.DeepClone(), path);
}
