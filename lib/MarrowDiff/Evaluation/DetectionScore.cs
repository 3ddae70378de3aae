using MarrowDiff.Data;

namespace MarrowDiff.Evaluation;

/// <summary>How well cells were found: <see cref="Matched"/> of <see cref="Truth"/> true cells were found, and
/// <see cref="Matched"/> of <see cref="Found"/> finds were true cells. The unmatched ones are listed by index.</summary>
public sealed record DetectionScore(int Truth, int Found, int Matched, IReadOnlyList<int> Missed, IReadOnlyList<int> FalseFinds)
{
    public double Recall => Truth == 0 ? 1 : (double)Matched / Truth;
    public double Precision => Found == 0 ? 1 : (double)Matched / Found;

    public static DetectionScore operator +(DetectionScore a, DetectionScore b) =>
        new(a.Truth + b.Truth, a.Found + b.Found, a.Matched + b.Matched, [], []);

    public static DetectionScore Empty { get; } = new(0, 0, 0, [], []);

    public override string ToString() => $"recall {Recall:P1} ({Matched}/{Truth}), precision {Precision:P1} ({Matched}/{Found})";
}

/// <summary>
/// One-to-one matching of found cell centres to the truth, greedy by distance (closest pairs first): a true cell
/// matches at most one find and a find at most one true cell, so two finds on one cell count one hit and one false
/// find, and one find between two cells counts one hit and one miss.
/// </summary>
public static class DetectionMatching
{
    /// <summary>Against annotated boxes: a find matches a box when its centre lies inside it.</summary>
    public static DetectionScore AgainstBoxes(IReadOnlyList<(double X, double Y)> found, IReadOnlyList<CellBox> boxes) =>
        Match(found, boxes.Count, (f, t) => boxes[t].Contains(found[f].X, found[f].Y)
            ? Math.Sqrt(Math.Pow(found[f].X - boxes[t].CentreX, 2) + Math.Pow(found[f].Y - boxes[t].CentreY, 2)) : null);

    /// <summary>Against known centres (the phantom): a find matches a cell within half the cell's diameter.</summary>
    public static DetectionScore AgainstCentres(IReadOnlyList<(double X, double Y)> found, IReadOnlyList<(double X, double Y, double DiameterPx)> truth) =>
        Match(found, truth.Count, (f, t) =>
        {
            double d = Math.Sqrt(Math.Pow(found[f].X - truth[t].X, 2) + Math.Pow(found[f].Y - truth[t].Y, 2));
            return d <= truth[t].DiameterPx / 2 ? d : null;
        });

    private static DetectionScore Match(IReadOnlyList<(double X, double Y)> found, int truthCount, Func<int, int, double?> distance)
    {
        var pairs = new List<(double D, int F, int T)>();
        for (int f = 0; f < found.Count; f++)
            for (int t = 0; t < truthCount; t++)
                if (distance(f, t) is { } d) pairs.Add((d, f, t));
        var usedF = new bool[found.Count];
        var usedT = new bool[truthCount];
        int matched = 0;
        foreach (var (_, f, t) in pairs.OrderBy(p => p.D).ThenBy(p => p.F).ThenBy(p => p.T))
        {
            if (usedF[f] || usedT[t]) continue;
            usedF[f] = usedT[t] = true;
            matched++;
        }
        return new DetectionScore(truthCount, found.Count, matched,
            Enumerable.Range(0, truthCount).Where(t => !usedT[t]).ToList(), Enumerable.Range(0, found.Count).Where(f => !usedF[f]).ToList());
    }
}
