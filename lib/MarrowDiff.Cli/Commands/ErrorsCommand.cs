using System.CommandLine;
using System.Globalization;
using MarrowDiff.Analysis;
using MarrowDiff.Core;
using MarrowDiff.Evaluation;
using MarrowDiff.Preparation;
using MarrowDiff.Reports;
using MarrowDiff.Training;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow errors</c>: the error analysis of a saved model (or its dual stage) as one HTML page.</summary>
internal static class ErrorsCommand
{
    public static Command Create()
    {
        var modelDirs = new Option<string[]>("--model") { Description = "a saved global model; repeat to compare invariance with other models", Required = true, HelpName = "DIR" };
        var localDir = new Option<string?>("--local") { Description = "a local 2-class model: analyse the dual stage of --model and this one", HelpName = "DIR" };
        var data = CommonOptions.Data(required: true);
        var part = CommonOptions.Part("test");
        var profile = CommonOptions.Profile();
        var seed = CommonOptions.Seed();
        var pitch = CommonOptions.Pitch();
        var occlusions = new Option<int>("--occlusions") { Description = "how many of the most confident wrong cells get an occlusion map", DefaultValueFactory = _ => 4 };
        var outDir = CommonOptions.Out("the report folder (index.html and the PNGs beside it)");
        var command = new Command("errors",
            "Error analysis of a saved model (with --local, of the dual stage) on the test part of its split (or all cells): one self-contained page with the " +
            "misclassified cells and their softmax outputs (most confident first), occlusion maps, location and rotation invariance (of every --model, " +
            "for comparison) and the reliability diagram with its ECE.")
        {
            modelDirs, localDir, data, part, profile, seed, pitch, occlusions, outDir,
        };
        command.SetAction(r =>
        {
            string[] folders = r.GetValue(modelDirs)!;
            string which = r.GetValue(part)!;
            var models = folders.Select(TrainedModel.Load).ToList();
            using var local = r.GetValue(localDir) is { } l ? TrainedModel.Load(l) : null;
            try
            {
                var main = models[0];
                if (main.Outputs.Count == 2) throw new ArgumentException($"{folders[0]} is a local model; give the global model as --model and this one as --local");
                ICellClassifier analysed = local is null ? main : new DualStageClassifier(main, local);
                var (dataset, tiles, cells) = CellsToScore.Read(main.Card, r.GetValue(data)!, which, r.GetValue(profile)!, r.GetValue(seed), new ConsoleProgress(), r.GetValue(pitch));
                var set = SampleSet.Original(tiles, cells, which == "test" ? "test set" : "all cells").AnsweredBy(analysed.Outputs);
                Console.WriteLine($"scoring {set.Count} cells with {analysed.Name} …");
                var predictions = new Predictions(analysed.Name, set, analysed.Probabilities(set));
                var provenance = Provenance.For(main.Card.Profile, dataset.Root, main.Card.Config.Seed);
                string caveat = main.Card.Profile == "paper" ? "paper profile" : $"{main.Card.Profile} profile: not comparable to the paper";
                var analysis = new ErrorAnalysis(predictions, main, tiles, cells, provenance, caveat);
                var compare = new List<ICellClassifier> { analysed };
                compare.AddRange(models.Skip(1));
                Console.WriteLine($"occlusion, invariance and calibration of {string.Join(", ", compare.Select(c => c.Name))} …");
                string page = analysis.WriteReport(r.GetValue(outDir)!, compare, r.GetValue(occlusions));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{predictions.Wrong.Count} of {predictions.Count} cells wrong (accuracy {Percent.Of(predictions.Metrics.Accuracy, 2)}%) → {page}"));
                return 0;
            }
            finally { foreach (var m in models) m.Dispose(); }
        });
        return command;
    }
}
