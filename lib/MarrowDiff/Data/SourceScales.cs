using MarrowDiff.Core;
using MarrowDiff.Imaging;

namespace MarrowDiff.Data;

/// <summary>
/// One physical scale for every source: each source's pixel pitch, given or estimated from its red cells, so the
/// preparation can resample every image to the project's pitch (the phantom's 0.16 µm/px) before cutting patches.
/// </summary>
public static class SourceScales
{
    /// <summary>Up to <paramref name="perSource"/> images of each source, spread evenly over its files (whole fields
    /// where a source has them: they hold more red cells than crops).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Sample(CellDataset dataset, int perSource)
    {
        var result = new SortedDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var group in dataset.Cells.GroupBy(c => c.Source))
        {
            var files = group.Select(c => c.FieldPath ?? c.Path).Distinct().Order(StringComparer.Ordinal).ToList();
            int step = Math.Max(1, files.Count / Math.Max(1, perSource));
            result[group.Key] = files.Where((_, i) => i % step == 0).Take(perSource).ToList();
        }
        return result;
    }

    /// <summary>Each source's pitch: from <paramref name="given"/> when it names the source, else estimated from up to
    /// <paramref name="perSource"/> of its images' red cells, else from its segmented neutrophils against a source
    /// whose red cells were measured (Matek's crops cut their red cells; PBC's show them whole). A source none of this
    /// works for is an error that says to give its pitch.</summary>
    public static IReadOnlyList<SourceScale> Estimate(CellDataset dataset, int perSource = 60, CellImageReader? reader = null,
                                                      IReadOnlyDictionary<string, double>? given = null, IReadOnlySet<string>? only = null)
    {
        reader ??= new CellImageReader();
        var scales = new List<SourceScale>();
        var pending = new List<string>();
        foreach (var (source, files) in Sample(dataset, perSource))
        {
            if (only is not null && !only.Contains(source)) continue;
            if (given is not null && given.TryGetValue(source, out double pitch))
            {
                scales.Add(new SourceScale(source, pitch, "given"));
                continue;
            }
            if (RedCellScale.Estimate(source, files.Select(reader.Read)) is { } estimated) scales.Add(estimated);
            else pending.Add(source);
        }
        foreach (string source in pending)
        {
            // Segmented neutrophils of this source against those of a source measured by its red cells.
            IEnumerable<RgbImage> Neutrophils(string s) => dataset.Cells.Where(c => c.Source == s && c.Label.Class == CellClass.SegmentedNeutrophil && c.FieldPath is null)
                                                                     .Select(c => c.Path).Order(StringComparer.Ordinal).Take(perSource * 3).Select(reader.Read);
            SourceScale? derived = scales.Where(s => s.RedCells > 0).Select(reference =>
                RedCellScale.FromSharedCellType(source, Neutrophils(source), reference, Neutrophils(reference.Source), "segmented neutrophils")).FirstOrDefault(s => s is not null);
            scales.Add(derived ?? throw new InvalidOperationException(
                $"{dataset.Root}: too few whole red cells in the images of source '{source}', and no segmented neutrophils shared with a measured source, to estimate its pixel pitch; give it (pitch {source}=<µm per px>)"));
        }
        return scales.OrderBy(s => s.Source, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The pitches the preparation needs: those of the sources whose cells are single-cell crops larger than a patch
    /// (public datasets), which are resampled to <see cref="CellPatch.PitchUm"/> before cutting. Sources of whole fields
    /// (the phantom) are at the project's pitch by construction, and bare 96×96 patches cannot be resampled.
    /// </summary>
    public static IReadOnlyDictionary<string, SourceScale> ForCrops(CellDataset dataset, IReadOnlyDictionary<string, double>? given = null,
                                                                   int perSource = 60, CellImageReader? reader = null)
    {
        reader ??= new CellImageReader();
        var crops = dataset.Cells.Where(c => c.FieldPath is null).GroupBy(c => c.Source)
            .Where(g => reader.Read(g.First().Path) is var first && (first.Width != CellPatch.Size || first.Height != CellPatch.Size))
            .Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        return crops.Count == 0 ? new Dictionary<string, SourceScale>()
            : Estimate(dataset, perSource, reader, given, crops).ToDictionary(s => s.Source, StringComparer.Ordinal);
    }


    /// <summary>Parses "PBC=0.1;Matek=0.12" (µm per px by source).</summary>
    public static IReadOnlyDictionary<string, double> Parse(string? text)
    {
        var d = new Dictionary<string, double>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(text)) return d;
        foreach (string part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part.Split('=') is not [var k, var v] || !double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double pitch) || pitch <= 0)
                throw new ArgumentException($"pitch '{part}': write SOURCE=MICRONS_PER_PIXEL, e.g. PBC=0.1");
            d[k.Trim()] = pitch;
        }
        return d;
    }
}
