using System.Globalization;
using System.Text.Json;
using MarrowDiff.Core;
using MarrowDiff.Tests.Detection;

namespace MarrowDiff.Tests.Cli;

/// <summary>`marrow count` without a model (detection only): fields in a folder, one of them corrupt; the pitch
/// estimated from red cells; cells.csv in the fields' own pixels; a corrupt field named and skipped (exit 3).</summary>
public class CountCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("marrow-count-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void CountWithoutAModel_FindsCellsInTheFieldsOwnPixels_AndNamesTheCorruptField()
    {
        string fields = Path.Combine(_dir, "fields");
        Directory.CreateDirectory(fields);
        // Drawn at 0.1 µm/px: the count resamples by 0.625 and maps centres back.
        const double pitch = 0.1;
        new SyntheticField(900, 700, pitch).RedCells(60, spacingUm: 9, free: (x, y) => x > 45).Cell(15, 15).Cell(25, 40).Image.SavePng(Path.Combine(fields, "a.png"));
        new SyntheticField(900, 700, pitch).RedCells(60, spacingUm: 9, free: (x, y) => x > 45).Cell(2, 30).Image.SavePng(Path.Combine(fields, "b.png"));
        File.WriteAllBytes(Path.Combine(fields, "c.png"), File.ReadAllBytes(Path.Combine(fields, "a.png"))[..500]);

        string outDir = Path.Combine(_dir, "out");
        var (code, output) = MarrowProcess.Run(["count", "--fields", fields, "--out", outDir], MarrowProcess.ShortCommand);
        Assert.True(code == 3, output);   // c.png is truncated: named, skipped, and the exit code says so
        Assert.Contains("skipped c.png", output);
        Assert.Contains("detection only", output);

        var rows = Csv.Parse(File.ReadAllText(Path.Combine(outDir, "cells.csv")));
        Assert.Equal(["field", "x", "y", "diameter_px", "edge", "class", "probability", "second_class", "second_probability", "review", "unlike_the_training_cells"], rows[0]);
        var cells = rows.Skip(1).Select(r => (Field: r[0], X: double.Parse(r[1], CultureInfo.InvariantCulture), Y: double.Parse(r[2], CultureInfo.InvariantCulture), Edge: r[4] == "true", Class: r[5])).ToList();
        Assert.Equal(3, cells.Count);
        Assert.All(cells, c => Assert.Equal("", c.Class));
        var a = cells.Where(c => c.Field == "a.png").OrderBy(c => c.Y).ToList();
        Assert.Equal(2, a.Count);
        Assert.InRange(a[0].X, 150 - 4, 150 + 4);   // 15 µm at 0.1 µm/px, in a.png's own pixels
        Assert.InRange(a[0].Y, 150 - 4, 150 + 4);
        Assert.InRange(a[1].Y, 400 - 4, 400 + 4);
        Assert.False(a[0].Edge);
        Assert.True(cells.Single(c => c.Field == "b.png").Edge);   // 2 µm from the edge: its patch would leave the field

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "count.json")));
        var root = json.RootElement;
        Assert.Equal(2, root.GetProperty("counted").GetInt32());
        Assert.Equal(1, root.GetProperty("left_out_at_edge").GetInt32());
        Assert.Equal("c.png", root.GetProperty("skipped_fields")[0].GetProperty("field").GetString());
        foreach (var field in root.GetProperty("fields").EnumerateArray())
        {
            Assert.InRange(field.GetProperty("pitch_um_per_px").GetDouble(), 0.09, 0.11);
            Assert.StartsWith("estimated", field.GetProperty("pitch_how").GetString());
        }
        Assert.True(File.Exists(Path.Combine(outDir, "report.html")));
        Assert.False(Directory.Exists(outDir + ".writing"));
    }

    [Fact]
    public void NoFieldThere_IsAnErrorNamingThePath()
    {
        var (code, output) = MarrowProcess.Run(["count", "--fields", Path.Combine(_dir, "nowhere"), "--out", Path.Combine(_dir, "o")], MarrowProcess.ShortCommand);
        Assert.Equal(1, code);
        Assert.Contains("nowhere", output);
    }
}
