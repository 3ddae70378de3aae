using MarrowDiff.Preparation;

namespace MarrowDiff.Evaluation;

/// <summary>One direction the paper gives: <see cref="Better"/> scores above <see cref="Worse"/>.</summary>
public sealed record Claim(Table1Role Better, Table1Role Worse)
{
    public override string ToString() => $"{Table1Roles.Label(Better)} > {Table1Roles.Label(Worse)}";
}

/// <summary>A row of the paper's Table 1 as its text gives it (<see cref="PaperClaims.PaperRows"/>).</summary>
/// <param name="Images">Its training images (0 for the dual stage, whose local model's are not given).</param>
public sealed record PaperRow(string Name, int Images, double Accuracy);

/// <summary>
/// A claim of the paper's Results, stated as the rows it orders. It holds when every one of its <see cref="Claims"/>
/// holds (an intersection: "OG is the worst row" is OG below each of the five others).
/// </summary>
/// <param name="Id">H1…H7.</param>
/// <param name="Statement">The claim in a line.</param>
/// <param name="Quote">The sentence of the paper it comes from, verbatim (its Results, Table 1 and dual-stage paragraphs).</param>
public sealed record PaperHypothesis(string Id, string Statement, string Quote, IReadOnlyList<Claim> Claims);

/// <summary>
/// The paper's claims about its Table 1 and dual stage, H1…H7, each with the sentence it comes from, and the paper's own
/// accuracies they were read off. One primary metric (<see cref="PrimaryMetric"/>) and one primary test are declared
/// here, before any result: the seed-paired macro-F1 difference, tested by a bootstrap over training seeds and then
/// test cells, with Holm's correction over the seven (<see cref="ClaimsTest"/>). McNemar's exact test on accuracy is
/// shown beside it as secondary and decides nothing.
/// </summary>
public static class PaperClaims
{
    public const string PrimaryMetric = "macro F1";

    /// <summary>The family's significance level, after Holm's correction over its seven hypotheses.</summary>
    public const double Alpha = 0.05;

    /// <summary>The paper's rows (Results text; its Table 1 image is not available to us): each training set's name and
    /// size and its accuracy on the paper's own 2,174 marrow cells and ten classes, by role. A reference mark beside our
    /// rows, never a number to compare ours with.</summary>
    public static IReadOnlyDictionary<Table1Role, PaperRow> PaperRows { get; } = new Dictionary<Table1Role, PaperRow>
    {
        [Table1Role.OG] = new("OG", 2174, 0.578), [Table1Role.AG] = new("AG", 17392, 0.719),
        [Table1Role.OSLow] = new("OS300", 3000, 0.6562), [Table1Role.OSHigh] = new("OS600", 6000, 0.9057),
        [Table1Role.AGOSLow] = new("AG+OS300", 24000, 0.8505), [Table1Role.AGOSHigh] = new("AG+OS600", 48000, 0.9568),
        [Table1Role.DualStage] = new("dual stage", 0, 0.9706),
    };

    /// <summary>The paper's accuracy of each row (<see cref="PaperRows"/>).</summary>
    public static IReadOnlyDictionary<Table1Role, double> PaperAccuracy { get; } = PaperRows.ToDictionary(r => r.Key, r => r.Value.Accuracy);

    private static readonly Table1Role[] TrainingSets = [Table1Role.OG, Table1Role.AG, Table1Role.OSLow, Table1Role.OSHigh, Table1Role.AGOSLow, Table1Role.AGOSHigh];

    public static IReadOnlyList<PaperHypothesis> All { get; } =
    [
        new("H1", "OG is the worst of the six training sets",
            "The accuracy of the OG network yielded the worst accuracy at 57.8%",
            [.. TrainingSets.Where(r => r != Table1Role.OG).Select(r => new Claim(r, Table1Role.OG))]),
        new("H2", "oversampling beats rotation augmentation: OS-high above AG",
            "Most cell types have round-shaped cells and nuclei; thus, the rotational augmentation of images was less effective in creating diverse data than oversampling.",
            [new(Table1Role.OSHigh, Table1Role.AG)]),
        new("H3", "OS-high above AG+OS-low, on a quarter of its images",
            "This network, which was trained on 6,000 images, showed better performance to the AG+OS 300 and the AG networks, which were trained on 24,000 and 17,392 images, respectively.",
            [new(Table1Role.OSHigh, Table1Role.AGOSLow)]),
        new("H4", "augmentation helps at equal oversampling: AG+OS-N above OS-N, at both N",
            "However, augmentation was able to improve performance with the same number of oversampled data.",
            [new(Table1Role.AGOSLow, Table1Role.OSLow), new(Table1Role.AGOSHigh, Table1Role.OSHigh)]),
        new("H5", "more oversampling helps: OS-high above OS-low, AG+OS-high above AG+OS-low",
            "The OS 600 network and the AG+OS 300 network significantly improved classification performance with accuracies of 90.57% and 85.05%, respectively. The AG+OS 600 network demonstrated the best performance",
            [new(Table1Role.OSHigh, Table1Role.OSLow), new(Table1Role.AGOSHigh, Table1Role.AGOSLow)]),
        new("H6", "AG+OS-high is the best of the six training sets",
            "The AG+OS 600 network demonstrated the best performance with a 95.68% accuracy",
            [.. TrainingSets.Where(r => r != Table1Role.AGOSHigh).Select(r => new Claim(Table1Role.AGOSHigh, r))]),
        new("H7", "the dual stage beats its own global model (AG+OS-high)",
            "The dual-stage CNN was able to correct the misclassifications in the band neutrophil and the segmented neutrophil of the AG+OS 600 network",
            [new(Table1Role.DualStage, Table1Role.AGOSHigh)]),
    ];
}
