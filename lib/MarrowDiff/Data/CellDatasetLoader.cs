using System.Globalization;
using MarrowDiff.Core;

namespace MarrowDiff.Data;

/// <summary>
/// Reads a dataset folder. Two layouts:
/// <list type="bullet">
/// <item><b>manifest.csv</b> at the root (the phantom's, or ../shared/real-cells'): one row per file with a path
/// relative to the root and a label; optional columns say which rows are whole fields (<c>kind</c>), and give
/// the cell id, subject, slide, source field and centre.</item>
/// <item><b>folder-per-class</b> (torchvision's ImageFolder contract): <c>root/&lt;label&gt;/…/image.png</c>. The
/// first folder below the root is the label, parsed by <see cref="CellLabel.Parse"/>; deeper subfolders are
/// allowed (Matek's <c>BLA/0001-1000/BLA_00014.jpg</c>). Labels that are not a paper class become Other(code).</item>
/// </list>
/// Every image is decoded once (header, size cap and pixels) so that a bad file is found here, with its path
/// and reason, not halfway through training. <see cref="BadFilePolicy.Stop"/> throws <see cref="CellImageException"/>
/// at the first one; <see cref="BadFilePolicy.Skip"/> lists it in <see cref="CellDataset.Skipped"/>.
/// </summary>
public static class CellDatasetLoader
{
    public const string ManifestName = "manifest.csv";

    /// <summary>Files at the root that describe a dataset rather than being part of it.</summary>
    private static readonly string[] RootDocuments = ["readme", "manifest", "splits", "licence", "license", "phantom"];

    public static CellDataset Load(string root, BadFilePolicy policy = BadFilePolicy.Stop, CellImageReader? reader = null, bool verifyImages = true)
    {
        root = Path.GetFullPath(root);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{root}: dataset folder not found");
        reader ??= new CellImageReader();
        var skipped = new List<BadFile>();
        var notes = new List<string>();

        void Bad(string path, string reason)
        {
            if (policy == BadFilePolicy.Stop) throw new CellImageException(path, reason);
            skipped.Add(new BadFile(path, reason));
        }

        string manifest = Path.Combine(root, ManifestName);
        (List<CellImage> cells, List<FieldImage> fields, string layout) = File.Exists(manifest)
            ? (ReadManifest(root, manifest, Bad, notes, out var f), f, ManifestName)
            : (ReadFolders(root, Bad, notes), new List<FieldImage>(), "folder-per-class");

        if (cells.Count == 0 && skipped.Count == 0)
            throw new InvalidDataException($"{root}: no images found. Expected {ManifestName} or folders named by class (e.g. band_neutrophil/, C9/, BNE/) holding PNG, JPEG, BMP or TIFF files.");

        if (verifyImages)
        {
            var good = new List<CellImage>(cells.Count);
            foreach (CellImage c in cells)
            {
                try { reader.Read(c.Path); good.Add(c); }
                catch (CellImageException e) { Bad(e.Path, e.Reason); }
            }
            cells = good;
        }
        return new CellDataset(root, layout, cells, fields, skipped, notes);
    }

    private static List<CellImage> ReadFolders(string root, Action<string, string> bad, List<string> notes)
    {
        var cells = new List<CellImage>();
        var folders = Directory.EnumerateDirectories(root).Select(Path.GetFileName).Where(n => n is not null && !n.StartsWith('.')).Select(n => n!).ToList();
        PublicLayout? layout = PublicLayout.Detect(root, folders);
        foreach (string file in Walk(root, bad).Order(StringComparer.Ordinal))
        {
            string rel = Path.GetRelativePath(root, file);
            string[] parts = rel.Split(Path.DirectorySeparatorChar);
            if (parts.Any(p => p.StartsWith('.'))) continue; // hidden files and folders (.DS_Store, .git) are not data
            if (parts.Length == 1)
            {
                if (!IsRootDocument(parts[0])) bad(file, "file at the dataset root: images must sit in a folder named by class");
                continue;
            }
            if (!CellImageReader.Extensions.Contains(Path.GetExtension(file)))
            {
                bad(file, $"not an image file (extension '{Path.GetExtension(file)}'; PNG, JPEG, BMP, TIFF are read)");
                continue;
            }
            CellLabel label;
            try { label = layout?.LabelOf(rel) ?? CellLabel.Parse(parts[0]); }
            catch (FormatException e) { bad(file, e.Message); continue; }
            cells.Add(new CellImage(file, label, CellId: rel, Source: layout?.Name ?? Path.GetFileName(root), Specimen: layout?.Specimen));
        }
        notes.Add(layout is null
            ? "labels from the first folder below the root (folder-per-class); each file is its own cell"
            : $"{layout.Description}; each file is its own cell. Cite: {layout.Citation}");
        return cells;
    }

    /// <summary>
    /// Every file below <paramref name="root"/>, hidden folders skipped. Symbolic links to folders are not followed (a
    /// link to a parent would loop forever) and are reported; a folder that cannot be listed is reported. Links to files
    /// are files: the reader follows them, or says why it cannot.
    /// </summary>
    internal static IEnumerable<string> Walk(string root, Action<string, string> bad)
    {
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            string dir = pending.Pop();
            string[] files, folders;
            try
            {
                files = Directory.GetFiles(dir);
                folders = Directory.GetDirectories(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                bad(dir, $"folder cannot be listed: {e.Message}");
                continue;
            }
            foreach (string f in files) yield return f;
            foreach (string d in folders.Order(StringComparer.Ordinal))
            {
                if (Path.GetFileName(d).StartsWith('.')) continue; // hidden folders (.git) are not data
                if (new DirectoryInfo(d).LinkTarget is { } target)
                {
                    bad(d, $"symbolic link to the folder '{target}': not followed (links between folders can loop)");
                    continue;
                }
                pending.Push(d);
            }
        }
    }

    private static bool IsRootDocument(string name)
    {
        string lower = name.ToLowerInvariant();
        return RootDocuments.Any(lower.StartsWith);
    }

    private static List<CellImage> ReadManifest(string root, string manifest, Action<string, string> bad, List<string> notes, out List<FieldImage> fields)
    {
        List<string[]> rows = Csv.Parse(File.ReadAllText(manifest), manifest);
        if (rows.Count == 0) throw new InvalidDataException($"{manifest}: empty manifest");
        string[] header = rows[0].Select(h => h.Trim().ToLowerInvariant()).ToArray();

        int Col(params string[] names) => names.Select(n => Array.IndexOf(header, n)).FirstOrDefault(i => i >= 0, -1);
        int path = Col("path", "patch_path", "file"), label = Col("class", "mapped_class", "label");
        if (path < 0 || label < 0)
            throw new InvalidDataException($"{manifest}: needs a 'path' column and a 'class' (or 'mapped_class', 'label') column; found: {string.Join(", ", header)}");
        int kind = Col("kind"), id = Col("cell_id", "id"), source = Col("source", "dataset"), subject = Col("subject", "patient"), specimen = Col("specimen"),
            slide = Col("slide"), field = Col("field_path"), fieldId = Col("field", "field_id"), cx = Col("centre_x", "center_x"), cy = Col("centre_y", "center_y"),
            diameterPx = Col("diameter_px"), diameterUm = Col("diameter_um");
        // A diameter in µm becomes pixels through the dataset's pitch, when the dataset states it (the phantom does).
        double? pitch = ReadPitch(root);

        var cells = new List<CellImage>();
        fields = [];
        var listed = new HashSet<string>(StringComparer.Ordinal);
        string defaultSource = Path.GetFileName(root);
        for (int r = 1; r < rows.Count; r++)
        {
            string[] row = rows[r];
            string Get(int i) => i >= 0 && i < row.Length ? row[i].Trim() : "";
            int? Int(int i) => int.TryParse(Get(i), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : null;
            string? Opt(int i) => Get(i) is { Length: > 0 } s ? s : null;
            double? Real(int i) => double.TryParse(Get(i), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 ? v : null;

            if (row.Length != header.Length) { bad($"{manifest}:{r + 1}", $"row has {row.Length} fields, header has {header.Length}"); continue; }
            string rel = Get(path);
            // Inside the dataset or not read at all, and refused before the file is looked at: a manifest must not
            // turn ../../etc/passwd into a cell, nor let the audit say whether such a file exists.
            if (Outside(root, rel) is { } leaves) { bad($"{manifest}:{r + 1}", $"path '{rel}' {leaves}"); continue; }
            string file = Path.GetFullPath(Path.Combine(root, rel));
            listed.Add(file);
            if (!File.Exists(file)) { bad(file, $"listed in {ManifestName} (line {r + 1}) but missing"); continue; }
            if (Get(kind).Equals("field", StringComparison.OrdinalIgnoreCase))
            {
                fields.Add(new FieldImage(file, Opt(subject), Opt(slide), Opt(fieldId) ?? rel));
                continue;
            }
            if (Get(label).Length == 0) { bad(file, $"no label in {ManifestName} (line {r + 1})"); continue; }
            if (Opt(field) is { } fieldRel && Outside(root, fieldRel) is { } fieldLeaves) { bad($"{manifest}:{r + 1}", $"field_path '{fieldRel}' {fieldLeaves}"); continue; }
            string? fieldPath = Opt(field) is { } fp ? Path.GetFullPath(Path.Combine(root, fp)) : null;
            cells.Add(new CellImage(file, CellLabel.Parse(Get(label)), Opt(id) ?? rel, Opt(source) is { } src ? PublicLayout.SourceName(src) : defaultSource,
                                    Opt(subject), Opt(slide), fieldPath, Int(cx), Int(cy),
                                    Real(diameterPx) ?? (Real(diameterUm) is { } um && pitch is { } p ? um / p : null), Opt(specimen)));
        }
        int unlisted = Walk(root, (_, _) => { }).Count(f => CellImageReader.Extensions.Contains(Path.GetExtension(f)) && !listed.Contains(f));
        notes.Add($"labels from {ManifestName}");
        if (unlisted > 0) notes.Add($"{unlisted} image file(s) under the root are not listed in {ManifestName} and were not read");
        return cells;
    }

    /// <summary>Why a manifest's <paramref name="relative"/> path is not a file of the dataset under <paramref name="root"/>
    /// (absolute, or climbing out with ..), or null when it is.</summary>
    private static string? Outside(string root, string relative)
    {
        if (Path.IsPathRooted(relative)) return "is absolute: a manifest names files relative to its dataset's folder";
        string full = Path.GetFullPath(Path.Combine(root, relative));
        string inside = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)) + Path.DirectorySeparatorChar;
        return full.StartsWith(inside, StringComparison.Ordinal) ? null : "leaves the dataset's folder: a manifest names files inside it";
    }

    /// <summary>Pixel pitch (µm per pixel) stated by a dataset's <c>phantom.json</c> or <c>dataset.json</c>, if any.</summary>
    private static double? ReadPitch(string root)
    {
        foreach (string name in new[] { "phantom.json", "dataset.json" })
        {
            string file = Path.Combine(root, name);
            if (!File.Exists(file)) continue;
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
            if (doc.RootElement.TryGetProperty("pitch_um_per_px", out var v) && v.TryGetDouble(out double pitch) && pitch > 0) return pitch;
        }
        return null;
    }
}
