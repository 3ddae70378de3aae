using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Model;
using MarrowDiff.Preparation;
using MarrowDiff.Training;

namespace MarrowDiff.Analysis;

/// <summary>One point of a location-invariance curve: at this shift distance, the share of (cell, direction) crops
/// whose prediction equals the cell's prediction at its own centre, and the share predicted correctly.</summary>
public sealed record ShiftPoint(int Distance, int Crops, double SamePrediction, double Correct);

/// <summary>The paper's Fig 5B as a curve: test cells re-cropped at growing distances from their centre in 8
/// directions. Cells whose source image does not reach the largest distance are left out (counted), so every point
/// of the curve is over the same cells.</summary>
public sealed record LocationInvariance(string Model, IReadOnlyList<ShiftPoint> Points, int Cells, int CellsLeftOut, int TrainingShift);

/// <summary>The paper's Fig 5C as numbers: the 8 D4 images (rotations × mirror) of test cells.</summary>
/// <param name="Agreement">Mean share of a cell's 8 images predicted as its untransformed image.</param>
/// <param name="AllEight">Share of cells whose 8 images all get the same prediction.</param>
/// <param name="AgreementPerElement">Agreement of each D4 element with the identity (element 0 is 1 by definition).</param>
public sealed record RotationInvariance(string Model, int Cells, double Agreement, double AllEight, double Accuracy, IReadOnlyList<double> AgreementPerElement);

/// <summary>
/// Location and rotation invariance of a classifier, measured by re-cropping and turning cells exactly as
/// oversampling and augmentation do for training, so the curves answer "did the model learn what its training
/// set taught?" — the paper's AG model, never trained on shifted crops, should lose its predictions as the crop
/// moves; an OS model, never trained on rotations, should lose them when the cell turns.
/// </summary>
public static class Invariance
{
    /// <summary>The 8 compass directions, as unit steps: a shift of distance d goes d px along one of them
    /// (rounded), so diagonal shifts are as long as axial ones.</summary>
    private static readonly (double X, double Y)[] Directions =
        Enumerable.Range(0, 8).Select(k => (Math.Cos(k * Math.PI / 4), Math.Sin(k * Math.PI / 4))).ToArray();

    /// <summary>Default distances: 0 to the tile margin in steps of 2 px.</summary>
    public static IReadOnlyList<int> DefaultDistances(CellTiles tiles) =>
        Enumerable.Range(0, tiles.Settings.MaxShiftPx / 2 + 1).Select(i => 2 * i).ToList();

    public static LocationInvariance Location(ICellClassifier classifier, CellTiles tiles, IReadOnlyList<CellImage> cells, IReadOnlyList<int>? distances = null)
    {
        distances ??= DefaultDistances(tiles);
        if (distances.Count == 0 || distances[0] != 0 || distances.Any(d => d < 0)) throw new ArgumentException("distances must start at 0 and be ≥ 0", nameof(distances));
        int max = distances.Max();
        var usable = cells.Where(c => tiles[c].Reach >= max && Includes(classifier, c)).ToList();
        int leftOut = cells.Count(c => Includes(classifier, c)) - usable.Count;
        if (usable.Count == 0) throw new InvalidOperationException($"no cell's source image reaches {max} px around it: lower the largest distance");

        // Crops per cell: the centre, then 8 per distance > 0.
        var samples = new List<Sample>();
        foreach (var c in usable)
        {
            int t = tiles.IndexOf(c);
            samples.Add(new Sample(t, 0, 0, D4.Identity));
            foreach (int d in distances.Skip(1))
                foreach (var (x, y) in Directions)
                    samples.Add(new Sample(t, (sbyte)Math.Round(d * x), (sbyte)Math.Round(d * y), D4.Identity));
        }
        var set = SampleSet.FromSamples(tiles, samples, "shifted test crops").AnsweredBy(classifier.Outputs);
        int[] predicted = Inference.ArgMax(classifier.Probabilities(set));
        int per = 1 + 8 * (distances.Count - 1);
        var points = new List<ShiftPoint>();
        for (int di = 0; di < distances.Count; di++)
        {
            int same = 0, correct = 0, n = 0;
            for (int ci = 0; ci < usable.Count; ci++)
            {
                int centre = ci * per;
                int from = di == 0 ? centre : centre + 1 + 8 * (di - 1), count = di == 0 ? 1 : 8;
                for (int j = from; j < from + count; j++)
                {
                    n++;
                    if (predicted[j] == predicted[centre]) same++;
                    if (predicted[j] == set.Label(j)) correct++;
                }
            }
            points.Add(new ShiftPoint(distances[di], n, (double)same / n, (double)correct / n));
        }
        return new LocationInvariance(classifier.Name, points, usable.Count, leftOut, tiles.Settings.MaxShiftPx);
    }

    public static RotationInvariance Rotation(ICellClassifier classifier, CellTiles tiles, IReadOnlyList<CellImage> cells)
    {
        var usable = cells.Where(c => Includes(classifier, c)).ToList();
        if (usable.Count == 0) throw new InvalidOperationException($"no cell of {classifier.Name}'s classes to turn");
        var samples = usable.SelectMany(c => D4.All.Select(g => new Sample(tiles.IndexOf(c), 0, 0, g))).ToList();
        var set = SampleSet.FromSamples(tiles, samples, "turned test crops").AnsweredBy(classifier.Outputs);
        int[] predicted = Inference.ArgMax(classifier.Probabilities(set));
        double[] perElement = new double[8];
        int allEight = 0, correct = 0;
        for (int ci = 0; ci < usable.Count; ci++)
        {
            int b = ci * 8;
            bool all = true;
            for (int g = 0; g < 8; g++)
            {
                bool same = predicted[b + g] == predicted[b];
                if (same) perElement[g]++;
                all &= same;
                if (predicted[b + g] == set.Label(b + g)) correct++;
            }
            if (all) allEight++;
        }
        for (int g = 0; g < 8; g++) perElement[g] /= usable.Count;
        return new RotationInvariance(classifier.Name, usable.Count, perElement.Average(), (double)allEight / usable.Count, (double)correct / samples.Count, perElement);
    }

    // A local (2-class) model is analysed on its own classes only.
    private static bool Includes(ICellClassifier classifier, CellImage c) => classifier.Outputs.Contains(c.Label.Class!.Value);
}
