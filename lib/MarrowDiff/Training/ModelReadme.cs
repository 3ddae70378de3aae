using System.Globalization;
using System.Text;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Model;

namespace MarrowDiff.Training;

/// <summary>
/// The <c>README.md</c> of a saved model folder: what a person who finds the folder needs to use it or to judge it —
/// the classes in output order, the input the network expects, the pixel pitch each training source was brought from,
/// the colour normalisation, how and on what it was trained, and its scores with their intervals when the training
/// command knew them. Written from the same card the loader reads, so it cannot disagree with the model.
/// </summary>
public static class ModelReadme
{
    public const string FileName = "README.md";

    /// <param name="scores">Cross-validated scores (<c>cv_macro_f1</c>, its <c>_ci95_low</c>/<c>_high</c>,
    /// <c>cv_accuracy</c>, <c>fold{k}_macro_f1</c>); null: none known when it was saved.</param>
    public static string For(string name, ModelCard card, IReadOnlyList<CellClass> outputs, ColourNormalisation normalisation,
                             IReadOnlyDictionary<string, double>? scores, int members = 1)
    {
        static string F(double v, string format = "0.###") => v.ToString(format, CultureInfo.InvariantCulture);
        var net = card.Config.Network;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# {name}: a MarrowDiff cell classifier\n\n");
        text.Append(card.Synthetic
            ? "**Trained on the synthetic phantom**: its scores say nothing about real cells and are not comparable to the paper's.\n\n"
            : "Trained on real cell images. Not comparable to the paper's numbers (other images, another protocol).\n\n");
        text.Append("| | |\n|---|---|\n");
        if (card.TrainedClasses is { } trained && trained.Count < outputs.Count)
        {
            // The network's outputs are the task's classes, but only these had a training image: the others are never
            // a sound answer, and a user must not read the model as one of ten stages.
            text.Append($"| classes it was trained on | {string.Join(", ", outputs.Where(c => trained.ContainsKey(c.Code())).Select(c => $"{c.Code()} {c.DisplayName()} ({trained[c.Code()]:N0} training images)"))} |\n");
            text.Append($"| network outputs, in order | {outputs.Count}: {string.Join(", ", outputs.Select(c => c.Code()))}; {string.Join(", ", outputs.Where(c => !trained.ContainsKey(c.Code())).Select(c => c.Code()))} never had a training image |\n");
        }
        else text.Append($"| classes, in output order | {string.Join(", ", outputs.Select(c => $"{c.Code()} {c.DisplayName()}"))} |\n");
        text.Append(
            $"| input | a {CellPatch.Size}×{CellPatch.Size} RGB patch at {F(CellPatch.PitchUm)} µm/px centred on the cell" +
            (net.InputSize != CellPatch.Size ? $", resized to {net.InputSize}×{net.InputSize} by the network's first step" : "") + " |\n");
        text.Append("| pixel pitch of each training source | " + (card.Pitches is { Count: > 0 } pitches
            ? string.Join(", ", pitches.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {F(p.Value)} µm/px")) + $" (each image resampled to {F(CellPatch.PitchUm)} µm/px before its patch was cut)"
            : $"drawn at {F(CellPatch.PitchUm)} µm/px") + " |\n");
        text.Append(CultureInfo.InvariantCulture,
            $"| normalisation | {normalisation.Space}; per channel minus mean ({string.Join(", ", normalisation.Mean.Select(m => F(m, "0.0000")))}) " +
            $"over std ({string.Join(", ", normalisation.Std.Select(s => F(s, "0.0000")))}) of its {normalisation.Images:N0} training images ({TrainedModel.NormalisationFile}) |\n");
        text.Append(CultureInfo.InvariantCulture, $"| network | {(net is VggConfig vgg ? $"VGG-{vgg.Depth}-BN at width {F(vgg.Width)}{(vgg.GlobalPool ? ", global average pooling" : "")}" : $"{net.Kind} (pretrained)")}, " +
            $"{members} model{(members == 1 ? "" : "s, softmax averaged")}; test-time D4 {(card.Config.Refinements?.Inference.TestTimeD4 == true ? "on (8 passes a cell)" : "off")} |\n");
        text.Append(CultureInfo.InvariantCulture, $"| training | profile `{card.Profile}`, training set {card.Variant}, {card.TrainingImages:N0} images a model, {card.Config.Epochs} epochs, " +
            $"batch {card.Config.BatchSize}, SGD lr {F(card.Config.Hyper.LearningRate)}, seed {card.Config.Seed}{(card.ValidationFold is { } k ? $", fold {k} held out" : "")} |\n");
        text.Append($"| data | {card.Data} (fingerprint {card.DataFingerprint[..Math.Min(12, card.DataFingerprint.Length)]}); split {Path.GetFileName(card.Split)} |\n");
        text.Append($"| code | MarrowDiff commit {card.Commit} |\n\n");

        text.Append("## Scores\n\n");
        if (scores is not null && scores.TryGetValue("cv_macro_f1", out double f1))
        {
            string interval = scores.TryGetValue("cv_macro_f1_ci95_low", out double low) && scores.TryGetValue("cv_macro_f1_ci95_high", out double high)
                ? $" (95% CI {Percent.Of(low)}–{Percent.Of(high)}, bootstrap over the held-out cells)" : "";
            var folds = scores.Where(s => s.Key.StartsWith("fold", StringComparison.Ordinal)).OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => Percent.Of(s.Value));
            text.Append($"Cross-validated macro-F1 {Percent.Of(f1)}%{interval}" +
                (scores.TryGetValue("cv_accuracy", out double acc) ? $", accuracy {Percent.Of(acc)}%" : "") +
                $"; folds {string.Join(", ", folds)}. No test cell was used to train or choose it.\n\n");
        }
        else text.Append("None saved with it. `marrow evaluate --model THIS_FOLDER --data DIR --part test --out m.json` scores it with 95% intervals.\n\n");
        text.Append(SavedScores.DescribeReview(scores)).Append("\n\n");

        if (!card.Synthetic) text.Append(UseAndLimits(card, outputs));
        text.Append("## Use\n\n```bash\n");
        text.Append("marrow evaluate --model THIS_FOLDER --data LABELLED_DIR --out metrics.json     # metrics, and predictions.csv beside them\n");
        text.Append("marrow predict --model THIS_FOLDER --images IMAGES_DIR --out predictions.csv  # unlabelled single-cell crops\n");
        text.Append("```\n\n");
        text.Append($"The weights are `{TrainedModel.SafetensorsFile}` (safetensors, the parameter names of the network's modules); " +
                    $"`{TrainedModel.CardFile}` holds the full configuration, `{TrainedModel.HistoryFile}` the loss per epoch.\n\n");
        text.Append("## In PyTorch\n\n");
        text.Append("MarrowDiff's `bench/marrow_model.py` rebuilds the network in PyTorch (1.13 or later), reads these weights and " +
                    "scores cells as MarrowDiff does (YUV, this model's normalisation" + (members > 1 ? ", the members' mean" : "") +
                    (card.Config.Refinements?.Inference.TestTimeD4 == true ? ", the mean over the eight rotations and flips" : "") + "):\n\n");
        text.Append("```python\n").Append(PyTorchSnippet).Append("```\n");
        return text.ToString();
    }

    /// <summary>What a model of real cells is for and where it must not be trusted, where its images came from under
    /// which licence, and what to cite: a model card's sections for a folder that travels without the repository.</summary>
    private static string UseAndLimits(ModelCard card, IReadOnlyList<CellClass> outputs)
    {
        var sources = (card.Pitches?.Keys ?? []).Order(StringComparer.Ordinal)
            .Select(name => new[] { PublicLayout.Pbc, PublicLayout.Matek }.FirstOrDefault(l => l.Name == name) is { } layout
                ? $"- **{layout.Name}** ({layout.Specimen.Replace('_', ' ')}): {layout.Citation}"
                : $"- **{name}**: a source MarrowDiff does not know; cite it as its owners ask")
            .ToList();
        bool blood = card.Pitches?.ContainsKey(PublicLayout.Pbc.Name) == true;
        var text = new StringBuilder("## Intended use and limitations\n\n");
        text.Append("- **Research only, not diagnosis.** It is not a medical device; every count it makes is for a person to check, and its review queue " +
                    "(above) is where to start.\n");
        text.Append($"- **Only these classes**: {string.Join(", ", outputs.Select(c => c.Code()))}. A cell of any other kind (a plasma cell, a blast of another " +
                    "lineage, debris) is still answered with one of them; images far from a cell crop (blank, noise, tiny) are flagged by `predict`, others are not.\n");
        if (blood)
            text.Append("- **Peripheral blood, not marrow**, for PBC's cells: PBC images are CellaVision crops of blood smears; marrow smears are denser and " +
                        "their cells may look otherwise. The paper's own marrow images are not public.\n");
        text.Append("- **Stain and scale**: trained on May-Grünwald-Giemsa images (the paper used Wright-Giemsa) brought to 0.16 µm/px; images of another " +
                    "stain, scanner or magnification need their pitch given (`--pitch`) and a check on labelled cells of their own before use.\n");
        text.Append("- **Label noise**: experts disagree on myelocyte/metamyelocyte and band/segmented; on PBC two annotation teams agree on 79% of " +
                    "band/segmented images (kappa 0.58), which bounds any score on those two classes.\n\n");
        text.Append("## Sources and licences\n\n");
        text.Append(sources.Count == 0 ? "Not recorded in the card.\n" : string.Join("\n", sources) + "\n");
        text.Append("\nThe weights are derived from these images; cite the datasets with any result, and MarrowDiff and the paper it reproduces " +
                    "(Choi JW et al. PLoS ONE 2017;12(12):e0189259) as its `CITATION.cff` gives them.\n\n");
        return text.ToString();
    }

    /// <summary>The placeholders of <see cref="PyTorchSnippet"/>: where the user's checkout, this folder and their
    /// patches go (a test substitutes them and runs the snippet).</summary>
    public const string RepositoryPlaceholder = "path/to/MarrowDiff", FolderPlaceholder = "THIS_FOLDER", FilesPlaceholder = "[\"cell1.png\", \"cell2.png\"]";

    /// <summary>Loading the folder in PyTorch: run as written (placeholders filled) by PyTorchTwinTests, which holds its
    /// probabilities to TorchSharp's on the same patches.</summary>
    public const string PyTorchSnippet =
        "import sys; sys.path.insert(0, \"" + RepositoryPlaceholder + "/bench\")\n" +
        "import numpy as np, torch\n" +
        "from PIL import Image\n" +
        "import marrow_model\n\n" +
        "model = marrow_model.load(\"" + FolderPlaceholder + "\")\n" +
        "files = " + FilesPlaceholder + "  # 96x96 RGB patches at 0.16 um/px, each centred on its cell\n" +
        "patches = torch.from_numpy(np.stack([np.asarray(Image.open(f).convert(\"RGB\")) for f in files]))\n" +
        "probabilities = model.probabilities(patches)  # [cells, classes], columns in model.classes' order\n" +
        "for f, p in zip(files, probabilities):\n" +
        "    print(f, model.classes[int(p.argmax())], f\"{float(p.max()):.3f}\")\n";
}
