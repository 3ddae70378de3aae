using System.CommandLine;
using System.Globalization;
using MarrowDiff.Core;
using MarrowDiff.Counting;
using MarrowDiff.Reports;
using MarrowDiff.Training;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow count</c>: a differential count from whole smear fields.</summary>
internal static class CountCommand
{
    public static Command Create()
    {
        var fields = new Option<string[]>("--fields") { Description = "field images (PNG, JPEG, BMP, TIFF, any size) or folders of them (searched recursively)", Required = true, HelpName = "PATH", AllowMultipleArgumentsPerToken = true };
        var model = new Option<string?>("--model") { Description = "a saved 10-class model; without it the cells are found and counted, not classified", HelpName = "DIR" };
        var local = new Option<string?>("--local") { Description = "a local 2-class model: classify with the dual stage of --model and this one", HelpName = "DIR" };
        var pitch = new Option<string>("--pitch") { Description = "µm per pixel of the fields, or auto: estimated from each field's red cells (pooled over fields of one size when a field has too few)", DefaultValueFactory = _ => "auto", HelpName = "UM|auto" };
        var target = new Option<int>("--target") { Description = "cells the differential is meant to count (reported against what was counted)", DefaultValueFactory = _ => 500 };
        var reviewBelow = new Option<double?>("--review-below") { Description = $"cells whose top probability is below this go to the review queue (default: the threshold chosen on --model's folds, saved with it; else {SavedScores.Unchosen})", HelpName = "P" };
        var outDir = CommonOptions.Out("the report folder: cells.csv, count.json, report.html and PNGs (written atomically)");
        var command = new Command("count",
            "A differential count from whole smear fields: finds the nucleated cells (white cells and erythroid precursors; not red cells or platelets), " +
            "splits touching ones, leaves out cells cut by the field edge, classifies each cell's 96-px patch (with --model), and writes the count with exact " +
            "95% intervals, M:E, blasts and a review queue of the least sure cells.")
        {
            fields, model, local, pitch, target, reviewBelow, outDir,
        };
        command.SetAction(r =>
        {
            string p = r.GetValue(pitch)!;
            double? given = p.Equals("auto", StringComparison.OrdinalIgnoreCase) ? null
                : double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
                : throw new ArgumentException($"--pitch {p}: µm per pixel (e.g. 0.1) or auto");
            if (r.GetValue(local) is not null && r.GetValue(model) is null) throw new ArgumentException("--local needs --model (the global model of the dual stage)");
            using var global = r.GetValue(model) is { } m ? TrainedModel.Load(m) : null;
            using var localModel = r.GetValue(local) is { } l ? TrainedModel.Load(l) : null;
            var classifier = global is null ? null : new PatchClassifier(global, localModel);
            string[] paths = r.GetValue(fields)!;
            var (below, why) = SavedScores.ReviewFor(r.GetValue(reviewBelow), global?.Folder);
            if (classifier is not null) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"review queue: cells below {below:0.###} ({why})"));
            var (count, timing) = FieldCount.Run(paths, given, classifier, r.GetValue(target), below, new ConsoleProgress());
            string first = FieldCount.DataRoot(paths);
            var provenance = global is null ? Provenance.For("detection only", first, 0) : Provenance.For(global.Card.Profile, first, global.Card.Config.Seed);
            foreach (var (field, reason) in count.SkippedFields) Console.WriteLine($"skipped {field}: {reason}");
            string report = count.Write(r.GetValue(outDir)!, provenance);
            Console.WriteLine(count.Table(provenance));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{count.Fields.Count} fields ({count.SkippedFields.Count} skipped), {count.Cells.Count} cells found, {count.Counted} counted, {count.LeftAtEdge} left out at the edge" +
                $"{(classifier is null ? " (detection only: no --model)" : $", {count.ReviewQueue.Count} to review")}; " +
                $"{timing.SecondsPerField:0.000} s per field (read {timing.Reading.TotalSeconds:0.0} s, find {timing.Finding.TotalSeconds:0.0} s, classify {timing.Classifying.TotalSeconds:0.0} s) → {report}"));
            return count.SkippedFields.Count == 0 ? 0 : AuditCommand.SomeFilesBad;
        });
        return command;
    }
}
