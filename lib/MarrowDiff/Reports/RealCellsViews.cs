using System.Globalization;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Experiments;
using MarrowDiff.Imaging;
using MarrowDiff.Training;

namespace MarrowDiff.Reports;

/// <summary>Notebook 07's views of real cells (<see cref="RealCells"/>) and of its tasks (<see cref="RealTask"/>): what
/// was read, per source; the one physical scale and its evidence; each task's test result and cross-validation. When
/// the data folder is absent, every view says so and how to get the data.</summary>
public static class RealCellsViews
{

    /// <summary>Where to get the two public datasets and how to point the notebook at them.</summary>
    public static HtmlView HowToGetTheData(this RealCells r) => new(
        $"<p><b>No data at <code>{HtmlView.Encode(Path.GetFullPath(r.Data))}</code>.</b> This notebook needs real labelled cell images. Download either or both "
        + "public datasets (both CC BY 4.0; cite them with any result):</p><ul>"
        + $"<li>Matek et al. 2021, bone marrow: TCIA collection Bone-Marrow-Cytomorphology_MLL_Helmholtz_Fraunhofer (doi:10.7937/TCIA.AXH3-T579); point <code>data</code> at its <code>BM_cytomorphology_data</code> folder.</li>"
        + $"<li>Acevedo et al. 2020, peripheral blood (PBC): Mendeley Data doi:10.17632/snkd93bnjr.1; point <code>data</code> at its <code>PBC_dataset_normal_DIB</code> folder.</li>"
        + "<li>Or a folder holding both in their own layouts with a <code>manifest.csv</code> (columns path, mapped_class, dataset, specimen), like the development subset in <code>../shared/real-cells</code>.</li></ul>"
        + "<p>Images are read where they are and never copied into the project.</p>",
        $"No data at {Path.GetFullPath(r.Data)}: download Matek et al. 2021 (TCIA doi:10.7937/TCIA.AXH3-T579) and/or PBC (Mendeley doi:10.17632/snkd93bnjr.1) and set data to the folder.");

    private static HtmlView Skipped(string what) => new($"<p><i>{HtmlView.Encode(what)}: skipped, no data (see above).</i></p>", $"{what}: skipped, no data");


    /// <summary>What was read: images per source and class, and the Other labels left out of the 10-class task.</summary>
    public static HtmlView Sources(this RealCells r)
    {
        if (r.Dataset is null) return r.HowToGetTheData();
        var sources = r.Dataset.Cells.Select(c => c.Source).Distinct().Order(StringComparer.Ordinal).ToList();
        var rows = CellTaxonomy.All.Select(k => (IReadOnlyList<object?>)[k.Label(), .. sources.Select(s => (object?)r.Dataset.Cells.Count(c => c.Source == s && c.Label.Class == k))]).ToList();
        rows.Add(["Other (excluded, by code)", .. sources.Select(s => (object?)string.Join(", ", r.Dataset.Cells.Where(c => c.Source == s && c.Label.IsOther)
            .GroupBy(c => c.Label.OtherCode!).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}")))]);
        rows.Add(["specimen", .. sources.Select(s => (object?)(r.Dataset.Cells.FirstOrDefault(c => c.Source == s)?.Specimen ?? ""))]);
        return HtmlView.Table($"Images per source and class - {r.Dataset.Layout} - {r.Provenance!.Stamp}", ["class", .. sources], rows);
    }

    /// <summary>Which of the paper's classes cannot be evaluated on these images, and why.</summary>
    public static HtmlView NotEvaluable(this RealCells r)
    {
        if (r.Dataset is null) return Skipped("classes that cannot be evaluated");
        var rows = CellTaxonomy.All.Where(k => r.Dataset.ClassCounts[k] == 0).Select(k => (IReadOnlyList<object?>)[k.Label(), Reason(k)]).ToList();
        var sourceBound = CellTaxonomy.All.Where(k => r.Dataset.ClassCounts[k] > 0)
            .Select(k => (k, Sources: r.Dataset.Cells.Where(c => c.Label.Class == k).Select(c => c.Source).Distinct().ToList()))
            .Where(x => x.Sources.Count == 1).Select(x => (IReadOnlyList<object?>)[x.k.Label(), $"only from {x.Sources[0]}: a mixed-source model can learn the source (scale, stain) instead of the stage; compare within a source"]);
        return HtmlView.Table($"Classes that cannot be evaluated, or only with care - {r.Provenance!.Stamp}", ["class", "why"], rows.Concat(sourceBound));

        string Reason(CellClass k) => k.Series() == Series.Erythroid
            ? k == CellClass.Pronormoblast ? "no image in these data (Matek's PEB maps here; PBC has no pronormoblast)"
              : "neither dataset separates basophilic / polychromatic / orthochromatic normoblasts (PBC's ERB and Matek's EBO are unstaged erythroblasts, kept as Other)"
            : "no image of this class in the data";
    }

    /// <summary>Each source's pitch, how it was obtained, and the factor its crops are resampled by.</summary>
    public static HtmlView ScaleTable(this RealCells r)
    {
        if (r.Dataset is null) return Skipped("pixel pitch per source");
        return HtmlView.Table($"One physical scale: each source resampled to {CellPatch.PitchUm} µm/px (a {CellPatch.Size}-px patch spans {CellPatch.SideUm:0.#} µm) - {r.Provenance!.Stamp}",
            ["source", "µm per px", "resampled by", "how"],
            r.Scales.Values.Select(s => (IReadOnlyList<object?>)[s.Source, Math.Round(s.PitchUm, 4), Math.Round(s.PitchUm / CellPatch.PitchUm, 3), s.How]));
    }

    /// <summary>One image of each source whose red cells were measured, with the red cells found boxed: what the
    /// estimate rests on (shown inline only; nothing is written into the project).</summary>
    public static HtmlView ScaleEvidence(this RealCells r)
    {
        if (r.Dataset is null) return Skipped("red cells found");
        var reader = new CellImageReader();
        var views = new List<HtmlView>();
        foreach (var (source, files) in SourceScales.Sample(r.Dataset, 12))
        {
            if (!r.Scales.TryGetValue(source, out var scale) || scale.RedCells == 0) continue;
            string? file = files.FirstOrDefault(f => RedCellScale.Find(reader.Read(f)).Count > 0);
            if (file is not null) views.Add(Figures.InlinePhoto(RedCellScale.Overlay(reader.Read(file)), $"{source}: red cells found (green boxes) in {Path.GetFileName(file)}"));
        }
        return views.Count == 0 ? Skipped("red cells found") : HtmlView.Concat([.. views]);
    }


    /// <summary>
    /// Writes the notebook's result tables as plain text to <c>07-real-data-{profile}.txt</c> in <paramref name="folder"/>
    /// (atomically; numbers only, never a cell image, so it is safe to keep beside real data's results), so that the
    /// numbers the README and docs quote sit in the repository without the notebook's 9 MB of images.
    /// </summary>
    public static HtmlView SaveSummary(this RealCells r, string folder, params HtmlView[] views)
    {
        string file = Path.Combine(folder, $"07-real-data-{r.Profile.Name}.txt");
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(file, string.Join(Environment.NewLine, views.Select(v => v.ToString())));
        return HtmlView.Table($"Saved - {r.Provenance!.Stamp}", ["file"], [[Path.GetFileName(file)]]);
    }

    /// <summary>Accuracy and macro-F1 of a task's test predictions, per class and per source.</summary>
    public static HtmlView Results(this RealCells r, RealTask task)
    {
        var p = task.Test;
        var rows = new List<IReadOnlyList<object?>>();
        // One row per source, then one for every test cell.
        var parts = Enumerable.Range(0, p.Count).GroupBy(i => p.Set.CellOf(i).Source).OrderBy(g => g.Key, StringComparer.Ordinal)
                              .Select(g => (Name: g.Key, Cells: g.ToList())).Append(("all test cells", Enumerable.Range(0, p.Count).ToList()));
        foreach (var (name, idx) in parts)
        {
            var m = ClassificationMetrics.From(idx.Select(i => p.Truth[i]).ToList(), idx.Select(i => p.Predicted[i]).ToList(), p.Classes.Select(c => c.Label()).ToList());
            var present = Enumerable.Range(0, p.Classes.Count).Where(c => m.PerClass[c].Support > 0).ToList();
            rows.Add([name, idx.Count, Percent.Of(m.Accuracy), Table1Views.WilsonText(m.Accuracy, idx.Count), Percent.Of(m.MacroF1),
                      string.Join(", ", present.Select(c => $"{p.Classes[c].Code()} {Percent.Of(m.PerClass[c].F1)}"))]);
        }
        double minutes = task.Model.TrainingSeconds / 60;
        bool several = task.Model is FoldEnsemble { Members.Count: > 1 };
        // Side by side, the members' own times overlap: their sum is not the wall clock.
        string added = several && task.Experiment.Profile.SideBySide ? ", the models' times added: they trained side by side" : "";
        return HtmlView.Table($"{task.Name}: {task.Model.Card.Variant} ({task.Model.Card.TrainingImages} training images{(several ? " per model" : "")}, " +
                              $"trained in {minutes.ToString("0.0", CultureInfo.InvariantCulture)} min{added}), test cells of the shared split - {r.Caveat} - {task.Prep.Provenance.Stamp}",
            ["source", "test cells", "accuracy %", "95% CI", "macro F1 % (classes present)", "F1 % per class"], rows);
    }

    /// <summary>A fold-ensemble task's cross-validation: each fold's held-out cells scored by the one model that did not
    /// train on them, then all of them pooled (every training-side cell once), beside the test result; with the
    /// training time. Explains itself when the task trained a single model.</summary>
    public static HtmlView CrossValidation(this RealCells r, RealTask task)
    {
        if (task.Folds is not { } folds)
            return new HtmlView($"<p><i>{HtmlView.Encode(task.Name)}: one model ({HtmlView.Encode(r.Profile.Name)} profile), no fold ensemble: its validation fold is in the training history.</i></p>",
                                $"{task.Name}: one model, no fold ensemble");
        var rows = new List<IReadOnlyList<object?>>();
        for (int k = 0; k < folds.HeldOut.Count; k++)
        {
            var m = folds.PerFold[k];
            var member = folds.Ensemble.Members[k];
            rows.Add([$"fold {k + 1} (model {k + 1})", folds.HeldOut[k].Count, Percent.Of(m.Accuracy), Table1Views.WilsonText(m.Accuracy, folds.HeldOut[k].Count), Percent.Of(m.MacroF1), "",
                      Minutes(member.TrainingSeconds)]);
        }
        var pooled = folds.Pooled;
        int n = folds.HeldOut.Sum(p => p.Count);
        rows.Add(["cross-validation, pooled", n, Percent.Of(pooled.Accuracy), Table1Views.WilsonText(pooled.Accuracy, n), Percent.Of(pooled.MacroF1), Range(folds.PooledMacroF1Interval(r.Seed)),
                  Minutes(folds.Ensemble.TrainingSeconds) + (task.Experiment.Profile.SideBySide ? " (added; trained side by side)" : "")]);
        var test = task.Test.Metrics;
        bool final = task.Model is TrainedModel;
        rows.Add([final ? "test: the final model (all five folds, alone)" : $"test: the {folds.HeldOut.Count} models together", task.Test.Count, Percent.Of(test.Accuracy),
                  Table1Views.WilsonText(test.Accuracy, task.Test.Count), Percent.Of(test.MacroF1),
                  Range(Intervals.BootstrapMacroF1(task.Test.Truth, task.Test.Predicted, test.Classes.Count, r.Seed)), final ? Minutes(task.Model.TrainingSeconds) : "(no training)"]);
        return HtmlView.Table($"{task.Name}: {folds.HeldOut.Count}-fold cross-validation of the recipe, and {(final ? "the final model" : "the fold ensemble")} on the test cells - {r.Caveat} - {task.Prep.Provenance.Stamp}",
            ["cells", "n", "accuracy %", "95% CI (Wilson)", "macro F1 %", "95% CI (bootstrap)", "training (min)"], rows);

        static string Minutes(double seconds) => (seconds / 60).ToString("0.0", CultureInfo.InvariantCulture);
        static string Range((double Low, double High) ci) => $"{Percent.Of(ci.Low)}-{Percent.Of(ci.High)}";
    }

    /// <summary>
    /// The scores a hematologist reads beside strict macro F1, on a task's test cells: within one maturation stage,
    /// quadratic-weighted κ over the myeloid order, calibration (ECE), the accuracy of the surest 50/80/90/100% of the
    /// cells, and, for a fold-trained task, the review threshold chosen on its folds (never on a test cell) and what it
    /// keeps of the test cells.
    /// </summary>
    public static HtmlView StageScores(this RealCells r, RealTask task)
    {
        var answers = task.Test.Answers;
        var s = Evaluation.StageScores.Of(answers);
        List<IReadOnlyList<object?>> rows =
        [
            ["within one maturation stage", Percent.Of(s.WithinOneStage) + "%", "the answer is the cell's stage or a neighbouring one of its series"],
            ["quadratic-weighted κ", double.IsFinite(s.QuadraticKappa) ? s.QuadraticKappa.ToString("0.000", CultureInfo.InvariantCulture) : "undefined",
             $"over the myeloid order C5-C10, {s.KappaCells} cells myeloid in truth and answer; 1 every answer right, 0 chance"],
            ["expected calibration error", s.ExpectedCalibrationError.ToString("0.000", CultureInfo.InvariantCulture), "mean gap between confidence and accuracy, 0 perfectly calibrated"],
        ];
        foreach (var c in s.RiskCoverage)
            rows.Add([$"accuracy of the surest {Percent.Of(c.Coverage, 0)}%", Percent.Of(c.Accuracy) + "%",
                      $"{c.Cells} cells kept, the least sure at confidence {c.Threshold.ToString("0.000", CultureInfo.InvariantCulture)}; the rest would go to review"]);
        if (task.Folds is { } folds)
        {
            var chosen = ReviewThreshold.Choose(folds.HeldOut);
            var kept = answers.Cells.Where(c => c.Probabilities.Max() >= chosen.Below).ToList();
            rows.Add(["review threshold, chosen on the folds", chosen.Below.ToString("0.000", CultureInfo.InvariantCulture),
                      $"the lowest whose kept held-out cells reach {Percent.Of(chosen.TargetAccuracy, 0)}% accuracy (there {Percent.Of(chosen.KeptAccuracy)}% of {Percent.Of(chosen.Coverage)}%); " +
                      $"on the test cells it keeps {kept.Count} of {answers.Count}" + (kept.Count == 0 ? "" : $", {Percent.Of(kept.Count(c => c.Truth == c.Predicted) / (double)kept.Count)}% right")]);
        }
        return HtmlView.Table($"{task.Name}: scores a hematologist reads, on the test cells - {r.Caveat} - {task.Prep.Provenance.Stamp}", ["score", "value", "what it says"], rows);
    }
}
