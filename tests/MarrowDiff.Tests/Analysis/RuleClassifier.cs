using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Preparation;
using MarrowDiff.Training;

namespace MarrowDiff.Tests.Analysis;

/// <summary>
/// Classifiers built to have a known invariance, so the curves have a known answer. Each sees the samples exactly as
/// a network would receive them (cell, shift, D4 element, or the rendered pixels) and puts all its probability on one class.
/// </summary>
internal sealed class RuleClassifier(string name, Func<SampleSet, int, int> rule) : ICellClassifier
{
    public string Name => name;
    public IReadOnlyList<CellClass> Outputs => CellTaxonomy.All;

    public float[,] Probabilities(SampleSet set)
    {
        var p = new float[set.Count, 10];
        for (int i = 0; i < set.Count; i++) p[i, rule(set, i)] = 1;
        return p;
    }

    /// <summary>Right whatever the crop: it knows the cell. Shift- and rotation-invariant.</summary>
    public static RuleClassifier Invariant => new("invariant", (s, i) => s.Label(i));

    /// <summary>Right only on the centred crop: any shift changes its answer.</summary>
    public static RuleClassifier ShiftSensitive => new("shift-sensitive", (s, i) => s[i] is { Dx: 0, Dy: 0 } ? s.Label(i) : (s.Label(i) + 1) % 10);

    /// <summary>Keeps its answer within 6 px of the centre, changes it beyond.</summary>
    public static RuleClassifier Within6Px => new("within 6 px", (s, i) => s[i].Dx * s[i].Dx + s[i].Dy * s[i].Dy <= 36 ? s.Label(i) : (s.Label(i) + 1) % 10);

    /// <summary>From pixels only: the brighter half of the image, left/right and top/bottom (4 answers). Turning the
    /// image by 180° swaps both halves, so the answer changes for every cell whose halves differ.</summary>
    public static RuleClassifier BrighterHalf => new("brighter half", (s, i) =>
    {
        RgbImage img = s.Render(i);
        double left = 0, right = 0, top = 0, bottom = 0;
        for (int y = 0; y < img.Height; y++)
            for (int x = 0; x < img.Width; x++)
            {
                var (r, g, b) = img[x, y];
                double v = r + g + b;
                if (x < img.Width / 2) left += v; else right += v;
                if (y < img.Height / 2) top += v; else bottom += v;
            }
        return (left > right ? 1 : 0) + (top > bottom ? 2 : 0);
    });

    /// <summary>From pixels only: the mean brightness, binned. A D4 element only moves pixels, so it cannot change.</summary>
    public static RuleClassifier MeanBrightness => new("mean brightness", (s, i) => (int)(s.Render(i).Pixels.Average(b => (double)b) / 25.6));
}
