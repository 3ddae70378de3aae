using System.Text.Json;
using MarrowDiff.Core;
using MarrowDiff.Counting;
using MarrowDiff.Imaging;
using MarrowDiff.Tests.Preparation;
using MarrowDiff.Training;

namespace MarrowDiff.Tests.Cli;

/// <summary>`marrow envelope` as a user runs it: fitted into a trained model's folder, then used by evaluate and predict.</summary>
public class EnvelopeCommandTests(PreparedPhantomFixture fx) : IClassFixture<PreparedPhantomFixture>
{
    [Fact]
    public void AModelsEnvelope_FlagsImagesUnlikeItsCells_ThatPassEveryRuleOnPixels()
    {
        string outDir = Path.Combine(fx.Root, "envelope-model");
        var (code, output) = MarrowProcess.Run(["train", "--data", fx.Dataset.Root, "--variant", "AG", "--profile", "smoke", "--set", "epochs=4", "--set", "cv_epochs=1",
                                                "--models", Path.Combine(fx.Root, "envelope-models"), "--out", outDir], MarrowProcess.TrainingCommand);
        Assert.True(code == 0, output);
        var (fitCode, fitOutput) = MarrowProcess.Run(["envelope", "--model", outDir, "--data", fx.Dataset.Root], MarrowProcess.ShortCommand);
        Assert.True(fitCode == 0, fitOutput);
        Assert.Contains("cells of validation fold", fitOutput);
        var envelope = FeatureEnvelope.TryLoad(outDir)!;
        Assert.Equal(FeatureEnvelope.DefaultQuantile, envelope.Quantile);

        // evaluate says how many test cells lie outside; cells of the training cells' kind mostly do not.
        string metrics = Path.Combine(fx.Root, "envelope-metrics.json");
        var (evalCode, evalOutput) = MarrowProcess.Run(["evaluate", "--model", outDir, "--data", fx.Dataset.Root, "--part", "test", "--out", metrics], MarrowProcess.ShortCommand);
        Assert.True(evalCode == 0, evalOutput);
        using (var json = JsonDocument.Parse(File.ReadAllText(metrics)))
        {
            var unlike = json.RootElement.GetProperty("unlike_training_cells");
            int cells = unlike.GetProperty("stage_cells").GetInt32(), outside = unlike.GetProperty("stage_cells_outside").GetInt32();
            Assert.Equal(json.RootElement.GetProperty("images").GetInt32(), cells);
            Assert.True(outside <= cells / 5, $"{outside} of {cells} test cells outside the envelope");
        }
        Assert.Contains("outside the envelope of the training cells", evalOutput);

        // Junk no rule on pixels catches (smooth, stained, cell-sized) next to real crops: the envelope sends it to review.
        string images = Path.Combine(fx.Root, "envelope-images");
        Directory.CreateDirectory(images);
        var cells96 = Directory.GetFiles(Path.Combine(fx.Dataset.Root, "patches"), "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(20).ToList();
        foreach (var f in cells96) File.Copy(f, Path.Combine(images, "cell-" + Path.GetFileName(f)));
        var junk = new Dictionary<string, RgbImage> { ["junk-gradient"] = Gradient(), ["junk-stripes"] = Stripes(), ["junk-blob"] = Blob() };
        foreach (var (name, image) in junk)
        {
            Assert.Null(CellInputCheck.Unlike(image)); // the premise: no rule on pixels sees it
            image.SavePng(Path.Combine(images, name + ".png"));
        }
        string predicted = Path.Combine(fx.Root, "envelope-predict.csv");
        var (predictCode, predictOutput) = MarrowProcess.Run(["predict", "--model", outDir, "--images", images, "--pitch", "0.16", "--out", predicted], MarrowProcess.ShortCommand);
        Assert.True(predictCode == 0, predictOutput);
        var rows = Csv.Parse(File.ReadAllText(predicted), predicted).Skip(1).ToDictionary(r => Path.GetFileNameWithoutExtension(r[0]));
        string table = string.Join("\n", rows.Values.Select(r => string.Join(",", r.Take(5))));
        // Stripes are nothing like a stained cell: beyond the threshold, in review, with the reason.
        Assert.True(rows["junk-stripes"][4].StartsWith("unlike the training cells", StringComparison.Ordinal), table);
        Assert.Equal("yes", rows["junk-stripes"][3]);
        int cellsOutside = rows.Values.Count(r => r[0].StartsWith("cell-", StringComparison.Ordinal) && r[4].Length > 0);
        Assert.True(cellsOutside <= 4, $"{cellsOutside} of 20 phantom cells outside the envelope\n{table}");
        // A smoke model's envelope (156 training cells in 512 dimensions) is loose: the smooth gradient and blob need not
        // pass its threshold, but every junk image lies farther from the training cells than the typical cell does.
        using var model = TrainedModel.Load(outDir);
        var names = Directory.GetFiles(images, "*.png").Order(StringComparer.Ordinal).ToList();
        var patches = names.Select(f => UnlabelledCells.Patch(new MarrowDiff.Data.CellImageReader().Read(f), CellPatch.PitchUm)).ToList();
        var distances = model.Envelope!.Distances(model.PatchEmbeddings(patches));
        var cellDistances = names.Select((f, i) => (f, d: distances[i])).Where(x => Path.GetFileName(x.f).StartsWith("cell-", StringComparison.Ordinal)).Select(x => x.d).Order().ToList();
        double median = cellDistances[cellDistances.Count / 2];
        foreach (var (f, i) in names.Select((f, i) => (f, i)).Where(x => Path.GetFileName(x.f).StartsWith("junk-", StringComparison.Ordinal)))
            Assert.True(distances[i] > median, $"{Path.GetFileName(f)}: distance {distances[i]:0.0}, the cells' median {median:0.0}\n{table}");

        // count uses it too: a counted cell outside the envelope is in the review queue with its reason, and count.json says how many.
        string fields = Path.Combine(fx.Dataset.Root, "fields"), counted = Path.Combine(fx.Root, "envelope-count");
        Assert.True(Directory.Exists(fields), $"{fields}: the phantom has no fields folder");
        var (countCode, countOutput) = MarrowProcess.Run(["count", "--fields", fields, "--pitch", "0.16", "--model", outDir, "--out", counted], MarrowProcess.ShortCommand);
        Assert.True(countCode == 0, countOutput);
        var cellRows = Csv.Parse(File.ReadAllText(Path.Combine(counted, "cells.csv"))).Skip(1).ToList();
        Assert.All(cellRows.Where(r => r[10].Length > 0), r => { Assert.StartsWith("unlike the training cells", r[10]); Assert.Equal("true", r[9]); });
        using var countJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(counted, "count.json")));
        Assert.Equal(cellRows.Count(r => r[10].Length > 0 && r[4] == "false"), countJson.RootElement.GetProperty("review_unlike_the_training_cells").GetInt32());
    }

    private static RgbImage Gradient()
    {
        var image = new RgbImage(96, 96);
        for (int y = 0; y < 96; y++) for (int x = 0; x < 96; x++) image[x, y] = ((byte)(120 + x), (byte)(60 + y), (byte)(200 - x / 2));
        return image;
    }

    private static RgbImage Stripes()
    {
        var image = new RgbImage(96, 96);
        for (int y = 0; y < 96; y++) for (int x = 0; x < 96; x++)
            {
                byte v = (byte)(150 + 90 * Math.Sin(x / 6.0));
                image[x, y] = (v, (byte)(v / 2), (byte)(255 - v / 3));
            }
        return image;
    }

    private static RgbImage Blob()
    {
        var image = new RgbImage(96, 96);
        for (int y = 0; y < 96; y++) for (int x = 0; x < 96; x++)
            {
                double r = Math.Sqrt((x - 30) * (x - 30) + (y - 60) * (y - 60) * 0.3);
                double t = Math.Clamp((r - 20) / 8, 0, 1);
                image[x, y] = ((byte)(20 + 200 * t), (byte)(90 + 140 * t), (byte)(30 + 190 * t));
            }
        return image;
    }
}
