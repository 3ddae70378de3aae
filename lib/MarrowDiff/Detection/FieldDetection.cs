using System.Globalization;
using MarrowDiff.Core;
using MarrowDiff.Imaging;

namespace MarrowDiff.Detection;

/// <summary>The pixel pitch of one field and how it was found.</summary>
public sealed record FieldScale(double PitchUm, string How);

/// <summary>
/// A nucleated cell of a field. <see cref="X"/>, <see cref="Y"/> and <see cref="DiameterPx"/> are in the field's own
/// pixels (as given, before resampling); <see cref="ResampledX"/>, <see cref="ResampledY"/> in the field resampled to
/// the project's pitch, where its 96-px patch is cut. <see cref="Edge"/>: the patch would reach past the field, so the
/// cell is left out of the count (the edge rule).
/// </summary>
public sealed record FieldCell(double X, double Y, double DiameterPx, bool Edge, double ResampledX, double ResampledY, double NucleusAreaUm2);

/// <summary>One field's cells, with the field at the project's pitch (for cutting patches and drawing).</summary>
public sealed record DetectedField(string Field, int Width, int Height, FieldScale Scale, RgbImage Resampled, IReadOnlyList<FieldCell> Cells)
{
    public int Counted => Cells.Count(c => !c.Edge);
    public int LeftAtEdge => Cells.Count(c => c.Edge);
}

/// <summary>
/// A whole field, found: its scale (given, or from its red cells), the field resampled to 0.16 µm/px, the nucleated
/// cells found there (<see cref="CellFinder"/>), their centres mapped back to the field's own pixels, and the edge
/// rule: a cell counts only when its whole 96-px patch lies inside the field.
/// </summary>
public static class FieldDetection
{
    /// <summary>Fewest whole round red cells a field's own pitch estimate rests on.</summary>
    public const int MinimumRedCellsPerField = 6;

    /// <summary>Fewest red cells a pooled estimate (fields of one size, taken for one source) rests on.</summary>
    public const int MinimumRedCellsPooled = 8;

    /// <summary>
    /// The pitch of every field from its red cells (7.5 µm across): from the field's own when it has at least
    /// <see cref="MinimumRedCellsPerField"/> whole round ones; otherwise from all fields of the same pixel size pooled
    /// (a public set's sources differ in size: TXL-PBC's Raabin-like fields are 575×575, PBC's 360×363), which
    /// mostly-one-white-cell crops need. A field that neither gives is an error naming it: give <c>--pitch</c>.
    /// </summary>
    public static IReadOnlyDictionary<string, FieldScale> EstimateScales(IReadOnlyList<(string Name, int Width, int Height, IReadOnlyList<double> RedCells)> fields)
    {
        var pooled = fields.GroupBy(f => (f.Width, f.Height)).ToDictionary(g => g.Key, g => g.SelectMany(f => f.RedCells).Order().ToList());
        var scales = new Dictionary<string, FieldScale>(StringComparer.Ordinal);
        foreach (var f in fields)
        {
            var pool = pooled[(f.Width, f.Height)];
            double? pooledPitch = pool.Count >= MinimumRedCellsPooled ? RedCellScale.RedCellDiameterUm / FieldRedCells.TypicalDiameter(pool) : null;
            double? own = f.RedCells.Count >= MinimumRedCellsPerField ? RedCellScale.RedCellDiameterUm / FieldRedCells.TypicalDiameter(f.RedCells) : null;
            // A field's own estimate far from its size group's (1.5x) rests on look-alikes (platelet clumps, pale
            // debris) rather than red cells: the group's is used.
            if (own is { } o && (pooledPitch is not { } q || Math.Max(o, q) / Math.Min(o, q) <= 1.5))
            {
                double median = FieldRedCells.TypicalDiameter(f.RedCells);
                scales[f.Name] = new FieldScale(RedCellScale.RedCellDiameterUm / median, string.Create(CultureInfo.InvariantCulture,
                    $"estimated from its own {f.RedCells.Count} red cells: median {median:0.0} px = {RedCellScale.RedCellDiameterUm} µm"));
                continue;
            }
            if (pooledPitch is null)
                throw new InvalidDataException($"{f.Name}: {f.RedCells.Count} whole red cells in it and {pool.Count} in all {f.Width}x{f.Height} fields given, " +
                                               $"too few to estimate the pixel pitch (need {MinimumRedCellsPerField} or {MinimumRedCellsPooled} pooled); give --pitch");
            double m = FieldRedCells.TypicalDiameter(pool);
            scales[f.Name] = new FieldScale(RedCellScale.RedCellDiameterUm / m, string.Create(CultureInfo.InvariantCulture,
                $"estimated from {pool.Count} red cells of all {f.Width}x{f.Height} fields: median {m:0.0} px = {RedCellScale.RedCellDiameterUm} µm"));
        }
        return scales;
    }

    /// <summary>A given pitch, checked.</summary>
    public static FieldScale Given(double pitch) => pitch is > 0 and <= 10 ? new FieldScale(pitch, "given")
        : throw new ArgumentOutOfRangeException(nameof(pitch), $"--pitch {pitch}: a pixel pitch in µm per pixel, e.g. 0.1");

    /// <summary>Finds the nucleated cells of <paramref name="field"/> (named <paramref name="name"/> in messages).</summary>
    public static DetectedField Detect(RgbImage field, string name, FieldScale scale, FinderSettings? settings = null)
    {
        double factor = scale.PitchUm / CellPatch.PitchUm;   // project pixels per field pixel
        int w = Math.Max(1, (int)Math.Round(field.Width * factor)), h = Math.Max(1, (int)Math.Round(field.Height * factor));
        RgbImage resampled = field.Resize(w, h);
        double fx = (double)w / field.Width, fy = (double)h / field.Height;
        const int half = CellPatch.Size / 2;
        var cells = CellFinder.Find(resampled, settings).Select(c =>
        {
            // Pixel centres: resampled pixel i covers field pixels [i / f, (i + 1) / f).
            bool edge = c.X - half < 0 || c.Y - half < 0 || c.X + half > w || c.Y + half > h;
            return new FieldCell((c.X + 0.5) / fx - 0.5, (c.Y + 0.5) / fy - 0.5, c.DiameterPx / fx, edge, c.X, c.Y, c.NucleusAreaUm2);
        }).ToList();
        return new DetectedField(name, field.Width, field.Height, scale, resampled, cells);
    }

    /// <summary>The 96-px patch of a counted cell, centred on it in the resampled field.</summary>
    public static RgbImage Patch(DetectedField field, FieldCell cell)
    {
        if (cell.Edge) throw new InvalidOperationException($"{field.Field}: the cell at ({cell.X:0}, {cell.Y:0}) is at the edge; its patch would leave the field");
        return field.Resampled.CropCentred((int)Math.Round(cell.ResampledX), (int)Math.Round(cell.ResampledY), CellPatch.Size);
    }
}
