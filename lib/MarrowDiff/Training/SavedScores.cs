using System.Globalization;
using System.Text.Json;
using MarrowDiff.Core;

namespace MarrowDiff.Training;

/// <summary>
/// The cross-validated scores a saved classifier carries (a fold ensemble in its manifest, a final=one model in
/// <see cref="CrossValidationFile"/> beside it; both in its README), read back by the commands that use it: above all
/// the review threshold chosen on its folds (<c>ReviewThreshold</c> in Evaluation chooses it).
/// </summary>
public static class SavedScores
{
    /// <summary>Beside a final=one model: the fold models' cross-validated scores that estimate it.</summary>
    public const string CrossValidationFile = "cross_validation.json";

    /// <summary>The score names of the review threshold.</summary>
    public const string ReviewBelow = "review_below", ReviewTarget = "review_target_accuracy", ReviewCoverage = "review_cv_coverage", ReviewAccuracy = "review_cv_kept_accuracy";

    /// <summary>The threshold of a model without one chosen on folds (the commands' old fixed default).</summary>
    public const double Unchosen = 0.7;

    /// <summary>The scores saved with the classifier in <paramref name="folder"/>; null when it has none (a model trained
    /// without folds). A scores file that is not valid JSON is named, not ignored.</summary>
    public static IReadOnlyDictionary<string, double>? Read(string folder)
    {
        string manifest = Path.Combine(folder, FoldEnsemble.ManifestFile), beside = Path.Combine(folder, CrossValidationFile);
        try
        {
            if (File.Exists(manifest))
                return JsonDocument.Parse(File.ReadAllText(manifest)).RootElement.TryGetProperty("Scores", out var s) && s.ValueKind == JsonValueKind.Object
                    ? s.Deserialize<Dictionary<string, double>>() : null;
            return File.Exists(beside) ? JsonSerializer.Deserialize<Dictionary<string, double>>(File.ReadAllText(beside)) : null;
        }
        catch (JsonException e) { throw new InvalidDataException($"{(File.Exists(manifest) ? manifest : beside)}: its scores are not valid JSON ({e.Message})", e); }
    }

    /// <summary>The review threshold the classifier in <paramref name="folder"/> was given on its folds, or null.</summary>
    public static double? ReviewBelowOf(string? folder) =>
        folder is not null && Read(folder) is { } scores && scores.TryGetValue(ReviewBelow, out double below) ? below : null;

    /// <summary>The threshold a command uses: the one given, else the model's own, else <see cref="Unchosen"/>; and
    /// where it came from, in words.</summary>
    public static (double Below, string Why) ReviewFor(double? given, string? folder) =>
        given is { } g ? (g, "given")
        : ReviewBelowOf(folder) is { } own ? (own, "the model's own, chosen on its folds")
        : (Unchosen, "no threshold was chosen on folds for this model: the fixed default");

    /// <summary>One paragraph for a model card: the review threshold and what it bought on the folds.</summary>
    public static string DescribeReview(IReadOnlyDictionary<string, double>? scores)
    {
        if (scores is null || !scores.TryGetValue(ReviewBelow, out double below))
            return $"No review threshold was chosen on folds for this model: `predict` and `count` send cells below {F(Unchosen)} to review unless `--review-below` says otherwise.";
        double target = scores.GetValueOrDefault(ReviewTarget), coverage = scores.GetValueOrDefault(ReviewCoverage), accuracy = scores.GetValueOrDefault(ReviewAccuracy);
        return $"Review queue: a cell whose top probability is below {F(below)} goes to review (`predict` and `count` use it unless `--review-below` is given). " +
               $"Chosen on the cross-validation folds as the lowest threshold whose kept cells reach {Percent.Of(target, 0)}% accuracy: there it kept " +
               $"{Percent.Of(coverage)}% of the held-out cells at {Percent.Of(accuracy)}% accuracy" +
               (accuracy >= target ? "." : " (the target was not reached: only the surest answers are kept).");
    }

    private static string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
}
