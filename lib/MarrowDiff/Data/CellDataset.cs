namespace MarrowDiff.Data;

/// <summary>One labelled single-cell image of a dataset.</summary>
/// <param name="Path">Absolute path of the image file.</param>
/// <param name="Label">The paper's class, or Other(code).</param>
/// <param name="CellId">Identity of the physical cell: every crop of one cell shares it (splits group on it).</param>
/// <param name="Source">Dataset or source name (e.g. "phantom", "Matek et al. 2021 …").</param>
/// <param name="Subject">Patient / subject, when known (patient-level splits group on it).</param>
/// <param name="Slide">Slide, when known (stain statistics are reported per slide).</param>
/// <param name="FieldPath">Absolute path of the field image the cell was cropped from, when known.</param>
/// <param name="CentreX">Cell centre in the field image, px.</param>
/// <param name="CentreY">Cell centre in the field image, px.</param>
/// <param name="DiameterPx">Cell diameter in pixels of the image it was cropped from, when known (bounds how far
/// an oversampled crop may shift, as a fraction of the cell).</param>
/// <param name="Specimen">bone_marrow or peripheral_blood, when known (per-source reporting).</param>
public sealed record CellImage(
    string Path, CellLabel Label, string CellId, string Source,
    string? Subject = null, string? Slide = null, string? FieldPath = null, int? CentreX = null, int? CentreY = null,
    double? DiameterPx = null, string? Specimen = null);

/// <summary>A whole microscope field (1080×1330 in the paper) listed by a manifest.</summary>
public sealed record FieldImage(string Path, string? Subject, string? Slide, string FieldId);

/// <summary>A file that was not used, and why (unreadable, too large, listed but missing, …).</summary>
public sealed record BadFile(string Path, string Reason)
{
    public override string ToString() => $"{Path}: {Reason}";
}

/// <summary>What to do with a bad file: stop at the first one (the default), or skip it and list it in
/// <see cref="CellDataset.Skipped"/>. Nothing is ever dropped without being listed.</summary>
public enum BadFilePolicy { Stop, Skip }

/// <summary>A labelled set of cell images as found on disk: a folder-per-class tree or a manifest.</summary>
public sealed class CellDataset
{
    public CellDataset(string root, string layout, IReadOnlyList<CellImage> cells, IReadOnlyList<FieldImage> fields,
                       IReadOnlyList<BadFile> skipped, IReadOnlyList<string> notes)
    {
        Root = root; Layout = layout; Cells = cells; Fields = fields; Skipped = skipped; Notes = notes;
    }

    /// <summary>Absolute path of the dataset folder.</summary>
    public string Root { get; }

    /// <summary>How it was read: "manifest.csv" or "folder-per-class".</summary>
    public string Layout { get; }

    /// <summary>All images, paper classes and Other labels alike, in a stable order.</summary>
    public IReadOnlyList<CellImage> Cells { get; }

    public IReadOnlyList<FieldImage> Fields { get; }

    /// <summary>Files that were not used, with the reason.</summary>
    public IReadOnlyList<BadFile> Skipped { get; }

    /// <summary>Things a reader should know about how the data was read.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Images with an outcome a model is trained on: the paper's ten classes (the 10-class task), and after
    /// <see cref="WithNonStageOutcomes"/> the cells outside the stages too.</summary>
    public IEnumerable<CellImage> PaperCells => Cells.Where(c => !c.Label.IsOther);

    /// <summary>Images labelled Other, by code, with counts: excluded from the 10-class task, never hidden.</summary>
    public IReadOnlyDictionary<string, int> OtherCounts =>
        Cells.Where(c => c.Label.IsOther).GroupBy(c => c.Label.OtherCode!).OrderBy(g => g.Key, StringComparer.Ordinal)
             .ToDictionary(g => g.Key, g => g.Count());

    /// <summary>Count per paper class, C1…C10 (zeros included).</summary>
    public IReadOnlyDictionary<CellClass, int> ClassCounts =>
        CellTaxonomy.All.ToDictionary(c => c, c => Cells.Count(x => x.Label.Class == c));

    /// <summary>
    /// The same images with every Other label that names a cell outside the ten stages (<see cref="CellLabel.NonStageClass"/>)
    /// given that outcome, so a model can be trained to name lymphocytes, monocytes, eosinophils, basophils and unstaged
    /// erythroblasts instead of forcing them into a stage. Other codes that name no such cell ("not identifiable") stay Other.
    /// </summary>
    public CellDataset WithNonStageOutcomes()
    {
        var cells = Cells.Select(c => c.Label.NonStageClass is { } k ? c with { Label = CellLabel.Of(k) } : c).ToList();
        int relabelled = Cells.Count(c => c.Label.NonStageClass is not null);
        return new CellDataset(Root, Layout, cells, Fields, Skipped, [.. Notes, $"{relabelled} image(s) of cells outside the ten stages given their own outcome"]);
    }

    public override string ToString() =>
        $"{Root} ({Layout}): {Cells.Count} images, {PaperCells.Count()} in the paper's 10 classes, " +
        $"{Cells.Count(c => c.Label.IsOther)} Other, {Fields.Count} fields, {Skipped.Count} skipped";
}
