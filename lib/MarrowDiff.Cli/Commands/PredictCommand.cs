using System.CommandLine;
using System.Globalization;
using MarrowDiff.Counting;
using MarrowDiff.Data;
using MarrowDiff.Training;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow predict</c>: a saved classifier on unlabelled single-cell images, one row a file.</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "a saved 10-class model or fold-ensemble folder", Required = true, HelpName = "DIR" };
        var images = new Option<string[]>("--images") { Description = "single-cell images (PNG, JPEG, BMP, TIFF; the cell centred, as the public datasets crop them) or folders of them (searched recursively)", Required = true, HelpName = "PATH", AllowMultipleArgumentsPerToken = true };
        var pitch = new Option<double?>("--pitch") { Description = "µm per pixel of the images (default: the model's pitch for --source, else estimated from the images' red cells)", HelpName = "UM" };
        var source = new Option<string?>("--source") { Description = "the images come from this source the model was trained on (PBC, Matek): use the pitch it learnt that source at", HelpName = "NAME" };
        var reviewBelow = new Option<double?>("--review-below") { Description = $"flag a cell for review when its top probability is below this (default: the threshold chosen on the model's folds, saved with it; else {SavedScores.Unchosen})", HelpName = "P" };
        var outFile = CommonOptions.Out("the predictions: file, predicted_class, probability, review, p_C1…p_C10 (written atomically)", helpName: "FILE.csv");
        var command = new Command("predict",
            "Classifies unlabelled single-cell images with a saved model: each image resampled to the project's 0.16 µm/px and cut to the 96-px patch at " +
            "its centre, as in training. One row a file; an unreadable file is named with its reason (exit 3), never dropped.")
        {
            model, images, pitch, source, reviewBelow, outFile,
        };
        command.SetAction(r =>
        {
            using var classifier = FoldEnsemble.LoadAny(r.GetValue(model)!);
            double? um = r.GetValue(pitch);
            if (um is null && r.GetValue(source) is { } name)
            {
                var learnt = classifier.Card.Pitches ?? new Dictionary<string, double>();
                um = learnt.FirstOrDefault(kv => kv.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value is > 0 and var v ? v
                    : throw new ArgumentException($"--source {name}: the model learnt no pitch for it (it knows {(learnt.Count == 0 ? "none" : string.Join(", ", learnt.Keys))}); give --pitch");
            }
            var files = FieldCount.Files(r.GetValue(images)!);
            var (below, why) = SavedScores.ReviewFor(r.GetValue(reviewBelow), classifier.Folder);
            var run = UnlabelledCells.Predict(classifier, files, um, below, progress: new ConsoleProgress());
            string file = Path.GetFullPath(r.GetValue(outFile)!);
            UnlabelledCells.Save(run, file);
            foreach (var (f, reason) in run.Skipped) Console.WriteLine($"skipped {f}: {reason}");
            var byClass = run.Rows.GroupBy(x => x.Class).OrderBy(g => g.Key).Select(g => $"{g.Key.Code()} {g.Count()}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{run.Rows.Count} cells classified by {classifier.Name} at {run.Scale} ({string.Join(", ", byClass)}); {run.Rows.Count(x => x.Review)} flagged for review " +
                $"(top probability < {below:0.###}: {why}); {run.Skipped.Count} unreadable → {file}"));
            return run.Skipped.Count == 0 ? 0 : AuditCommand.SomeFilesBad;
        });
        return command;
    }
}
