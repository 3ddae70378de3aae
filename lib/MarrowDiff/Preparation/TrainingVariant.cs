using System.Globalization;
using System.Text.RegularExpressions;

namespace MarrowDiff.Preparation;

/// <summary>
/// One of the paper's six training sets (Table 1): the original crops (OG), their 8-fold D4 augmentation (AG),
/// oversampling by re-cropping to N images per class (OS N), and both (AG+OS N).
/// </summary>
/// <param name="OversampleTo">Training images per class after oversampling (null: no oversampling).</param>
/// <param name="PaperImages">The size the paper quotes for this set, for the whole 2,174-image dataset (null when
/// the paper has no such set).</param>
public sealed partial record TrainingVariant(string Name, bool Augment, int? OversampleTo, int? PaperImages)
{
    /// <summary>Images in the paper's dataset.</summary>
    public const int PaperDatasetImages = 2174;

    public static TrainingVariant OG { get; } = new("OG", false, null, PaperDatasetImages);
    public static TrainingVariant AG { get; } = new("AG", true, null, 17392);

    /// <summary>The paper's six, in Table 1's order.</summary>
    public static IReadOnlyList<TrainingVariant> Paper { get; } = Six(300, 600);

    /// <summary>The six variants with oversampling targets <paramref name="low"/> and <paramref name="high"/>.</summary>
    public static IReadOnlyList<TrainingVariant> Six(int low, int high) => [OG, AG, Oversampled(low, false), Oversampled(high, false), Oversampled(low, true), Oversampled(high, true)];

    public static TrainingVariant Oversampled(int n, bool augment)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), $"oversampling target {n}: must be at least 1 image per class");
        // The paper's sizes are for 10 classes: 300 → 3,000 and 24,000 (= 8 × 3,000); 600 → 6,000 and 48,000.
        int? paper = n is 300 or 600 ? 10 * n * (augment ? 8 : 1) : null;
        return new((augment ? "AG+" : "") + $"OS{n}", augment, n, paper);
    }

    /// <summary>Parses OG, AG, OS300, AG+OS600 (any case, "AG+OS 600" and "AG_OS600" too).</summary>
    public static TrainingVariant Parse(string text)
    {
        string t = text.Trim().ToUpperInvariant().Replace(" ", "", StringComparison.Ordinal).Replace('_', '+');
        if (t == "OG") return OG;
        if (t == "AG") return AG;
        var m = OsPattern().Match(t);
        if (m.Success) return Oversampled(int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), m.Groups[1].Success);
        throw new ArgumentException($"unknown training set '{text}': use OG, AG, OS<N>, AG+OS<N> (the paper's: {string.Join(", ", Paper.Select(v => v.Name))})");
    }

    [GeneratedRegex(@"^(AG\+)?OS(\d+)$")]
    private static partial Regex OsPattern();

    public override string ToString() => Name;
}
