using System.Diagnostics;
using System.Globalization;
using System.Text;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Training;

namespace MarrowDiff.Counting;

/// <summary>One unlabelled cell image's answer: the top class, its probability, whether a person should look at it,
/// the whole softmax row (one probability an output of the model), and why the image is unlike a training crop (<see cref="CellInputCheck"/>; null
/// when it is not), which sends it to review whatever the probability.</summary>
public sealed record UnlabelledPrediction(string File, CellClass Class, float Probability, bool Review, float[] Probabilities, string? Unlike = null);

/// <summary>What <see cref="UnlabelledCells.Predict"/> did: a row a readable file, the files it could not read (each
/// with its reason, none left out silently), and the pitch it resampled at.</summary>
public sealed record UnlabelledRun(IReadOnlyList<UnlabelledPrediction> Rows, IReadOnlyList<(string File, string Reason)> Skipped, SourceScale Scale)
{
    /// <summary>What each row's probabilities are of: the classifier's outputs.</summary>
    public IReadOnlyList<CellClass> Outputs { get; init; } = CellTaxonomy.All;
}

/// <summary>
/// <c>marrow predict</c>: a saved classifier on single-cell crops nobody has labelled (a folder of images, one cell
/// centred in each, as the public datasets crop them). Each image is brought to the project's pitch and cut to the
/// network's 96-px patch at its centre, as training cut its tiles, then classified; the rows keep the files' order.
/// </summary>
public static class UnlabelledCells
{
    /// <summary>Patches classified at once: a batch's worth of work, and memory bounded whatever the folder's size.</summary>
    private const int Chunk = 256;

    /// <summary>Images whose red cells estimate the pitch when none is given (as <c>SourceScales</c> samples a source).</summary>
    private const int PitchSample = 60;

    /// <param name="files">The images, with the name each row reports (<see cref="FieldCount.Files"/> lists a folder).</param>
    /// <param name="pitchUm">µm per pixel of these images; null: estimated from the red cells of the first images.</param>
    /// <param name="reviewBelow">A cell whose top probability is below this is flagged for review.</param>
    public static UnlabelledRun Predict(ISavedClassifier classifier, IReadOnlyList<(string Path, string Name)> files, double? pitchUm, double reviewBelow = 0.7,
                                        CellImageReader? reader = null, IProgress<WorkProgress>? progress = null)
    {
        if (reviewBelow is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(reviewBelow), $"{reviewBelow}: a probability between 0 and 1");
        var outputs = classifier.Outputs;
        if (!outputs.Any(k => k.IsStage()) || outputs.Count < 3)
            throw new ArgumentException($"{classifier.Folder}: predict needs a classifier of the maturation stages, this one answers {string.Join(", ", outputs.Select(k => k.Code()))} (a local model?)");
        if (pitchUm is { } given && !(given > 0 && given < 10)) throw new ArgumentOutOfRangeException(nameof(pitchUm), $"--pitch {given}: µm per pixel, e.g. 0.1");
        reader ??= new CellImageReader();
        var skipped = new List<(string, string)>();
        var scale = pitchUm is { } um ? new SourceScale("images", um, "given") : EstimatePitch(files, reader, skipped);

        var rows = new List<UnlabelledPrediction>();
        var members = FoldEnsemble.MembersOf(classifier);
        var clock = Stopwatch.StartNew();
        var batch = new List<(string Name, RgbImage Patch, string? Unlike)>();
        void Classify()
        {
            if (batch.Count == 0) return;
            var patches = batch.Select(b => b.Patch).ToList();
            var p = new float[patches.Count, outputs.Count];
            // A fold ensemble answers with its members' mean softmax, as it does everywhere else.
            foreach (var member in members)
            {
                float[,] q = member.PatchProbabilities(patches);
                for (int i = 0; i < patches.Count; i++)
                    for (int c = 0; c < outputs.Count; c++) p[i, c] += q[i, c] / members.Count;
            }
            // A single model with an envelope of its training cells also flags what lies outside it, a rule on pixels first.
            var unlike = batch.Select(b => b.Unlike).ToArray();
            if (classifier is TrainedModel { Envelope: { } envelope } single)
            {
                var embeddings = single.PatchEmbeddings(patches);
                for (int i = 0; i < patches.Count; i++)
                    if (unlike[i] is null && envelope.Distance(embeddings, i) is var d && envelope.IsOutside(d)) unlike[i] = envelope.Reason(d);
            }
            for (int i = 0; i < patches.Count; i++)
            {
                float[] row = Enumerable.Range(0, outputs.Count).Select(c => p[i, c]).ToArray();
                int top = Enumerable.Range(0, row.Length).OrderByDescending(c => row[c]).ThenBy(c => c).First();
                rows.Add(new UnlabelledPrediction(batch[i].Name, outputs[top], row[top], row[top] < reviewBelow || unlike[i] is not null, row, unlike[i]));
            }
            batch.Clear();
        }
        for (int i = 0; i < files.Count; i++)
        {
            var (path, name) = files[i];
            try
            {
                var resampled = Resampled(reader.Read(path), scale.PitchUm);
                batch.Add((name, resampled.CropCentred(resampled.Width / 2, resampled.Height / 2, CellPatch.Size), CellInputCheck.Unlike(resampled)));
            }
            catch (CellImageException e) { skipped.Add((name, e.Reason)); }
            if (batch.Count == Chunk) Classify();
            progress?.Report(new WorkProgress("classifying cell images", i + 1, files.Count, clock.Elapsed));
        }
        Classify();
        // A file that failed in the pitch sample and again here is reported once.
        return new UnlabelledRun(rows, skipped.Distinct().ToList(), scale) { Outputs = outputs };
    }

    /// <summary>The image at the project's pitch, cut to the network's patch at its centre (where the public datasets
    /// put the cell).</summary>
    public static RgbImage Patch(RgbImage image, double pitchUm)
    {
        var resampled = Resampled(image, pitchUm);
        return resampled.CropCentred(resampled.Width / 2, resampled.Height / 2, CellPatch.Size);
    }

    /// <summary>The image at the project's pitch.</summary>
    public static RgbImage Resampled(RgbImage image, double pitchUm)
    {
        double factor = pitchUm / CellPatch.PitchUm;
        return image.Resize(Math.Max(1, (int)Math.Round(image.Width * factor)), Math.Max(1, (int)Math.Round(image.Height * factor)));
    }

    private static SourceScale EstimatePitch(IReadOnlyList<(string Path, string Name)> files, CellImageReader reader, List<(string, string)> skipped)
    {
        var sample = new List<RgbImage>();
        foreach (var (path, name) in files.Take(PitchSample))
        {
            try { sample.Add(reader.Read(path)); }
            catch (CellImageException e) { skipped.Add((name, e.Reason)); }
        }
        return RedCellScale.Estimate("images", sample)
            ?? throw new ArgumentException($"too few red cells in the first {sample.Count} images to estimate their pixel pitch (crops that cut their red " +
                                           "cells, as Matek's do): give it with --pitch µm/px, or --source NAME for the pitch the model learnt that source at");
    }

    /// <summary>The rows as CSV: file, predicted class, its probability, review flag, then one probability a class
    /// (written atomically).</summary>
    public static void Save(UnlabelledRun run, string path)
    {
        var text = new StringBuilder();
        text.Append(Csv.Line([.. new object?[] { "file", "predicted_class", "probability", "review", "unlike_a_training_crop" }.Concat(run.Outputs.Select(c => (object?)$"p_{c.Code()}"))])).Append('\n');
        foreach (var r in run.Rows)
            text.Append(Csv.Line([.. new object?[] { r.File, r.Class.Code(), r.Probability.ToString("0.0000", CultureInfo.InvariantCulture), r.Review ? "yes" : "no", r.Unlike ?? "" }
                .Concat(r.Probabilities.Select(p => (object?)p.ToString("0.0000", CultureInfo.InvariantCulture)))])).Append('\n');
        AtomicFile.WriteAllText(path, text.ToString());
    }
}
