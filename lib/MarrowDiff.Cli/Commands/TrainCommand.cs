using System.CommandLine;
using System.Globalization;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Experiments;
using MarrowDiff.Preparation;
using MarrowDiff.Reports;
using MarrowDiff.Torch;
using MarrowDiff.Training;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow train</c>: cross-validation, then one model of a training set (or a dual stage's local model).</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data(required: true);
        var variant = new Option<string?>("--variant") { Description = "the training set: OG, AG, OS<N>, AG+OS<N> (default: the profile's training set, its profile.json's training_set, else the largest, AG+OS at its higher N: AG+OS600 for the paper, AG+OS150 for real, real-plus, real-lite, real-fast and real-transfer)" };
        var pair = new Option<string?>("--pair") { Description = "trains the dual stage's local 2-class model on the variant's images of these two classes only", HelpName = "C9/C10" };
        var outside = new Option<bool>("--outside-stages")
        {
            Description = "also trains on the cells outside the ten stages that the data label (lymphocytes, monocytes, eosinophils, basophils, unstaged " +
                          "erythroblasts; e.g. PBC's LY, MO, EO, BA, ERB), as outcomes of their own: the model answers exactly the classes the data have, " +
                          "and count and predict report those cells in rows of their own (fold protocols only)",
        };
        var profile = CommonOptions.Profile();
        var seed = CommonOptions.Seed();
        var groupBy = CommonOptions.GroupBy();
        var set = CommonOptions.Set();
        var pitch = CommonOptions.Pitch();
        var models = CommonOptions.Models();
        var outDir = CommonOptions.Out("the model folder: model.safetensors, model.json, profile.json, normalisation.json, classes.json, history.csv");
        var command = new Command("train",
            "Five-fold cross-validation picks the hyper-parameters (cached), then trains the variant on the saved split's training side and saves the model. " +
            "Public datasets' crops are resampled to the project's 0.16 um/px first (each source's pitch estimated from its red cells unless --pitch gives it).")
        {
            data, variant, pair, outside, profile, seed, groupBy, set, pitch, models, outDir,
        };
        command.SetAction(r =>
        {
            var localPair = r.GetValue(pair) is { } text ? CellTaxonomy.ParsePair(text) : ((CellClass, CellClass)?)null;
            string folder = r.GetValue(outDir)!;
            var progress = new ConsoleProgress();
            // The resolved profile (with every --set and the seed) travels on: its name stamps the split summary, the
            // cross-validation table and the model; profile.json holds all of it.
            ExperimentProfile resolved = Workbook.Resolve(r.GetValue(profile)!, r.GetValue(seed), r.GetValue(set));
            string variantName = r.GetValue(variant) ?? resolved.ClassifierVariant.Name;
            var experiment = OpenExperiment(r.GetValue(data)!, resolved, r.GetValue(groupBy)!, r.GetValue(pitch), r.GetValue(models), progress, r.GetValue(outside));
            var prep = experiment.Prep;
            if (resolved.Protocol != Protocol.Search)
            {
                if (localPair is not null) throw new ArgumentException($"--pair: profile {resolved.Name} trains a fold ensemble; train a local model with a single-model profile (real, smoke, …)");
                // The fold models are the cross-validation (and, under final=ensemble, the classifier): no separate search.
                using var trained = experiment.TrainClassifier(prep.Variant(variantName), resolved.Grid[0]);
                var result = trained.Folds!;
                trained.Save(folder, resolved.ToJson(), resolved.Seed);
                foreach (string line in experiment.Log) Console.WriteLine(line);
                Console.WriteLine(TrainingReports.FoldEnsembleText(result, resolved));
                Console.WriteLine(trained.Classifier is not TrainedModel final
                    ? $"{result.Ensemble.Name}: {result.Ensemble.Members.Count} models → {Path.GetFullPath(folder)}"
                    : string.Create(CultureInfo.InvariantCulture,
                        $"{final.Name}: one model on all {SplitOptions.Folds} folds ({final.Card.TrainingImages} training images, {final.TrainingSeconds / 60:0.0} min), " +
                        $"estimated by the {result.Ensemble.Members.Count}-fold cross-validation above → {Path.GetFullPath(folder)}"));
                return 0;
            }
            var cv = experiment.CrossValidate();
            Console.WriteLine(TrainingReports.CrossValidationTable(cv, prep.Provenance, resolved));
            // A local model that starts from the global one (local_from_global) needs that global model first: the same
            // variant and hyper-parameters, trained or read from the cache.
            using var global = localPair is not null && resolved.LocalFromGlobal ? experiment.Train(prep.Variant(variantName), cv.Chosen) : null;
            using var model = localPair is var (first, second)
                ? experiment.TrainLocal(prep.Variant(variantName), cv.Chosen, first, second, global)
                : experiment.Train(prep.Variant(variantName), cv.Chosen);
            model.Save(folder, resolved.ToJson());
            foreach (string line in experiment.Log) Console.WriteLine(line);
            var last = model.History[^1];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{model.Name}: {model.Card.TrainingImages} training images, {last.Epoch} epochs, final training loss {last.TrainLoss:0.000}, " +
                $"validation accuracy (fold {resolved.ValidationFold}) {Percent.Of(last.ValidationAccuracy ?? 0)}% → {Path.GetFullPath(folder)}"));
            return 0;
        });
        return command;
    }

    /// <summary>What every training command does first: opens the data under the resolved profile (bad files stop it,
    /// named), prints the tiles' notes, the profile's caveat and split, and the CPU's advice on the engine and budget,
    /// and gives the experiment whose progress draws the console bar.</summary>
    internal static Experiment OpenExperiment(string data, ExperimentProfile resolved, string groupBy, string? pitch, string? models, ConsoleProgress progress,
                                              bool outsideStages = false)
    {
        var (_, _, prep) = Workbook.Open(data, resolved, groupBy, progress, pitch, BadFilePolicy.Stop, outsideStages);
        foreach (string note in prep.Tiles.Notes) Console.WriteLine(note);
        var experiment = new Experiment(prep, resolved, Path.GetFullPath(models ?? Workbook.ModelsRoot))
        {
            Progress = new Progress<TrainingProgress>(p => progress.Report(p.AsWork())),
            Outputs = outsideStages ? Experiment.TaskOutputs(prep) : null,
        };
        if (outsideStages) Console.WriteLine($"outputs: {string.Join(", ", experiment.Outputs!.Select(k => k.Code()))} (the cells outside the ten stages as outcomes of their own)");
        Console.WriteLine($"{resolved.Caveat}; {prep.Split.Options}; data {prep.Provenance.Data}");
        var cpu = CpuInfo.Current();
        if (EngineAdvice.For(resolved.Engine, cpu) is { } advice) Console.WriteLine(advice);
        if (resolved.Run.BudgetAdvice(resolved.Name, cpu) is { } budget) Console.WriteLine(budget);
        return experiment;
    }
}
