using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MarrowDiff.Notebooks;

/// <summary>
/// Makes a cell's outputs readable where no kernel runs. GitHub and an untrusted Jupyter run no JavaScript (a Plotly
/// chart is blank there) and do not all show a data URI inside HTML, but every viewer shows an <c>image/png</c> output.
/// So each figure MarrowDiff marks in its HTML (its figure class, or a chart's hidden static twin) is written as an
/// image output of its own, beside what remains of the HTML. The classes are the contract with MarrowDiff's
/// <c>Figures</c>: the projects share no code.
/// </summary>
public static partial class NotebookOutputs
{
    public const string FigureClass = "marrow-figure";
    public const string StaticTwinClass = "marrow-static-twin";

    /// <summary>A cell tag: the cell's outputs show real cell images, which stay out of the written copy, so that a
    /// committed executed notebook never copies the images of <c>../shared</c> into the project.</summary>
    public const string RealImagesTag = "real-images";

    /// <summary>A cell tag: the cell shows images of the notebook's <c>data</c>, which are real images (and left out
    /// as with <see cref="RealImagesTag"/>) unless the data is the synthetic phantom.</summary>
    public const string CellImagesTag = "cell-images";

    /// <summary>Whether a cell's images stay out of the written copy, given the notebook's data parameter.</summary>
    public static bool LeavesOutImages(IEnumerable<string> tags, string? data)
    {
        var set = tags.ToHashSet(StringComparer.Ordinal);
        return set.Contains(RealImagesTag) || (set.Contains(CellImagesTag) && !string.Equals(data, "phantom", StringComparison.Ordinal));
    }

    /// <summary>What a left-out output says in place of its images (once an output, with how many were there).</summary>
    public const string LeftOut = "left out of this written copy: the images stay outside the project";

    /// <summary>The placeholder for the <paramref name="images"/> real-cell images of one output.</summary>
    public static string LeftOutPlaceholder(int images) =>
        $"[{(images == 1 ? "an image" : $"{images} images")} of real cells, {LeftOut}; run the notebook to see {(images == 1 ? "it" : "them")}]";

    /// <summary>The metadata key an image output written from a mark carries: <c>static-twin</c> for a chart's PNG,
    /// <c>figure</c> for a figure; readers and tests tell a chart from a figure by it.</summary>
    public const string WrittenAs = "marrow";

    [GeneratedRegex("<img\\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex ImageElement();

    [GeneratedRegex("src=\"data:(image/(?:png|jpeg));base64,([A-Za-z0-9+/=]+)\"")]
    private static partial Regex DataUri();

    [GeneratedRegex("class=\"([^\"]*)\"")]
    private static partial Regex ClassAttribute();

    [GeneratedRegex("alt=\"([^\"]*)\"")]
    private static partial Regex AltAttribute();

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex AnyTag();

    [GeneratedRegex("<script\\b[^>]*>[\\s\\S]*?</script>", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptElement();

    /// <summary>The outputs as written to an executed copy: marked figures as image outputs after the output that held
    /// them (which is dropped if nothing else was in it). A chart's script, blank wherever no JavaScript runs (GitHub),
    /// is dropped once its static twin is written: the notebook itself draws the interactive chart. With
    /// <paramref name="realImages"/>, an output's embedded images are replaced by one <see cref="LeftOutPlaceholder"/>
    /// saying how many there were.</summary>
    public static JsonArray ForReaders(JsonArray outputs, bool realImages)
    {
        var written = new JsonArray();
        foreach (JsonNode? node in outputs)
        {
            if (node is not JsonObject output) continue;
            var copy = (JsonObject)output.DeepClone();
            if (copy["data"] is not JsonObject data) { written.Add(copy); continue; }
            if (realImages)
                foreach (string mime in data.Select(kv => kv.Key).Where(k => k.StartsWith("image/", StringComparison.Ordinal)).ToList())
                    data.Remove(mime);
            if (data["text/html"] is not JsonNode htmlNode) { written.Add(copy); continue; }

            var figures = new List<JsonObject>();
            int leftOut = 0, twins = 0;
            string html = ImageElement().Replace(NotebookDocument.Text(htmlNode), m =>
            {
                Match uri = DataUri().Match(m.Value);
                if (!uri.Success) return m.Value;
                // One placeholder an output (a gallery of 60 cells says so once), where its first image was.
                if (realImages) return leftOut++ == 0 ? LeftOutMark : "";
                string[] classes = ClassAttribute().Match(m.Value) is { Success: true } c ? c.Groups[1].Value.Split(' ') : [];
                bool twin = classes.Contains(StaticTwinClass);
                if (!classes.Contains(FigureClass) && !twin) return m.Value;
                if (twin) twins++;
                string alt = AltAttribute().Match(m.Value) is { Success: true } a ? WebUtility.HtmlDecode(a.Groups[1].Value) : "figure";
                figures.Add(new JsonObject
                {
                    ["output_type"] = "display_data",
                    ["data"] = new JsonObject { [uri.Groups[1].Value] = uri.Groups[2].Value, ["text/plain"] = new JsonArray(alt) },
                    ["metadata"] = new JsonObject { [WrittenAs] = twin ? "static-twin" : "figure" },
                });
                return "";
            });
            if (leftOut > 0) html = html.Replace(LeftOutMark, $"<p><i>{WebUtility.HtmlEncode(LeftOutPlaceholder(leftOut))}</i></p>", StringComparison.Ordinal);
            if (twins > 0) html = ScriptElement().Replace(html, "");
            data["text/html"] = NotebookDocument.SourceLines(html);
            if (!Empty(html) || figures.Count == 0) written.Add(copy);
            foreach (JsonObject figure in figures) written.Add(figure);
        }
        return written;
    }

    /// <summary>
    /// The outputs with the machine's paths taken out: every path under the checkout <paramref name="checkout"/> written
    /// relative to it (<c>data/models/…</c>), and the data folder beside it as <c>../shared/…</c>, so a committed copy
    /// says where things are in any clone rather than where they were on the machine that ran it.
    /// </summary>
    public static JsonArray WithoutMachinePaths(JsonArray outputs, string checkout)
    {
        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(checkout));
        string beside = Path.GetDirectoryName(root)!;
        var replacements = new (string From, string To)[]
        {
            (root + Path.DirectorySeparatorChar, ""), (root, "."), (Path.Combine(beside, "shared") + Path.DirectorySeparatorChar, "../shared/"),
        };
        return (JsonArray)Scrub(outputs, replacements)!;
    }

    private static JsonNode? Scrub(JsonNode? node, (string From, string To)[] replacements) => node switch
    {
        JsonArray array => new JsonArray([.. array.Select(n => Scrub(n, replacements))]),
        JsonObject obj => new JsonObject(obj.Select(kv => KeyValuePair.Create(kv.Key, Scrub(kv.Value, replacements)))),
        JsonValue value when value.TryGetValue(out string? text) =>
            JsonValue.Create(replacements.Aggregate(text, (t, r) => t.Replace(r.From, r.To, StringComparison.Ordinal))),
        _ => node?.DeepClone(),
    };

    /// <summary>The checkout a notebook belongs to: the nearest folder above it with global.json, else its own folder's parent.</summary>
    public static string CheckoutOf(string notebook)
    {
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(notebook))!); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "global.json"))) return dir.FullName;
        return Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(notebook))!)!;
    }

    private const string LeftOutMark = "\u0001left-out\u0001";

    /// <summary>Nothing a reader would see: only tags such as &lt;br/&gt; and white space.</summary>
    private static bool Empty(string html) =>
        !html.Contains("<script", StringComparison.OrdinalIgnoreCase) && !html.Contains("<img", StringComparison.OrdinalIgnoreCase) &&
        !html.Contains("<table", StringComparison.OrdinalIgnoreCase) && string.IsNullOrWhiteSpace(WebUtility.HtmlDecode(AnyTag().Replace(html, "")));
}
