using System.Text.Json;
using System.Text.RegularExpressions;
using MarrowDiff.Cli;
using MarrowDiff.Data;
using MarrowDiff.Experiments;
using MarrowDiff.Tests.Preparation;
using MarrowDiff.Training;

namespace MarrowDiff.Tests.Cli;

/// <summary>`marrow train` as a user runs it: the resolved profile on every stamp, and a log a person can read.</summary>
public class TrainCommandTests(PreparedPhantomFixture fx) : IClassFixture<PreparedPhantomFixture>
{
    [Fact]
    public void SetOverrides_StampEveryTableAndTheModel_WithTheResolvedProfile_AndTheLogStaysShort()
    {
        string outDir = Path.Combine(fx.Root, "out");
        var (code, output) = MarrowProcess.Run(["train", "--data", fx.Dataset.Root, "--variant", "OG", "--profile", "smoke", "--set", "epochs=3", "--set", "cv_epochs=1",
                                                "--models", Path.Combine(fx.Root, "models"), "--out", outDir], MarrowProcess.TrainingCommand);
        Assert.True(code == 0, output);
        const string resolved = "smoke+epochs=3+cv_epochs=1";

        // Every stamp names the resolved profile; none the bare name it started from.
        var stamps = Regex.Matches(output, @"\| profile: (\S+) \|").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(stamps);
        Assert.All(stamps, s => Assert.Equal(resolved, s));
        using (var card = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, TrainedModel.CardFile))))
            Assert.Equal(resolved, card.RootElement.GetProperty("Profile").GetString());
        using (var profile = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, TrainedModel.ProfileFile))))
        {
            Assert.Equal(resolved, profile.RootElement.GetProperty("name").GetString());
            Assert.Equal(3, profile.RootElement.GetProperty("epochs").GetInt32());
            Assert.Equal(1, profile.RootElement.GetProperty("cross_validation_epochs").GetInt32());
        }

        // Redirected output (as in CI): at most one line per 10% of each model (11 with the 0% line), the loss in it.
        var progress = output.Split('\n').Where(l => l.Contains(" elapsed", StringComparison.Ordinal) && l.Contains("loss", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(progress);
        foreach (var model in progress.GroupBy(l => l[..l.IndexOf(" [", StringComparison.Ordinal)]))
            Assert.True(model.Count() <= 11, $"{model.Key}: {model.Count()} progress lines\n{string.Join("\n", model)}");
    }

    [Fact]
    public void RealPlus_WithoutAVariant_TrainsAFoldEnsemble_ThatEvaluateScores()
    {
        // The issue's two commands, shrunk: no --variant (the profile's AG+OS), the fold models, then evaluate.
        string outDir = Path.Combine(fx.Root, "ensemble");
        var (code, output) = MarrowProcess.Run(["train", "--data", fx.Dataset.Root, "--profile", "real-plus", "--set", "ensemble_folds=2", "--set", "epochs=1",
                                                "--set", "width=0.125", "--set", "input=48", "--set", "oversample=5,10",
                                                "--models", Path.Combine(fx.Root, "models-plus"), "--out", outDir], MarrowProcess.TrainingCommand);
        Assert.True(code == 0, output);
        Assert.Contains("fold 1:", output);
        Assert.Contains("2-fold cross-validation", output);
        Assert.Matches(@"macro F1 [0-9.]+% \(95% CI [0-9.]+–[0-9.]+, bootstrap over cells\)", output);
        Assert.Contains("AG+OS10, 2-fold ensemble", output);
        Assert.True(File.Exists(Path.Combine(outDir, FoldEnsemble.ManifestFile)));
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, FoldEnsemble.ManifestFile))))
            AssertSavedScoreIsThePrintedOne(manifest.RootElement.GetProperty("Scores").GetProperty("cv_macro_f1").GetDouble(), output);
        AssertReadmeCarriesThePrintedScore(Path.Combine(outDir, ModelReadme.FileName), output, "2 models, softmax averaged");

        string metrics = Path.Combine(fx.Root, "ensemble-metrics.json");
        var (evalCode, evalOutput) = MarrowProcess.Run(["evaluate", "--model", outDir, "--data", fx.Dataset.Root, "--part", "test", "--out", metrics], MarrowProcess.ShortCommand);
        Assert.True(evalCode == 0, evalOutput);
        using var json = JsonDocument.Parse(File.ReadAllText(metrics));
        Assert.True(json.RootElement.GetProperty("images").GetInt32() > 0);
        Assert.Matches(@"accuracy [0-9.]+% \(95% CI [0-9.]+–[0-9.]+, Wilson\), macro F1 [0-9.]+% \(95% CI [0-9.]+–[0-9.]+, bootstrap over cells\)", evalOutput);
        // Each cell's answer beside the metrics, and the metrics follow from it.
        string perCell = Path.Combine(fx.Root, "predictions.csv");
        Assert.Equal("predictions.csv", json.RootElement.GetProperty("predictions").GetString()); // beside the metrics file
        var answers = MarrowDiff.Evaluation.CellPredictions.Load(perCell);
        Assert.Equal(json.RootElement.GetProperty("images").GetInt32(), answers.Count);
        Assert.Equal(json.RootElement.GetProperty("macro_f1").GetDouble(), answers.Metrics.MacroF1, 12);
        Assert.Equal(json.RootElement.GetProperty("accuracy").GetDouble(), answers.Metrics.Accuracy, 12);

        // The same model on the same cells as unlabelled images (`marrow predict`): one row a file, each row's class its
        // top probability, and, cell by cell, evaluate's answers (the patch is cut the same way at the same pitch).
        string patches = Path.Combine(fx.Dataset.Root, "patches"), predicted = Path.Combine(fx.Root, "unlabelled.csv");
        var (predictCode, predictOutput) = MarrowProcess.Run(["predict", "--model", outDir, "--images", patches, "--pitch", "0.16", "--out", predicted], MarrowProcess.ShortCommand);
        Assert.True(predictCode == 0, predictOutput);
        var rows = MarrowDiff.Core.Csv.Parse(File.ReadAllText(predicted), predicted);
        Assert.Equal(["file", "predicted_class", "probability", "review", "unlike_a_training_crop", "p_C1", "p_C2", "p_C3", "p_C4", "p_C5", "p_C6", "p_C7", "p_C8", "p_C9", "p_C10"], rows[0]);
        Assert.Equal(Directory.GetFiles(patches, "*.png", SearchOption.AllDirectories).Length, rows.Count - 1);
        var byFile = new Dictionary<string, string>();
        // Without --review-below, predict sends to review what the threshold chosen on the model's folds does.
        double review = SavedScores.ReviewBelowOf(outDir)!.Value;
        Assert.Contains("the model's own, chosen on its folds", predictOutput);
        foreach (var row in rows.Skip(1))
        {
            Assert.Equal("", row[4]); // phantom patches are crops like the training ones
            double[] p = [.. row[5..].Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture))];
            Assert.Equal(1.0, p.Sum(), 2);
            Assert.Equal($"C{Array.IndexOf(p, p.Max()) + 1}", row[1]);
            if (Math.Abs(p.Max() - review) > 1e-4) Assert.Equal(p.Max() < review ? "yes" : "no", row[3]); // the file's four decimals decide no closer
            byFile[Path.GetFileNameWithoutExtension(row[0])] = row[1];
        }
        Assert.All(answers.Cells, c => Assert.Equal(c.Predicted.Code(), byFile[c.Cell]));
    }

    [Fact]
    public void Evaluate_TakesEachSourcesPitch_FromPitchFirst_ThenFromTheModel()
    {
        var card = new ModelCard("OG", ExperimentProfile.Real.Training(ExperimentProfile.Real.Grid[0]), "real", "d", "", "", 1, null, "", false,
                                 Pitches: new Dictionary<string, double> { ["PBC"] = 0.1, ["Matek"] = 0.2 });
        var both = MarrowDiff.Cli.Commands.CellsToScore.Pitches(card, "PBC=0.15");
        Assert.Equal(0.15, both["PBC"]);
        Assert.Equal(0.2, both["Matek"]);
        Assert.Equal(2, both.Count); // any other source is left to the red cells
        Assert.Empty(MarrowDiff.Cli.Commands.CellsToScore.Pitches(card with { Pitches = null }, null));
        // The card carries them through its JSON (model.json).
        var back = JsonSerializer.Deserialize<ModelCard>(JsonSerializer.Serialize(card))!;
        Assert.Equal(card.Pitches, back.Pitches);
    }

    [Fact]
    public void RealFast_KeepsTheFoldsAsItsCrossValidation_AndSavesOneModelOnAllFolds_ThatEvaluateScores()
    {
        // The issue's two commands under final=one, shrunk: the fold models are trained (and cached) as for real-plus,
        // then one more model on every training-side cell is what the folder holds.
        string outDir = Path.Combine(fx.Root, "final"), models = Path.Combine(fx.Root, "models-fast");
        var (code, output) = MarrowProcess.Run(["train", "--data", fx.Dataset.Root, "--profile", "real-fast", "--set", "ensemble_folds=2", "--set", "epochs=1",
                                                "--set", "input=48", "--set", "oversample=5,10", "--models", models, "--out", outDir], MarrowProcess.TrainingCommand);
        Assert.True(code == 0, output);
        Assert.Contains("2-fold cross-validation", output);
        Assert.Matches(@"AG\+OS10: one model on all 5 folds \(\d+ training images, [\d.]+ min\), estimated by the 2-fold cross-validation above", output);
        Assert.False(File.Exists(Path.Combine(outDir, FoldEnsemble.ManifestFile)));
        using (var loaded = FoldEnsemble.LoadAny(outDir))
        {
            var model = Assert.IsType<TrainedModel>(loaded);
            Assert.Null(model.Card.ValidationFold); // it held no fold out
            Assert.All(model.History, h => Assert.Null(h.ValidationAccuracy));
        }
        using (var cv = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, SavedScores.CrossValidationFile))))
        {
            AssertSavedScoreIsThePrintedOne(cv.RootElement.GetProperty("cv_macro_f1").GetDouble(), output);
        AssertReadmeCarriesThePrintedScore(Path.Combine(outDir, ModelReadme.FileName), output, "1 model;");
            Assert.Matches(@"^fold 2: \d+ held-out cells, accuracy [\d.]+%, macro F1 " + Regex.Escape((100 * cv.RootElement.GetProperty("fold2_macro_f1").GetDouble()).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)) + "%",
                           output.Split('\n').First(l => l.StartsWith("fold 2:", StringComparison.Ordinal)));
        }
        using (var profile = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, TrainedModel.ProfileFile))))
            Assert.Equal("one", profile.RootElement.GetProperty("final").GetString());
        // The two fold models and the final one are cached side by side; a second run trains nothing.
        Assert.Equal(3, Directory.GetDirectories(models).Count(d => !d.EndsWith(".checkpoint", StringComparison.Ordinal)));
        var (again, againOutput) = MarrowProcess.Run(["train", "--data", fx.Dataset.Root, "--profile", "real-fast", "--set", "ensemble_folds=2", "--set", "epochs=1",
                                                      "--set", "input=48", "--set", "oversample=5,10", "--models", models, "--out", outDir], MarrowProcess.TrainingCommand);
        Assert.True(again == 0, againOutput);
        Assert.Contains("AG+OS10 final model: cached model", againOutput);
        Assert.DoesNotContain("trained 1 epochs", againOutput);

        string metrics = Path.Combine(fx.Root, "final-metrics.json");
        var (evalCode, evalOutput) = MarrowProcess.Run(["evaluate", "--model", outDir, "--data", fx.Dataset.Root, "--part", "test", "--out", metrics], MarrowProcess.ShortCommand);
        Assert.True(evalCode == 0, evalOutput);
        using var json = JsonDocument.Parse(File.ReadAllText(metrics));
        var answers = MarrowDiff.Evaluation.CellPredictions.Load(Path.Combine(Path.GetDirectoryName(metrics)!, json.RootElement.GetProperty("predictions").GetString()!));
        Assert.Equal(json.RootElement.GetProperty("macro_f1").GetDouble(), answers.Metrics.MacroF1, 12);
        // The review threshold chosen on the folds is saved with the model, told in its card, and used by evaluate.
        double below = SavedScores.ReviewBelowOf(outDir)!.Value;
        Assert.InRange(below, 0, 1);
        Assert.Contains($"a cell whose top probability is below {below.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)} goes to review",
                        File.ReadAllText(Path.Combine(outDir, ModelReadme.FileName)));
        var review = json.RootElement.GetProperty("review");
        Assert.Equal(below, review.GetProperty("below").GetDouble());
        Assert.Equal("the model's own, chosen on its folds", review.GetProperty("from").GetString());
        // predictions.csv rounds probabilities to four decimals: a cell that close to the threshold may fall either side.
        Assert.InRange(review.GetProperty("kept_cells").GetInt32(), answers.Cells.Count(c => c.Probabilities.Max() >= below + 1e-4),
                       answers.Cells.Count(c => c.Probabilities.Max() >= below - 1e-4));
    }

    /// <summary>
    /// `train --outside-stages` on data that label cells outside the ten stages: the model answers exactly the classes
    /// the data have (the stages present, then lymphocytes and monocytes), its card says so, and `evaluate --part test`
    /// scores it on those classes' test cells, the cells outside the stages included. The phantom's C2 and C3 cells are
    /// relabelled as lymphocytes and monocytes here: the test is of the plumbing, not of what a network learns.
    /// </summary>
    [Fact]
    public void OutsideStages_TrainsAModelOfTheDatasClasses_ThatEvaluateScoresOnThemAll()
    {
        string data = Path.Combine(fx.Root, "outside-stages");
        foreach (string file in Directory.GetFiles(fx.Dataset.Root, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(data, Path.GetRelativePath(fx.Dataset.Root, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        string manifest = Path.Combine(data, "manifest.csv");
        File.WriteAllLines(manifest, File.ReadAllLines(manifest).Select(l => l.Replace(",basophilic_normoblast,", ",other:LYT,", StringComparison.Ordinal)
                                                                               .Replace(",polychromatic_normoblast,", ",other:MON,", StringComparison.Ordinal)));
        string outDir = Path.Combine(fx.Root, "outside-model"), models = Path.Combine(fx.Root, "models-outside");
        var (code, output) = MarrowProcess.Run(["train", "--data", data, "--outside-stages", "--profile", "real-fast", "--set", "ensemble_folds=2", "--set", "epochs=1",
                                                "--set", "input=48", "--set", "oversample=5,10", "--models", models, "--out", outDir], MarrowProcess.TrainingCommand);
        Assert.True(code == 0, output);
        Assert.Contains("outputs: C1, C4, C5, C6, C7, C8, C9, C10, Lym, Mono (the cells outside the ten stages as outcomes of their own)", output);
        using (var loaded = FoldEnsemble.LoadAny(outDir))
            Assert.Equal([CellClass.Pronormoblast, CellClass.OrthochromaticNormoblast, .. CellTaxonomy.All.Skip(4), CellClass.Lymphocyte, CellClass.Monocyte], loaded.Outputs);
        Assert.Contains("| classes, in output order | C1 Pronormoblast, C4 Orthochromatic normoblast, C5 ", File.ReadAllText(Path.Combine(outDir, ModelReadme.FileName)));

        string metrics = Path.Combine(fx.Root, "outside-metrics", "metrics.json");
        Directory.CreateDirectory(Path.GetDirectoryName(metrics)!);
        var (evalCode, evalOutput) = MarrowProcess.Run(["evaluate", "--model", outDir, "--data", data, "--part", "test", "--out", metrics], MarrowProcess.ShortCommand);
        Assert.True(evalCode == 0, evalOutput);
        var answers = MarrowDiff.Evaluation.CellPredictions.Load(Path.Combine(Path.GetDirectoryName(metrics)!, EvaluateCommandFile));
        Assert.Equal(10, answers.Outputs.Count);
        Assert.Contains(answers.Cells, c => c.Truth == CellClass.Lymphocyte);
        Assert.Contains(answers.Cells, c => c.Truth == CellClass.Monocyte);
        Assert.DoesNotContain(answers.Cells, c => c.Truth is CellClass.BasophilicNormoblast or CellClass.PolychromaticNormoblast);
        // The floors' numbers are in metrics.json, as OutsideStageScores computes them from the answers.
        using var json = JsonDocument.Parse(File.ReadAllText(metrics));
        var outside = json.RootElement.GetProperty("outside_the_stages");
        var expected = MarrowDiff.Evaluation.OutsideStageScores.Of(answers)!;
        Assert.Equal(expected.Cells, outside.GetProperty("cells").GetInt32());
        Assert.Equal(expected.NotCalledAStage, outside.GetProperty("share_not_called_a_stage").GetDouble(), 12);
        Assert.Contains("outside the stages: ", evalOutput);
    }

    private const string EvaluateCommandFile = MarrowDiff.Cli.Commands.EvaluateCommand.PredictionsFile;

    /// <summary>A model folder's README (its model card) names its classes, input and normalisation, and gives the
    /// cross-validated macro F1 and interval the console printed.</summary>
    private static void AssertReadmeCarriesThePrintedScore(string readme, string output, string members)
    {
        Assert.True(File.Exists(readme), readme);
        string text = File.ReadAllText(readme);
        Assert.Contains("| classes, in output order | C1 Pronormoblast, C2 ", text);
        Assert.Contains("| input | a 96×96 RGB patch at 0.16 µm/px", text);
        Assert.Contains("| normalisation | YUV", text);
        Assert.Contains(members, text);
        Assert.Contains("**Trained on the synthetic phantom**", text);
        var printed = Regex.Match(output, @"\d+-fold cross-validation \([^)]*\): \d+ cells, accuracy [\d.]+% \(95% CI [\d.–]+\), macro F1 ([\d.]+)% \(95% CI ([\d.]+)–([\d.]+), bootstrap");
        Assert.True(printed.Success, output);
        Assert.Contains($"Cross-validated macro-F1 {printed.Groups[1].Value}% (95% CI {printed.Groups[2].Value}–{printed.Groups[3].Value}, bootstrap over the held-out cells)", text);
    }

    /// <summary>The cross-validated macro F1 saved beside the model is the one the console printed (to its 0.1%), not
    /// merely a number between 0 and 1.</summary>
    private static void AssertSavedScoreIsThePrintedOne(double saved, string output)
    {
        var printed = Regex.Match(output, @"\d+-fold cross-validation \([^)]*\): \d+ cells, accuracy [\d.]+% \(95% CI [\d.–]+\), macro F1 ([\d.]+)%");
        Assert.True(printed.Success, output);
        Assert.Equal(double.Parse(printed.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Math.Round(100 * saved, 1), 6);
    }

    [Fact]
    public void ConsoleProgress_OnALog_WritesOneLinePerTenthOfAModel_WithTheLoss()
    {
        var log = new StringWriter();
        var console = new ConsoleProgress(log, redirected: true);
        // A smoke training run: 10 epochs of 600 steps, the loss changing every step.
        for (int epoch = 1; epoch <= 10; epoch++)
            for (int step = 1; step <= 600; step++)
                console.Report(new TrainingProgress("AG+OS300", epoch, 10, step, 600, 1.0 / (epoch * step), TimeSpan.FromSeconds(epoch * step)).AsWork());
        string[] lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(11, lines.Length); // the first step (0%), then 10%, 20% … 100%
        Assert.All(lines, l => Assert.Contains("loss", l));
        Assert.StartsWith("AG+OS300 [", lines[0]);
        Assert.StartsWith("AG+OS300 [###", lines[1]);
        Assert.Contains("epoch 10/10", lines[^1]);
    }

    [Fact]
    public void ConsoleProgress_ModelsTrainedSideBySide_EachKeepItsOwnTenthsOnALog_AndShareTheTerminalLine()
    {
        // Two fold models reporting in turn, as two training streams do.
        static IEnumerable<MarrowDiff.Core.WorkProgress> Interleaved()
        {
            for (int step = 1; step <= 100; step++)
                foreach (string model in new[] { "fold 1", "fold 2" })
                    yield return new TrainingProgress(model, 1, 1, step, 100, 0.5, TimeSpan.FromSeconds(step)).AsWork();
        }
        var log = new StringWriter();
        var onLog = new ConsoleProgress(log, redirected: true);
        foreach (var p in Interleaved()) onLog.Report(p);
        string[] lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(22, lines.Length); // 11 a model (0%, 10% … 100%), not one a report
        Assert.Equal(11, lines.Count(l => l.StartsWith("fold 1 [", StringComparison.Ordinal)));

        var terminal = new StringWriter();
        var onTerminal = new ConsoleProgress(terminal, redirected: false);
        var reports = Interleaved().ToList();
        foreach (var p in reports.Take(101)) onTerminal.Report(p); // fold 1 at 51%, fold 2 at 50%
        string shown = terminal.ToString().Split('\r')[^1];
        Assert.Contains("fold 1 51%", shown);
        Assert.Contains(" | fold 2 50%", shown);
    }
}
