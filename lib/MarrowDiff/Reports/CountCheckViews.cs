using System.Globalization;
using MarrowDiff.Core;
using MarrowDiff.Counting;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Imaging;

namespace MarrowDiff.Reports;

/// <summary>Notebook 08's two checks of counting as views: the count of a phantom with known truth, and white-cell
/// finding on real fields with boxes.</summary>
public static class CountCheckViews
{
    public static HtmlView DetectionTable(this PhantomCountCheck check) => HtmlView.Table(
        $"Finding nucleated cells in {check.Count.Fields.Count} phantom fields ({Path.GetFileName(check.Root)}, never seen in training): a find within half a cell's diameter of its true centre is a hit, one to one - {check.Provenance.Stamp}",
        ["true cells", "found", "hits", "recall %", "precision %", "pitch estimated (truth 0.16 µm/px)", "s per field"],
        [[check.Detection.Truth, check.Detection.Found, check.Detection.Matched, Percent.Of(check.Detection.Recall), Percent.Of(check.Detection.Precision),
          string.Join(", ", check.Count.Fields.Select(f => f.Scale.PitchUm.ToString("0.000", CultureInfo.InvariantCulture)).Distinct().Take(4)), check.Timing.SecondsPerField.ToString("0.000", CultureInfo.InvariantCulture)]]);

    public static HtmlView TruthTable(this PhantomCountCheck check)
    {
        if (check.Truth.Count == 0) return new HtmlView("<p>No model: detection only.</p>", "No model: detection only.");
        int inside = check.Truth.Count(t => t.Inside);
        return HtmlView.Table($"Counted differential against the phantom's truth: {inside} of {check.Truth.Count} true percentages inside their exact 95% interval - {check.Provenance.Stamp}",
            ["class", "true cells", "true %", "counted", "counted %", "95% interval %", "truth inside"],
            check.Truth.Select(t => (IReadOnlyList<object?>)[$"{t.Class.Code()} {t.Class.DisplayName()}", t.TrueCount, Percent.Of(t.TrueShare), t.Counted.Count, Percent.Of(t.Counted.Share),
                                                       $"{Percent.Of(t.Counted.Low)}-{Percent.Of(t.Counted.High)}", t.Inside ? "yes" : "NO"]));
    }


    /// <summary>Writes the count's chart, its first field and the review queue as PNGs, and the truth table as
    /// Markdown, to <paramref name="folder"/> (<c>08-…-phantom-&lt;size&gt;-seed&lt;seed&gt;</c>): synthetic, so safe to keep.</summary>
    public static HtmlView SaveFigures(this PhantomCountCheck check, string folder, int truthSeed)
    {
        var card = Provenance.SyntheticCard(check.Root);
        string name = $"phantom-{card?["size"] ?? "unknown"}-seed{truthSeed}";
        var written = new List<string>();
        void Save(string file, Action<string> write) { string path = Path.Combine(folder, file); write(path); written.Add(path); }
        if (check.Count.Classified)
        {
            Save($"08-differential-{name}.png", p => check.Count.Chart(check.Provenance).SavePng(p));
            Save($"08-review-{name}.png", p => check.Count.ReviewFigure(check.Provenance).SavePng(p));
        }
        Save($"08-field-{name}.png", p => check.Count.FieldFigure(check.Count.Fields[0], check.Provenance).SavePng(p));
        Save($"08-count-{name}.md", p => AtomicFile.WriteAllText(p, HtmlView.Concat(check.DetectionTable(), check.TruthTable(), check.Count.Table(check.Provenance)).Markdown));
        return HtmlView.Table($"Saved - {check.Provenance.Stamp}", ["file"], written.Select(f => (IReadOnlyList<object?>)[Path.GetFileName(f)]));
    }

    public static HtmlView HowToGetTheData(this BoxedFieldsCheck check) => new(
        $"<p><b>No fields at <code>{HtmlView.Encode(Path.GetFullPath(check.Root))}</code>.</b> This section needs whole fields with white-cell boxes: the TXL-PBC dataset " +
        "(MIT licence; Lu et al. 2024) laid out as <code>images/&lt;split&gt;/*.jpg</code> and YOLO labels <code>labels/&lt;split&gt;/*.txt</code>; point <code>fields</code> at it.</p>",
        $"No fields at {Path.GetFullPath(check.Root)}: needs TXL-PBC (images/<split>, labels/<split>).");

    /// <summary>Recall and precision overall and per source (fields of one size come from one source).</summary>
    public static HtmlView ScoreTable(this BoxedFieldsCheck check)
    {
        if (!check.Present) return check.HowToGetTheData();
        var rows = check.Fields.GroupBy(f => $"{f.Field.Width}x{f.Field.Height}").OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => Row(g.Key, g.Count(), g.Aggregate(DetectionScore.Empty, (a, f) => a + f.Score), g.Select(f => f.Field.Scale.PitchUm).Order().ElementAt(g.Count() / 2))).ToList();
        rows.Add(Row("all", check.Fields.Count, check.Total, double.NaN));
        return HtmlView.Table($"White-cell finding on TXL-PBC {check.Split} ({check.Fields.Count} real peripheral-blood fields; not used to choose anything): a found centre inside a box is a hit, one to one. " +
                              $"Floors: recall ≥ 95%, precision ≥ 90%. {check.Timing?.SecondsPerField:0.000} s per field.",
            ["fields (pixel size = source)", "fields", "boxes", "found", "hits", "recall %", "precision %", "median pitch µm/px"], rows);

        static IReadOnlyList<object?> Row(string name, int fields, DetectionScore s, double pitch) =>
            [name, fields, s.Truth, s.Found, s.Matched, Percent.Of(s.Recall), Percent.Of(s.Precision),
             double.IsFinite(pitch) ? pitch.ToString("0.000", CultureInfo.InvariantCulture) : ""];
    }

    /// <summary>The fields with a miss or a false find, boxes in green, finds in red (first <paramref name="max"/>),
    /// for a person to judge: TXL-PBC's boxes were made semi-automatically and a few are loose or wrong.</summary>
    public static HtmlView Mistakes(this BoxedFieldsCheck check, int max = 12)
    {
        if (!check.Present) return check.HowToGetTheData();
        var wrong = check.Fields.Where(f => f.Score.Missed.Count + f.Score.FalseFinds.Count > 0).ToList();
        var views = new List<HtmlView> { new($"<p>{wrong.Count} of {check.Fields.Count} fields have a miss or a false find; the first {Math.Min(max, wrong.Count)} shown (green: box, red: find).</p>",
                                             $"{wrong.Count} fields with a miss or a false find") };
        var reader = new CellImageReader();
        foreach (var (field, boxes, score) in wrong.Take(max))
        {
            var image = reader.Read(Path.Combine(check.Root, "images", check.Split, field.Field));
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
