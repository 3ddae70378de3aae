using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MarrowDiff.Notebooks;

namespace MarrowDiff.Tests.Notebooks;

/// <summary>What an executed copy must hold to be read where no kernel runs (GitHub, an untrusted Jupyter): each
/// interactive chart followed by its static PNG, and no image at all in a cell whose images stay out of the project.</summary>
internal static partial class ReadableCopies
{
    [GeneratedRegex("^\\s*data\\s*=\\s*\"(?<v>[^\"]*)\"\\s*;", RegexOptions.Multiline)]
    private static partial Regex DataAssignment();

    /// <summary>The notebook's data parameter as it ran: the injected value, else the declared default.</summary>
    public static string? Data(NotebookDocument notebook)
    {
        JsonNode? injected = notebook.Cells.FirstOrDefault(c => c is not null && NotebookDocument.Tags(c).Contains(NotebookParameters.InjectedTag));
        if (injected is not null && DataAssignment().Match(NotebookDocument.Source(injected)) is { Success: true } m) return m.Groups["v"].Value;
        return NotebookParameters.Default(notebook, "data");
    }

    /// <summary>Asserts the rules; returns how many charts and how many left-out cells it saw.</summary>
    public static (int Charts, int CellsLeftOut) Check(string path)
    {
        NotebookDocument notebook = NotebookDocument.Load(path);
        string? data = Data(notebook);
        int charts = 0, leftOut = 0;
        foreach (JsonNode? cell in notebook.Cells)
        {
            if (cell is null || !NotebookDocument.IsCode(cell)) continue;
            var outputs = (cell["outputs"] as JsonArray ?? []).OfType<JsonObject>().ToList();
            string where = $"{Path.GetFileName(path)}, cell '{NotebookDocument.Source(cell).Trim().Split('\n')[^1]}'";
            if (NotebookOutputs.LeavesOutImages(NotebookDocument.Tags(cell), data))
            {
                if (outputs.Count > 0) leftOut++;
                foreach (JsonObject o in outputs)
                {
                    string json = o.ToJsonString();
                    Assert.False(json.Contains("data:image", StringComparison.Ordinal), $"{where}: an embedded image in a cell whose images stay out");
                    Assert.False(o["data"] is JsonObject d && d.Any(kv => kv.Key.StartsWith("image/", StringComparison.Ordinal)), $"{where}: an image output in a cell whose images stay out");
                }
            }
            for (int i = 0; i < outputs.Count; i++)
            {
                // A chart as written now: its static twin alone (the script, blank without JavaScript, dropped).
                if ((string?)outputs[i]["metadata"]?[NotebookOutputs.WrittenAs] == "static-twin" && outputs[i]["data"]?["image/png"] is not null) charts++;
                // As copies written before that were: the script, then its PNG.
                if (outputs[i]["data"]?["text/html"] is not JsonNode html || !html.ToJsonString().Contains("cdn.plot.ly", StringComparison.Ordinal)) continue;
                charts++;
                Assert.True(i + 1 < outputs.Count && outputs[i + 1]["data"]?["image/png"] is not null, $"{where}: a Plotly chart without its static PNG after it");
                Assert.DoesNotContain(NotebookOutputs.StaticTwinClass, html.ToJsonString(), StringComparison.Ordinal);
            }
        }
        return (charts, leftOut);
    }
}
