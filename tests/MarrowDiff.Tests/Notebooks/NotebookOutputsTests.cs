using System.Text.Json.Nodes;
using MarrowDiff.Imaging;
using MarrowDiff.Notebooks;
using MarrowDiff.Reports;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Tests.Notebooks;

/// <summary>The written copy of a cell's outputs: figures as image outputs every viewer shows, charts with their static
/// twin beside them, and real images left out; and the committed executed notebooks keep those rules.</summary>
public sealed class NotebookOutputsTests
{
    private static JsonArray Outputs(string html, string type = "execute_result") =>
    [
        new JsonObject
        {
            ["output_type"] = type, ["execution_count"] = 1, ["metadata"] = new JsonObject(),
            ["data"] = new JsonObject { ["text/html"] = new JsonArray(html), ["text/plain"] = new JsonArray("text view") },
        },
    ];

    private static string Html(JsonNode output) => string.Concat(output["data"]!["text/html"]!.AsArray().Select(l => (string)l!));

    [Fact]
    public void TheMachinesPaths_AreWrittenRelativeToTheCheckout_AndTheDataBesideItAsShared()
    {
        string checkout = Path.Combine(Path.GetTempPath(), "clone", "main");
        string beside = Path.Combine(Path.GetTempPath(), "clone", "shared");
        var outputs = Outputs($"split saved in {checkout}/data/phantom/splits.csv; models in {checkout}/data/models/OG-1; cells at {beside}/real-cells/pbc; root {checkout}");
        outputs.Add(new JsonObject { ["output_type"] = "stream", ["name"] = "stdout", ["text"] = new JsonArray($"{checkout}/figures/x.png\n") });
        var written = NotebookOutputs.WithoutMachinePaths(outputs, checkout);
        Assert.Equal("split saved in data/phantom/splits.csv; models in data/models/OG-1; cells at ../shared/real-cells/pbc; root .", Html(written[0]!));
        Assert.Equal("figures/x.png\n", (string)written[1]!["text"]![0]!);
        Assert.DoesNotContain(checkout, written.ToJsonString());
        Assert.Equal(1, (int)written[0]!["execution_count"]!); // numbers stay numbers
        Assert.Equal(Workbook.RepositoryRoot, NotebookOutputs.CheckoutOf(Path.Combine(Workbook.RepositoryRoot, "notebooks", "01-data-audit.ipynb")));
    }

    [Fact]
    public void AFigure_BecomesAnImageOutput_AndTheEmptiedHtmlIsDropped()
    {
        var written = NotebookOutputs.ForReaders(Outputs("<img class=\"marrow-figure\" src=\"data:image/png;base64,iVBORw0=\" alt=\"a &amp; b\" style=\"max-width:100%\"/><br/>"), realImages: false);
        var only = Assert.Single(written);
        Assert.Equal("display_data", (string)only!["output_type"]!);
        Assert.Equal("iVBORw0=", (string)only["data"]!["image/png"]!);
        Assert.Equal("a & b", (string)only["data"]!["text/plain"]![0]!);
    }

    [Fact]
    public void AChart_IsWrittenAsItsStaticTwin_WithoutTheScriptThatIsBlankThere_AnUnmarkedImageStays()
    {
        string html = "<div id=\"c\"><!-- Plotly chart will be drawn inside this DIV --></div><script>require(['https://cdn.plot.ly/x'])</script>" +
                      "<img class=\"marrow-static-twin\" src=\"data:image/png;base64,QUJD\" alt=\"chart\" style=\"display:none\"/>" +
                      "<img src=\"data:image/jpeg;base64,REVG\" width=\"96\"/>";
        var written = NotebookOutputs.ForReaders(Outputs(html), realImages: false);
        Assert.Equal(2, written.Count);
        Assert.Equal("execute_result", (string)written[0]!["output_type"]!);
        Assert.DoesNotContain("marrow-static-twin", Html(written[0]!));
        Assert.DoesNotContain("<script", Html(written[0]!));
        Assert.Contains("data:image/jpeg;base64,REVG", Html(written[0]!)); // a table of thumbnails is not a figure
        Assert.Equal("QUJD", (string)written[1]!["data"]!["image/png"]!);
        Assert.Equal("static-twin", (string)written[1]!["metadata"]![NotebookOutputs.WrittenAs]!);
        // A chart alone leaves nothing but its twin.
        var alone = NotebookOutputs.ForReaders(Outputs(html.Replace("<img src=\"data:image/jpeg;base64,REVG\" width=\"96\"/>", "")), realImages: false);
        Assert.Equal("QUJD", (string)Assert.Single(alone)!["data"]!["image/png"]!);
    }

    [Fact]
    public void RealImages_LeaveNoPixelInTheCopy_AndSaySo()
    {
        var outputs = Outputs("<p>caption</p><img class=\"marrow-figure\" src=\"data:image/png;base64,QUJD\"/><img src=\"data:image/jpeg;base64,REVG\"/>");
        outputs.Add(new JsonObject { ["output_type"] = "display_data", ["metadata"] = new JsonObject(), ["data"] = new JsonObject { ["image/png"] = "QUJD", ["text/plain"] = new JsonArray("x") } });
        var written = NotebookOutputs.ForReaders(outputs, realImages: true);
        string json = written.ToJsonString();
        Assert.DoesNotContain("QUJD", json);
        Assert.DoesNotContain("REVG", json);
        Assert.DoesNotContain("image/", json);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(Html(written[0]!), "left out of this written copy")); // once an output
        Assert.Contains("[2 images of real cells, left out", Html(written[0]!));
        Assert.Contains("caption", Html(written[0]!));
    }

    [Theory]
    [InlineData("real-images", "phantom", true)]
    [InlineData("cell-images", "phantom", false)]
    [InlineData("cell-images", "../../shared/real-cells", true)]
    [InlineData("cell-images", null, true)]
    [InlineData("parameters", "../../shared/real-cells", false)]
    public void WhichCellsLeaveOutTheirImages(string tag, string? data, bool leftOut) =>
        Assert.Equal(leftOut, NotebookOutputs.LeavesOutImages([tag], data));

    [Fact]
    public void TheContractClasses_AreTheLibrarysOwn() // the two projects share no code, only these strings
    {
        Assert.Equal(Figures.FigureClass, NotebookOutputs.FigureClass);
        Assert.Equal(Figures.StaticTwinClass, NotebookOutputs.StaticTwinClass);
    }

    [Fact]
    public void AChartView_WritesPlotlyAndAStaticTwinThatDecodes_AndTheCopyKeepsTheTwin()
    {
        var twin = new RgbImage(40, 30);
        twin.Fill((200, 10, 10));
        var chart = Plotly.NET.CSharp.Chart.Line<int, int, string>(x: [1, 2], y: [3, 4]);
        var view = new ChartView(chart, twin, "[chart: test]");
        var writer = new StringWriter();
        view.WriteTo(writer, System.Text.Encodings.Web.HtmlEncoder.Default);
        var written = NotebookOutputs.ForReaders(Outputs(writer.ToString()), realImages: false);
        var png = RgbImage.FromPng(Convert.FromBase64String((string)Assert.Single(written)!["data"]!["image/png"]!)); // the script, blank here, dropped
        Assert.Equal((40, 30), (png.Width, png.Height));
        Assert.Equal("[chart: test]", view.ToString());
    }

    /// <summary>The executed notebooks committed under figures/notebooks/ (written by <c>marrow notebooks</c>): every one
    /// there, readable without a kernel, no real image in them, and small enough to keep in the repository.</summary>
    [Fact]
    public void TheCommittedExecutedNotebooks_ShowTheirChartsAsPng_HoldNoRealImage_AndStaySmall()
    {
        string folder = Path.Combine(Workbook.RepositoryRoot, "figures", "notebooks");
        var sources = Directory.GetFiles(Path.Combine(Workbook.RepositoryRoot, "notebooks"), "*.ipynb").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        var executed = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.ipynb").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList() : [];
        Assert.Equal(sources, executed);
        int charts = 0, leftOut = 0;
        foreach (string name in executed!)
        {
            var (c, l) = ReadableCopies.Check(Path.Combine(folder, name!));
            charts += c; leftOut += l;
        }
        Assert.True(charts >= 10, $"{charts} charts in the executed notebooks; the workbook draws at least 10");
        // Copies written with real cells beside the checkout (as committed) leave their images out; copies the README's
        // first command wrote on a clone without them (a newcomer's) show notebook 07's fallback and have none to leave out.
        bool withRealCells = !File.ReadAllText(Path.Combine(folder, "07-real-data.ipynb")).Contains("No data at", StringComparison.Ordinal);
        if (withRealCells)
            Assert.True(leftOut >= 4, $"{leftOut} cells left out their real images; notebooks 07-09 have at least 4 such cells");
        long bytes = executed.Sum(n => new FileInfo(Path.Combine(folder, n!)).Length);
        Assert.True(bytes <= 8L << 20, $"the executed notebooks take {bytes / 1048576.0:0.0} MB; keep them under 8 MB");
    }
}
