using MarrowDiff.Training;

namespace MarrowDiff.Evaluation;

/// <summary>
/// Where the review queue starts: a cell whose top probability is below <see cref="Below"/> goes to a person, the rest
/// are counted as the model answers. Chosen on the cross-validation folds' held-out answers (never on a test cell), as
/// the lowest threshold whose kept cells reach <see cref="TargetAccuracy"/> on the folds: the fewest cells sent to
/// review for that accuracy. A model trained without folds carries none, and a command then says it uses
/// <see cref="SavedScores.Unchosen"/>.
/// </summary>
/// <param name="Reached">False when even the surest cells on the folds fall short of the target: the threshold then
/// keeps only the surest answers (those at the highest confidence seen), and says so.</param>
/// <param name="Coverage">Share of the held-out cells kept (not sent to review) at <see cref="Below"/>.</param>
/// <param name="KeptAccuracy">Accuracy of those kept cells on the folds.</param>
public sealed record ReviewThreshold(double Below, double TargetAccuracy, bool Reached, double Coverage, double KeptAccuracy, int Cells)
{
    /// <summary>The accuracy the counted cells should reach: 90%, which on PBC's five stages sits above what the
    /// labels themselves agree on for band/segmented (79%, docs/real-cells.md) and below what a person re-reading a
    /// queue of the least sure cells can fix in a working day. A declared default, not a tuned one.</summary>
    public const double DefaultTarget = 0.90;

    /// <summary>The lowest threshold whose kept held-out cells (confidence ≥ it) reach <paramref name="target"/> accuracy;
    /// cells of equal confidence are kept or sent together, as a threshold does.</summary>
    public static ReviewThreshold Choose(IReadOnlyList<(double Confidence, bool Correct)> answered, double target = DefaultTarget)
    {
        if (answered.Count == 0) throw new ArgumentException("no held-out answers to choose a review threshold on", nameof(answered));
        if (target is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(target), target, "a target accuracy is in (0, 1]");
        var sorted = answered.OrderByDescending(a => a.Confidence).ToList();
        ReviewThreshold? best = null, surest = null;
        int kept = 0, correct = 0;
        for (int i = 0; i < sorted.Count; i++)
        {
            kept++;
            if (sorted[i].Correct) correct++;
            if (i + 1 < sorted.Count && sorted[i + 1].Confidence == sorted[i].Confidence) continue; // a threshold keeps ties together
            double accuracy = (double)correct / kept;
            var here = new ReviewThreshold(sorted[i].Confidence, target, accuracy >= target, (double)kept / sorted.Count, accuracy, sorted.Count);
            surest ??= here;
            if (here.Reached) best = here; // lower thresholds come later: the last one reaching the target keeps the most
        }
        return best ?? surest!;
    }

    /// <summary>Chosen on a fold ensemble's held-out predictions (every training-side cell once, by the model that
    /// never saw it).</summary>
    public static ReviewThreshold Choose(IEnumerable<Predictions> heldOut, double target = DefaultTarget) =>
        Choose([.. heldOut.SelectMany(p => Enumerable.Range(0, p.Count).Select(i => ((double)p.Confidence(i), p.Correct(i))))], target);

    /// <summary>Its entries in a classifier's saved scores (<see cref="SavedScores"/>).</summary>
    public IReadOnlyDictionary<string, double> Scores => new Dictionary<string, double>
    {
        [SavedScores.ReviewBelow] = Below, [SavedScores.ReviewTarget] = TargetAccuracy, [SavedScores.ReviewCoverage] = Coverage, [SavedScores.ReviewAccuracy] = KeptAccuracy,
    };
}
