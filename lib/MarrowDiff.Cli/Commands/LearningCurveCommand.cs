using System.CommandLine;
using System.Globalization;
using MarrowDiff.Experiments;
using MarrowDiff.Reports;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow learning-curve</c>: a fold-ensemble profile's cross-validated macro F1 at several shares of the
/// training cells, and how many cells the fitted line says a target would take.</summary>
internal static class LearningCurveCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data(required: true);
        var profile = CommonOptions.Profile("real-transfer");
        var seed = CommonOptions.Seed();
        var groupBy = CommonOptions.GroupBy();
        var set = CommonOptions.Set();
        var pitch = CommonOptions.Pitch();
        var shares = new Option<string>("--shares")
        {
            Description = "shares of each fold model's training cells of each class, comma-separated, each in (0, 1]; 1 is the profile's own cross-validation",
            DefaultValueFactory = _ => "0.25,0.5,0.75,1", HelpName = "S1,S2,...",
        };
        var target = new Option<double>("--target") { Description = "the macro F1 (0-1) the fitted line is carried to", DefaultValueFactory = _ => 0.85, HelpName = "F1" };
        var models = CommonOptions.Models("the fold models (share 1: marrow train's own) and their checkpoints");
        var outDir = CommonOptions.Out("the folder for learning-curve.csv, learning-curve.md and learning-curve.png");
        var command = new Command("learning-curve",
            "Trains a fold-ensemble profile's five fold models at each share of their training cells (seeded, nested, whole cells) and scores each " +
            "on its whole held-out fold, so every point is scored on the same cells; fits macro F1 against log2 of the cells. No test cell is read.")
        {
            data, profile, seed, groupBy, set, pitch, shares, target, models, outDir,
        };
        command.SetAction(r =>
        {
            var list = ParseShares(r.GetValue(shares)!);
            var progress = new ConsoleProgress();
            ExperimentProfile resolved = Workbook.Resolve(r.GetValue(profile)!, r.GetValue(seed), r.GetValue(set));
            if (resolved.Protocol == Protocol.Search) throw new ArgumentException($"--profile {resolved.Name}: a learning curve needs a profile that trains fold models (real-plus, real-lite, real-fast, real-transfer, or ensemble_folds=5)");
            var experiment = TrainCommand.OpenExperiment(r.GetValue(data)!, resolved, r.GetValue(groupBy)!, r.GetValue(pitch), r.GetValue(models), progress);
            var curve = LearningCurve.Measure(experiment, resolved.ClassifierVariant, list, r.GetValue(target));
            foreach (string line in experiment.Log) Console.WriteLine(line);
            string folder = curve.Save(r.GetValue(outDir)!);
            Console.WriteLine(curve.Markdown());
            Console.WriteLine($"→ {folder}");
            return 0;
        });
        return command;
    }

    /// <summary>"0.25,0.5,1" → the shares; a malformed or out-of-range one is named.</summary>
    public static IReadOnlyList<double> ParseShares(string text)
    {
        var list = new List<double>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double share) || !(share > 0 && share <= 1))
                throw new ArgumentException($"--shares {text}: '{part}' is not a share in (0, 1]");
            list.Add(share);
        }
        return list;
    }
}
