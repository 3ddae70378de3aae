using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Model;
using MarrowDiff.Preparation;
using MarrowDiff.Training;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow evaluate</c>: a saved model scored on a dataset, metrics as JSON.</summary>
internal static class EvaluateCommand
{
    /// <summary>Written beside the metrics file: one row a scored cell (<see cref="CellPredictions"/>).</summary>
    public const string PredictionsFile = "predictions.csv";

    public static Command Create()
    {
        var modelDir = new Option<string>("--model") { Description = "a saved model folder", Required = true, HelpName = "DIR" };
        var data = CommonOptions.Data(required: true);
        var part = CommonOptions.Part("all");
        var profile = CommonOptions.Profile();
        var seed = CommonOptions.Seed();
        var pitch = CommonOptions.Pitch();
        var outFile = CommonOptions.Out("the metrics file", helpName: "FILE.json");
        var command = new Command("evaluate",
            "Scores a saved model on a dataset (all its cells of the 10 classes, or only the test part of the split the model was trained with) and writes " +
            "accuracy, macro and weighted precision/recall/F1, per-class metrics and the confusion matrix as JSON.")
        {
            modelDir, data, part, profile, seed, pitch, outFile,
        };
        command.SetAction(r =>
        {
            string folder = r.GetValue(modelDir)!, which = r.GetValue(part)!, file = r.GetValue(outFile)!;
            using var model = FoldEnsemble.LoadAny(folder);
            var (dataset, tiles, cells) = CellsToScore.Read(model.Card, r.GetValue(data)!, which, r.GetValue(profile)!, r.GetValue(seed), new ConsoleProgress(), r.GetValue(pitch));
            var set = SampleSet.Original(tiles, cells, which == "test" ? "test set" : "all cells").AnsweredBy(model.Outputs);
            // Timed here, not written to the metrics file: the file stays byte-equal between runs.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var predictions = new Predictions(model.Name, set, model.Probabilities(set));
            double seconds = clock.Elapsed.TotalSeconds;
            var metrics = predictions.Metrics;
            var json = metrics.ToJsonObject();
            // A test part of a development folder is about 125 cells: its score alone says little without its interval.
            var (accLow, accHigh) = Intervals.Wilson(metrics.Accuracy, set.Count);
            var (f1Low, f1High) = Intervals.BootstrapMacroF1(predictions.Truth, predictions.Predicted, predictions.Classes.Count);
            json["accuracy_ci95_wilson"] = new[] { accLow, accHigh };
            json["macro_f1_ci95_bootstrap"] = new[] { f1Low, f1High };
            json["model"] = Checkout.Relative(folder);
            json["data"] = Checkout.Relative(dataset.Root);
            json["part"] = which;
            json["images"] = set.Count;
            json["excluded_other_labels"] = dataset.OtherCounts;
            // Each cell's answer beside the metrics, in the real Table 1's columns, so a wrong cell can be looked up.
            string perCell = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, PredictionsFile);
            json["predictions"] = Path.GetFileName(perCell); // beside the metrics file
            var answers = predictions.Answers;
            answers.Save(perCell);
            // What a hematologist reads beside strict macro F1: within one stage, κ over the maturation order, calibration,
            // and what a review queue of the least sure cells buys.
            var stages = StageScores.Of(answers);
            json["within_one_stage"] = stages.WithinOneStage;
            // κ is undefined (NaN) when no cell is myeloid in both truth and answer: JSON has no NaN, so it is written as null.
            json["quadratic_weighted_kappa"] = new Dictionary<string, object?>
            {
                ["kappa"] = double.IsFinite(stages.QuadraticKappa) ? stages.QuadraticKappa : null, ["cells"] = stages.KappaCells,
                ["over"] = "the myeloid stages C5-C10, cells whose truth and answer are both myeloid",
            };
            json["ece"] = stages.ExpectedCalibrationError;
            // A model that also names the cells outside the ten stages: do they stay out of the stages, and what do the stages keep?
            if (OutsideStageScores.Of(answers) is { } outside)
                json["outside_the_stages"] = new Dictionary<string, object?>
                {
                    ["cells"] = outside.Cells, ["called_a_stage"] = outside.CalledAStage, ["share_not_called_a_stage"] = outside.NotCalledAStage,
                    ["stages_macro_f1"] = double.IsFinite(outside.StagesMacroF1) ? outside.StagesMacroF1 : null,
                    ["per_type"] = outside.Types.ToDictionary(t => t.Class.Code(), t => (object)new Dictionary<string, int>
                        { ["cells"] = t.Cells, ["right"] = t.Right, ["called_a_stage"] = t.CalledAStage }),
                };
            // A model with an envelope of its training cells: which of these cells lie outside it (they would go to review).
            string? envelopeLine = null;
            if (model is TrainedModel { Envelope: { } envelope } single)
            {
                var distances = envelope.Distances(Inference.Embeddings(single.Network, set, single.Normalisation));
                var byClass = Enumerable.Range(0, set.Count).GroupBy(i => set.CellOf(i).Label.Class!.Value).OrderBy(g => g.Key).ToList();
                int Outside(IEnumerable<int> cells) => cells.Count(i => envelope.IsOutside(distances[i]));
                var stageCells = Enumerable.Range(0, set.Count).Where(i => set.CellOf(i).Label.Class!.Value.IsStage()).ToList();
                json["unlike_training_cells"] = new Dictionary<string, object?>
                {
                    ["threshold"] = envelope.Threshold, ["quantile"] = envelope.Quantile, ["calibrated_on"] = envelope.CalibratedOn,
                    ["cells"] = set.Count, ["outside"] = Outside(Enumerable.Range(0, set.Count)),
                    ["stage_cells"] = stageCells.Count, ["stage_cells_outside"] = Outside(stageCells),
                    ["per_class"] = byClass.ToDictionary(g => g.Key.Code(), g => (object)new Dictionary<string, int> { ["cells"] = g.Count(), ["outside"] = Outside(g) }),
                };
                envelopeLine = $"outside the envelope of the training cells (beyond {envelope.Threshold.ToString("0.0", CultureInfo.InvariantCulture)}, percentile " +
                               $"{Percent.Of(envelope.Quantile, 0)} of {envelope.CalibrationCells} {envelope.CalibratedOn}): " +
                               string.Join(", ", byClass.Select(g => $"{g.Key.Code()} {Outside(g)}/{g.Count()}"));
            }
            // The review threshold the model would be used with, and what it keeps of these cells.
            var (below, why) = SavedScores.ReviewFor(null, model.Folder);
            var kept = answers.Cells.Where(c => c.Probabilities[answers.Outputs.ToList().IndexOf(c.Predicted)] >= below).ToList();
            json["review"] = new Dictionary<string, object?>
            {
                ["below"] = below, ["from"] = why, ["kept_cells"] = kept.Count, ["kept_share"] = (double)kept.Count / answers.Count,
                ["kept_accuracy"] = kept.Count == 0 ? null : kept.Count(c => c.Truth == c.Predicted) / (double)kept.Count,
            };
            json["risk_coverage"] = stages.RiskCoverage.Select(c => new Dictionary<string, object>
            {
                ["coverage"] = c.Coverage, ["cells"] = c.Cells, ["confidence_threshold"] = c.Threshold, ["accuracy"] = c.Accuracy,
            }).ToList();
            // Several sources: each read on its own (a classifier can learn the source instead of the stage).
            var perSource = answers.PerSource();
            if (perSource.Count > 1)
                json["per_source"] = perSource.ToDictionary(x => x.Source, x => (object)new Dictionary<string, object>
                {
                    ["images"] = x.Cells, ["accuracy"] = x.Accuracy, ["macro_f1"] = x.MacroF1, ["macro_f1_ci95_bootstrap"] = new[] { x.Low, x.High },
                    ["f1_per_class"] = x.F1.ToDictionary(f => f.Class.Code(), f => f.F1),
                });
            AtomicFile.WriteAllText(file, JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{set.Count} images: accuracy {Percent.Of(metrics.Accuracy, 2)}% (95% CI {Percent.Of(accLow)}–{Percent.Of(accHigh)}, Wilson), macro F1 {Percent.Of(metrics.MacroF1, 2)}% " +
                $"(95% CI {Percent.Of(f1Low)}–{Percent.Of(f1High)}, bootstrap over cells), weighted F1 {Percent.Of(metrics.WeightedF1, 2)}% → {Path.GetFullPath(file)}"));
            if (perSource.Count > 1) Console.WriteLine("per source:\n" + string.Join("\n", perSource.Select(x => "  " + x)));
            Console.WriteLine($"within one stage {Percent.Of(stages.WithinOneStage)}%, quadratic-weighted κ {stages.QuadraticKappa.ToString("0.000", CultureInfo.InvariantCulture)} " +
                              $"({stages.KappaCells} myeloid cells), ECE {stages.ExpectedCalibrationError.ToString("0.000", CultureInfo.InvariantCulture)}; accuracy of the surest " +
                              string.Join(", ", stages.RiskCoverage.Select(c => $"{Percent.Of(c.Coverage, 0)}%: {Percent.Of(c.Accuracy)}%")));
            if (OutsideStageScores.Of(answers) is { } o)
                Console.WriteLine($"outside the stages: {o.Cells} cells, {Percent.Of(o.NotCalledAStage)}% not called a stage ({string.Join(", ", o.Types.Select(t => $"{t.Class.Code()} {t.Right}/{t.Cells} right, {t.CalledAStage} called a stage"))}); " +
                                  $"the stages' macro F1 {Percent.Of(o.StagesMacroF1)}%");
            if (envelopeLine is not null) Console.WriteLine(envelopeLine);
            string keptRight = kept.Count == 0 ? "" : $", {Percent.Of(kept.Count(c => c.Truth == c.Predicted) / (double)kept.Count)}% of them right";
            Console.WriteLine($"review queue below {below.ToString("0.###", CultureInfo.InvariantCulture)} ({why}): {kept.Count} of {answers.Count} cells kept{keptRight}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"classified in {seconds:0.00} s: {set.Count / Math.Max(seconds, 1e-9):0} cells/s ({FoldEnsemble.PassesPerCell(model)} forward passes a cell, {Inference.StreamsText(Inference.StreamsFor(FoldEnsemble.MembersOf(model)[0].Network, Inference.DefaultBatch))}; the images were read and cut before)"));
            return 0;
        });
        return command;
    }
}
