using System.Diagnostics;
using System.Text.Json;
using System.Text;
using MarrowDiff.Core;
using MarrowDiff.Data;

namespace MarrowDiff.Phantom;

/// <summary>
/// The synthetic marrow phantom: MarrowDiff's built-in data, because the paper's 2,174 images are not public.
/// It mirrors the paper's acquisition (subjects → slides → 1080×1330 fields → 96×96 patches cropped at the
/// true cell centres) so every later stage (grouped splits, re-cropping from the field, per-slide colour
/// statistics) has what it needs. Results on it are synthetic and are labelled so.
/// </summary>
public static class MarrowPhantom
{
    /// <summary>Bumped whenever the renderer changes a pixel: cached phantoms of another version are re-rendered.</summary>
    public const int GeneratorVersion = 1;

    /// <summary>Where a phantom of this size and seed lives below <paramref name="dataRoot"/>.</summary>
    public static string FolderFor(string dataRoot, PhantomSize size, int seed) =>
        Path.Combine(dataRoot, $"phantom-{size.Name}-seed{seed}");

    /// <summary>Returns the phantom's folder, rendering it first if it is missing or from another generator version.</summary>
    public static string Ensure(string dataRoot, PhantomSize size, int seed, IProgress<WorkProgress>? progress = null)
    {
        string dir = FolderFor(dataRoot, size, seed);
        string meta = Path.Combine(dir, Provenance.SyntheticDataCard);
        if (File.Exists(meta))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(meta));
            if (doc.RootElement.GetProperty("generator_version").GetInt32() == GeneratorVersion) return dir;
            Directory.Delete(dir, recursive: true);
        }
        Write(dir, size, seed, progress);
        return dir;
    }

    /// <summary>The class of every cell of every field, dealt so that each field gets a similar number.</summary>
    public static IReadOnlyList<FieldPlan> Plan(PhantomSize size, int seed)
    {
        var rng = Rng.For(seed, 0);
        var cells = size.ClassCounts.OrderBy(kv => kv.Key).SelectMany(kv => Enumerable.Repeat(kv.Key, kv.Value)).ToList();
        rng.Shuffle(cells);
        int slides = size.Subjects * size.SlidesPerSubject;
        if (size.Fields < slides) throw new ArgumentException($"{size.Name}: {size.Fields} fields cannot cover {slides} slides");
        var plans = new List<FieldPlan>(size.Fields);
        int next = 0;
        for (int f = 0; f < size.Fields; f++)
        {
            int slide = f * slides / size.Fields; // contiguous fields per slide, 5–10 as in the paper for the paper size
            int subject = slide / size.SlidesPerSubject;
            int count = (f + 1) * cells.Count / size.Fields - f * cells.Count / size.Fields;
            plans.Add(new FieldPlan(f, subject + 1, slide % size.SlidesPerSubject + 1, cells.GetRange(next, count)));
            next += count;
        }
        return plans;
    }

    public sealed record FieldPlan(int Index, int Subject, int Slide, IReadOnlyList<CellClass> Classes)
    {
        public string FieldId => $"s{Subject:00}-slide{Slide}-field{Index + 1:000}";
    }

    /// <summary>Renders the phantom into <paramref name="dir"/>: <c>patches/&lt;class&gt;/*.png</c>, <c>fields/*.png</c>,
    /// <c>manifest.csv</c> and <c>phantom.json</c>. Written into a temporary sibling folder and renamed at the
    /// end, so an interrupted run never leaves a half dataset where a complete one is expected.</summary>
    public static void Write(string dir, PhantomSize size, int seed, IProgress<WorkProgress>? progress = null)
    {
        dir = Path.GetFullPath(dir);
        if (Directory.Exists(dir)) throw new IOException($"{dir} already exists; delete it or choose another folder");
        string temp = $"{dir}.partial-{Environment.ProcessId}";
        if (Directory.Exists(temp)) Directory.Delete(temp, true);
        Directory.CreateDirectory(temp);
        var plans = Plan(size, seed);
        var rows = new string[plans.Count][];
        var clock = Stopwatch.StartNew();
        int done = 0;
        var stains = new Dictionary<(int, int), SlideStain>();
        foreach (var p in plans)
            if (!stains.ContainsKey((p.Subject, p.Slide)))
                stains[(p.Subject, p.Slide)] = SlideStain.Draw(Rng.For(seed, 1, p.Subject, p.Slide));

        Parallel.ForEach(plans, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, plan =>
        {
            var (field, cells) = FieldRenderer.Render(plan.Classes, stains[(plan.Subject, plan.Slide)], Rng.For(seed, 2, plan.Index));
            string fieldRel = $"fields/{plan.FieldId}.png";
            field.SavePng(Path.Combine(temp, fieldRel));
            var lines = new List<string> { Csv.Line("field", fieldRel, "", "", $"s{plan.Subject:00}", $"s{plan.Subject:00}-slide{plan.Slide}", plan.FieldId, "", "", "", "", "", "") };
            for (int c = 0; c < cells.Count; c++)
            {
                PlacedCell cell = cells[c];
                string id = $"{plan.FieldId}-cell{c + 1:00}";
                string rel = $"patches/{cell.Class.SnakeName()}/{id}.png";
                field.CropCentred(cell.CentreX, cell.CentreY, CellPatch.Size).SavePng(Path.Combine(temp, rel));
                lines.Add(Csv.Line("patch", rel, id, cell.Class.SnakeName(), $"s{plan.Subject:00}", $"s{plan.Subject:00}-slide{plan.Slide}",
                                   plan.FieldId, cell.CentreX, cell.CentreY, fieldRel, cell.DiameterUm, cell.CellAreaUm2, cell.NucleusAreaUm2));
            }
            rows[plan.Index] = [.. lines];
            int n = Interlocked.Increment(ref done);
            progress?.Report(new WorkProgress("rendering fields", n, plans.Count, clock.Elapsed));
        });

        var manifest = new StringBuilder();
        manifest.AppendLine("kind,path,cell_id,class,subject,slide,field,centre_x,centre_y,field_path,diameter_um,cell_area_um2,nucleus_area_um2");
        foreach (string[] lines in rows) foreach (string l in lines) manifest.AppendLine(l);
        AtomicFile.WriteAllText(Path.Combine(temp, CellDatasetLoader.ManifestName), manifest.ToString());
        AtomicFile.WriteAllText(Path.Combine(temp, Provenance.SyntheticDataCard), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["synthetic"] = true,
            ["description"] = "MarrowDiff synthetic marrow phantom: rendered Wright-Giemsa-like fields, not real cells",
            ["size"] = size.Name,
            ["seed"] = seed,
            ["generator_version"] = GeneratorVersion,
            ["pitch_um_per_px"] = CellPatch.PitchUm,
            ["field_width_px"] = FieldRenderer.Width,
            ["field_height_px"] = FieldRenderer.Height,
            ["patch_px"] = CellPatch.Size,
            ["subjects"] = size.Subjects,
            ["slides"] = size.Subjects * size.SlidesPerSubject,
            ["fields"] = size.Fields,
            ["cells"] = size.ClassCounts.ToDictionary(kv => kv.Key.SnakeName(), kv => kv.Value),
        }, new JsonSerializerOptions { WriteIndented = true }));
        Directory.Move(temp, dir);
    }

    /// <summary>Reads the phantom's <c>phantom.json</c> when <paramref name="datasetRoot"/> is a phantom, else null.</summary>
    public static IReadOnlyDictionary<string, string>? Describe(string datasetRoot) => Provenance.SyntheticCard(datasetRoot);
}
