using System.Globalization;
using MarrowDiff.Core;
using MarrowDiff.Counting;
using MarrowDiff.Data;
using MarrowDiff.Detection;
using MarrowDiff.Evaluation;
using MarrowDiff.Experiments;
using MarrowDiff.Imaging;
using MarrowDiff.Reports;

namespace MarrowDiff.Workbooks;

/// <summary>One class of the phantom count against the truth: is the true share inside the counted interval?</summary>
public sealed record TruthRow(CellClass Class, int TrueCount, double TrueShare, ClassShare Counted)
{
    public bool Inside => TrueShare >= Counted.Low && TrueShare <= Counted.High;
}

/// <summary>
/// Notebook 08's known-truth check: the differential count run on a phantom the model never saw (its own seed), so
/// that every nucleated cell's centre, diameter and class are known. Detection is scored against the centres (a find
/// within half the cell's diameter is a hit, one to one), the counted differential against the true one class by class.
/// </summary>
public sealed class PhantomCountStudy
{
    private PhantomCountStudy(string root, DifferentialCount count, CountTiming timing, DetectionScore detection, IReadOnlyList<TruthRow> truth, Provenance provenance)
    {
        Root = root; Count = count; Timing = timing; Detection = detection; Truth = truth; Provenance = provenance;
    }

    public string Root { get; }
    public DifferentialCount Count { get; }
    public CountTiming Timing { get; }
    public DetectionScore Detection { get; }
    public IReadOnlyList<TruthRow> Truth { get; }
    public Provenance Provenance { get; }

    /// <summary>Renders (or reuses) the phantom of <paramref name="profile"/>'s size and seed, counts its fields with
    /// the pitch estimated from red cells (as for real fields; the truth is 0.16 µm/px), and scores the count.</summary>
    public static PhantomCountStudy Run(ExperimentProfile profile, PatchClassifier? classifier, string modelProfile, int modelSeed, IProgress<WorkProgress>? progress = null)
    {
        string root = Workbook.ResolveData(Workbook.PhantomData, profile, progress);
        var (count, timing) = FieldCount.Run([Path.Combine(root, "fields")], null, classifier, progress: progress);
        var rows = Csv.Parse(File.ReadAllText(Path.Combine(root, "manifest.csv")));
        var header = rows[0].Select((name, i) => (name, i)).ToDictionary(x => x.name, x => x.i, StringComparer.Ordinal);
        var truth = rows.Skip(1).Where(r => r[header["kind"]] == "patch").Select(r => (
            Field: Path.GetFileName(r[header["field_path"]]), X: double.Parse(r[header["centre_x"]], CultureInfo.InvariantCulture),
            Y: double.Parse(r[header["centre_y"]], CultureInfo.InvariantCulture), DiameterPx: double.Parse(r[header["diameter_um"]], CultureInfo.InvariantCulture) / CellPatch.PitchUm,
            Class: CellLabel.Parse(r[header["class"]]).Class!.Value)).ToList();
        var detection = DetectionScore.Empty;
        foreach (var field in count.Fields)
        {
            var found = field.Cells.Select(c => (c.X, c.Y)).ToList();
            var known = truth.Where(t => t.Field == Path.GetFileName(field.Field)).Select(t => (t.X, t.Y, t.DiameterPx)).ToList();
            detection += DetectionMatching.AgainstCentres(found, known);
        }
        var truthRows = count.Classified
            ? CellTaxonomy.All.Select((k, i) => new TruthRow(k, truth.Count(t => t.Class == k), (double)truth.Count(t => t.Class == k) / truth.Count, count.Classes[i])).ToList()
            : [];
        return new PhantomCountStudy(root, count, timing, detection, truthRows, Provenance.For(modelProfile, root, modelSeed));
    }

    public HtmlView DetectionTable() => HtmlView.Table(
        $"Finding nucleated cells in {Count.Fields.Count} phantom fields ({Path.GetFileName(Root)}, never seen in training): a find within half a cell's diameter of its true centre is a hit, one to one - {Provenance.Stamp}",
        ["true cells", "found", "hits", "recall %", "precision %", "pitch estimated (truth 0.16 µm/px)", "s per field"],
        [[Detection.Truth, Detection.Found, Detection.Matched, Percent.Of(Detection.Recall), Percent.Of(Detection.Precision),
          string.Join(", ", Count.Fields.Select(f => f.Scale.PitchUm.ToString("0.000", CultureInfo.InvariantCulture)).Distinct().Take(4)), Timing.SecondsPerField.ToString("0.000", CultureInfo.InvariantCulture)]]);

    public HtmlView TruthTable()
    {
        if (Truth.Count == 0) return new HtmlView("<p>No model: detection only.</p>", "No model: detection only.");
        int inside = Truth.Count(t => t.Inside);
        return HtmlView.Table($"Counted differential against the phantom's truth: {inside} of {Truth.Count} true percentages inside their exact 95% interval - {Provenance.Stamp}",
            ["class", "true cells", "true %", "counted", "counted %", "95% interval %", "truth inside"],
            Truth.Select(t => (IReadOnlyList<object?>)[$"{t.Class.Code()} {t.Class.DisplayName()}", t.TrueCount, Percent.Of(t.TrueShare), t.Counted.Count, Percent.Of(t.Counted.Share),
                                                       $"{Percent.Of(t.Counted.Low)}-{Percent.Of(t.Counted.High)}", t.Inside ? "yes" : "NO"]));
    }


    /// <summary>Writes the count's chart, its first field and the review queue as PNGs, and the truth table as
    /// Markdown, to <paramref name="folder"/> (<c>08-…-phantom-&lt;size&gt;-seed&lt;seed&gt;</c>): synthetic, so safe to keep.</summary>
    public HtmlView SaveFigures(string folder, int truthSeed)
    {
        var card = Provenance.SyntheticCard(Root);
        string name = $"phantom-{card?["size"] ?? "unknown"}-seed{truthSeed}";
        var written = new List<string>();
        void Save(string file, Action<string> write) { string path = Path.Combine(folder, file); write(path); written.Add(path); }
        if (Count.Classified)
        {
            Save($"08-differential-{name}.png", p => Count.Chart(Provenance).SavePng(p));
            Save($"08-review-{name}.png", p => Count.ReviewFigure(Provenance).SavePng(p));
        }
        Save($"08-field-{name}.png", p => Count.FieldFigure(Count.Fields[0], Provenance).SavePng(p));
        Save($"08-count-{name}.md", p => AtomicFile.WriteAllText(p, HtmlView.Concat(DetectionTable(), TruthTable(), Count.Table(Provenance)).Markdown));
        return HtmlView.Table($"Saved - {Provenance.Stamp}", ["file"], written.Select(f => (IReadOnlyList<object?>)[Path.GetFileName(f)]));
    }
}

/// <summary>
/// Notebook 08's real-field check: white-cell finding on fields annotated with boxes (TXL-PBC, peripheral blood),
/// scored per source (the sources differ in size and magnification). A found centre inside a box matches it, one
/// to one. Only detection is scored: the boxes say "white cell", not a stage.
/// </summary>
public sealed class BoxedFieldsStudy
{
    private BoxedFieldsStudy(string root, string split, IReadOnlyList<(DetectedField Field, IReadOnlyList<CellBox> Boxes, DetectionScore Score)> fields, CountTiming? timing)
    {
        Root = root; Split = split; Fields = fields; Timing = timing;
    }

    public string Root { get; }
    public string Split { get; }
    public IReadOnlyList<(DetectedField Field, IReadOnlyList<CellBox> Boxes, DetectionScore Score)> Fields { get; }
    public CountTiming? Timing { get; }
    public bool Present => Fields.Count > 0;

    public DetectionScore Total => Fields.Aggregate(DetectionScore.Empty, (a, f) => a + f.Score);

    /// <summary>Finds the white cells of <c>root/images/split</c> and scores them against <c>root/labels/split</c>
    /// (YOLO, class 0 = white cell). An absent folder gives a study whose views say how to get the data.</summary>
    public static BoxedFieldsStudy Run(string root, string split = "val", IProgress<WorkProgress>? progress = null)
    {
        string images = Path.Combine(root, "images", split), labels = Path.Combine(root, "labels", split);
        if (!Directory.Exists(images)) return new BoxedFieldsStudy(root, split, [], null);
        var (count, timing) = FieldCount.Run([images], null, null, progress: progress);
        var reader = new CellImageReader();
        var scored = count.Fields.Select(f =>
        {
            var boxes = YoloLabels.Read(Path.Combine(labels, Path.ChangeExtension(f.Field, ".txt")), f.Width, f.Height);
            return (f, boxes, DetectionMatching.AgainstBoxes(f.Cells.Select(c => (c.X, c.Y)).ToList(), boxes));
        }).ToList();
        return new BoxedFieldsStudy(root, split, scored, timing);
    }

    public HtmlView HowToGetTheData() => new(
        $"<p><b>No fields at <code>{HtmlView.Encode(Path.GetFullPath(Root))}</code>.</b> This section needs whole fields with white-cell boxes: the TXL-PBC dataset " +
        "(MIT licence; Lu et al. 2024) laid out as <code>images/&lt;split&gt;/*.jpg</code> and YOLO labels <code>labels/&lt;split&gt;/*.txt</code>; point <code>fields</code> at it.</p>",
        $"No fields at {Path.GetFullPath(Root)}: needs TXL-PBC (images/<split>, labels/<split>).");

    /// <summary>Recall and precision overall and per source (fields of one size come from one source).</summary>
    public HtmlView ScoreTable()
    {
        if (!Present) return HowToGetTheData();
        var rows = Fields.GroupBy(f => $"{f.Field.Width}x{f.Field.Height}").OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => Row(g.Key, g.Count(), g.Aggregate(DetectionScore.Empty, (a, f) => a + f.Score), g.Select(f => f.Field.Scale.PitchUm).Order().ElementAt(g.Count() / 2))).ToList();
        rows.Add(Row("all", Fields.Count, Total, double.NaN));
        return HtmlView.Table($"White-cell finding on TXL-PBC {Split} ({Fields.Count} real peripheral-blood fields; not used to choose anything): a found centre inside a box is a hit, one to one. " +
                              $"Floors: recall ≥ 95%, precision ≥ 90%. {Timing?.SecondsPerField:0.000} s per field.",
            ["fields (pixel size = source)", "fields", "boxes", "found", "hits", "recall %", "precision %", "median pitch µm/px"], rows);

        static IReadOnlyList<object?> Row(string name, int fields, DetectionScore s, double pitch) =>
            [name, fields, s.Truth, s.Found, s.Matched, Percent.Of(s.Recall), Percent.Of(s.Precision),
             double.IsFinite(pitch) ? pitch.ToString("0.000", CultureInfo.InvariantCulture) : ""];
    }

    /// <summary>The fields with a miss or a false find, boxes in green, finds in red (first <paramref name="max"/>),
    /// for a person to judge: TXL-PBC's boxes were made semi-automatically and a few are loose or wrong.</summary>
    public HtmlView Mistakes(int max = 12)
    {
        if (!Present) return HowToGetTheData();
        var wrong = Fields.Where(f => f.Score.Missed.Count + f.Score.FalseFinds.Count > 0).ToList();
        var views = new List<HtmlView> { new($"<p>{wrong.Count} of {Fields.Count} fields have a miss or a false find; the first {Math.Min(max, wrong.Count)} shown (green: box, red: find).</p>",
                                             $"{wrong.Count} fields with a miss or a false find") };
        var reader = new CellImageReader();
        foreach (var (field, boxes, score) in wrong.Take(max))
        {
            var image = reader.Read(Path.Combine(Root, "images", Split, field.Field));
            foreach (var b in boxes) Box(image, (int)b.X0, (int)b.Y0, (int)b.X1, (int)b.Y1, (0, 170, 60));
            foreach (var c in field.Cells) { int r = (int)(c.DiameterPx / 2); Box(image, (int)c.X - r, (int)c.Y - r, (int)c.X + r, (int)c.Y + r, (220, 30, 30)); }
            views.Add(Figures.InlinePhoto(image, $"{field.Field}: {score}"));
        }
        return HtmlView.Concat([.. views]);
    }

    private static void Box(RgbImage img, int x0, int y0, int x1, int y1, (byte, byte, byte) c)
    {
        img.FillRect(x0, y0, x1 - x0, 2, c); img.FillRect(x0, y1 - 1, x1 - x0, 2, c);
        img.FillRect(x0, y0, 2, y1 - y0, c); img.FillRect(x1 - 1, y0, 2, y1 - y0, c);
    }
}
