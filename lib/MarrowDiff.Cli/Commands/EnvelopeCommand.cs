using System.CommandLine;
using System.Globalization;
using MarrowDiff.Core;
using MarrowDiff.Model;
using MarrowDiff.Preparation;
using MarrowDiff.Training;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow envelope</c>: fits a saved model's <see cref="FeatureEnvelope"/> into its folder, from the cells of
/// its own split that it trained on, its threshold from its validation fold.</summary>
internal static class EnvelopeCommand
{
    public static Command Create()
    {
        var modelDir = new Option<string>("--model") { Description = "a saved model folder (one model, not a fold ensemble)", Required = true, HelpName = "DIR" };
        var data = CommonOptions.Data(required: true);
        var profile = CommonOptions.Profile();
        var seed = CommonOptions.Seed();
        var pitch = CommonOptions.Pitch();
        var quantile = new Option<double>("--quantile")
        {
            Description = "share of the calibration cells inside the envelope: 1 minus it is the share of cells like them sent to review for this reason",
            DefaultValueFactory = _ => FeatureEnvelope.DefaultQuantile,
        };
        var command = new Command("envelope",
            "Fits where a saved model's training cells lie in its embedding (class means, one shared covariance) and saves it in the model's folder, " +
            "so that predict, count and evaluate flag a cell unlike any training cell (debris, a cut cell, a type the model never saw) for review. " +
            "The threshold is the --quantile of the model's validation fold (its training cells when it had none).")
        {
            modelDir, data, profile, seed, pitch, quantile,
        };
        command.SetAction(r =>
        {
            string folder = r.GetValue(modelDir)!;
            if (File.Exists(Path.Combine(folder, FoldEnsemble.ManifestFile)))
                throw new ArgumentException($"{folder} is a fold ensemble: fit the envelope of one model (its final model, or each member's folder)");
            using var model = TrainedModel.Load(folder);
            var (_, tiles, training, validation) = CellsToScore.ReadTraining(model.Card, r.GetValue(data)!, r.GetValue(profile)!, r.GetValue(seed), new ConsoleProgress(), r.GetValue(pitch));
            var trainingSet = SampleSet.Original(tiles, training, "training cells").AnsweredBy(model.Outputs);
            Console.WriteLine($"embedding the {trainingSet.Count} training cells of {model.Name} …");
            var trainingRows = Inference.Embeddings(model.Network, trainingSet, model.Normalisation);
            var labels = Enumerable.Range(0, trainingSet.Count).Select(trainingSet.Label).ToList();
            float[,] calibrationRows = trainingRows;
            string calibratedOn = "training cells (the model had no validation fold)";
            if (validation.Count > 0)
            {
                var validationSet = SampleSet.Original(tiles, validation, "validation fold").AnsweredBy(model.Outputs);
                calibrationRows = Inference.Embeddings(model.Network, validationSet, model.Normalisation);
                calibratedOn = $"cells of validation fold {model.Card.ValidationFold}";
            }
            var envelope = FeatureEnvelope.Fit(trainingRows, labels, model.Outputs, calibrationRows, calibratedOn, r.GetValue(quantile));
            envelope.Save(folder);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"envelope of {trainingSet.Count} training cells in {envelope.Dimension} dimensions, {envelope.Classes.Count} classes; threshold {envelope.Threshold:0.0} " +
                $"(percentile {Percent.Of(envelope.Quantile, 0)} of {envelope.CalibrationCells} {envelope.CalibratedOn}) → {Path.Combine(folder, FeatureEnvelope.FileName)}"));
            return 0;
        });
        return command;
    }
}
