using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json;
using System.Text;
using MarrowDiff.Core;
using MarrowDiff.Counting;
using MarrowDiff.Data;
using MarrowDiff.Detection;
using MarrowDiff.Evaluation;
using MarrowDiff.Imaging;

namespace MarrowDiff.Reports;

/// <summary>
/// A differential count as a hematologist reads and signs it: <c>cells.csv</c> (every cell found, in the field's own
/// pixels), <c>count.json</c>, and a self-contained <c>report.html</c> with the differential (table and chart with
/// exact intervals, M:E, blasts), each field with its cells outlined and labelled, and the review queue.
/// </summary>
public static class CountViews
{
    /// <summary>How the edge rule reads in every report.</summary>
    public const string EdgeRule = "A cell is counted only when its whole 96-px patch (15.4 µm at 0.16 µm/px) lies inside the field; cells cut by the field's edge are listed in cells.csv with edge=true and left out of the count.";

    private static string F(double v, string format = "0.###") => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "";
    private static string Pct(double v) => double.IsFinite(v) ? Percent.Of(v) : "";

    /// <summary>cells.csv: one row per found cell, edge cells included, centres in the field's own pixels.</summary>
    public static string CellsCsv(this DifferentialCount count)
    {
        var csv = new StringBuilder(Csv.Line(["field", "x", "y", "diameter_px", "edge", "class", "probability", "second_class", "second_probability", "review", "unlike_the_training_cells"]) + "\n");
        foreach (var c in count.Cells)
            csv.Append(Csv.Line([c.Field, F(c.Cell.X, "0.0"), F(c.Cell.Y, "0.0"), F(c.Cell.DiameterPx, "0.0"), c.Cell.Edge ? "true" : "false",
                                 c.Class?.Code() ?? "", c.Class is null ? "" : F(c.Probability, "0.0000"), c.Second?.Code() ?? "",
                                 c.Second is null ? "" : F(c.SecondProbability, "0.0000"), c.Class is null ? "" : c.Review ? "true" : "false", c.Unlike ?? ""])).Append('\n');
        return csv.ToString();
    }

    // Every share in count.json reads alike: percent with its 95% interval, each to two decimals.
    private static JsonObject WithPercent(JsonObject row, ClassShare c)
    {
        row["percent"] = Math.Round(100 * c.Share, 2);
        row["ci95_low_percent"] = Math.Round(100 * c.Low, 2);
        row["ci95_high_percent"] = Math.Round(100 * c.High, 2);
        return row;
    }

    // One row per class, keyed by its code (C1, Lym, ...).
    private static JsonObject Rows(IEnumerable<ClassShare> shares)
    {
        var rows = new JsonObject();
        foreach (var c in shares) rows[c.Name.Split(' ')[0]] = WithPercent(new JsonObject { ["name"] = c.Name, ["count"] = c.Count }, c);
        return rows;
    }

    /// <summary>count.json: the numbers of the report, with the pitch of every field and the provenance.</summary>
    public static string CountJson(this DifferentialCount count, Provenance provenance)
    {
        var json = new JsonObject
        {
            ["counted"] = count.Counted,
            ["target"] = count.Target,
            ["target_reached"] = count.Counted >= count.Target,
            ["found"] = count.Cells.Count,
            ["left_out_at_edge"] = count.LeftAtEdge,
            ["edge_rule"] = EdgeRule,
            ["classifier"] = count.Classifier ?? "none: detection only (no --model)",
        };
        if (count.Classified)
        {
            json["classes"] = Rows(count.Classes);
            json["classes_are_shares_of"] = $"the {count.StageCells} cells called one of the ten maturation stages";
            json["outside_the_stages"] = Rows(count.NonStage);
            json["outside_the_stages_are_shares_of"] = count.NonStage.Count == 0
                ? "none: the model answers only the ten stages, so every nucleated cell is counted as one of them"
                : $"all {count.Cells.Count(c => c.Class is not null)} classified cells";
            json["interval_method"] = "exact binomial (Clopper-Pearson) 95%, as Rümke's table";
            if (count.MyeloidToErythroid is { } me)
                json["myeloid_to_erythroid"] = new JsonObject { ["myeloid"] = me.Myeloid, ["erythroid"] = me.Erythroid, ["ratio"] = Finite(me.Ratio),
                                                                ["ci95_low"] = Finite(me.Low), ["ci95_high"] = Finite(me.High), ["definition"] = RatioWithInterval.Definition };
            if (count.Blasts is { } b) json["blasts_percent"] = WithPercent(new JsonObject(), b);
            json["review_below_probability"] = count.ReviewBelow;
            json["review_queue"] = count.ReviewQueue.Count;
            // Only a model with an envelope of its training cells can tell; without one the field is absent, not zero.
            if (count.Envelope)
                json["review_unlike_the_training_cells"] = count.Cells.Count(c => c.Unlike is not null && c.Counted);
            if (count.Widest is { } w && count.CellsForHalfWidth is { } need)
                json["to_narrow_widest_to_2_5_points"] = new JsonObject { ["class"] = w.Name, ["cells_needed"] = need, ["more_cells"] = Math.Max(0, need - count.Counted) };
        }
        var fields = new JsonArray();
        foreach (var f in count.Fields)
            fields.Add(new JsonObject { ["field"] = f.Field, ["width"] = f.Width, ["height"] = f.Height, ["pitch_um_per_px"] = Math.Round(f.Scale.PitchUm, 5),
                                        ["pitch_how"] = f.Scale.How, ["found"] = f.Cells.Count, ["counted"] = f.Counted, ["left_at_edge"] = f.LeftAtEdge });
        json["fields"] = fields;
        json["skipped_fields"] = new JsonArray([.. count.SkippedFields.Select(s => (JsonNode)new JsonObject { ["field"] = s.Field, ["reason"] = s.Reason })]);
        json["provenance"] = provenance.Stamp;
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    private static JsonNode? Finite(double v) => double.IsFinite(v) ? Math.Round(v, 3) : null;

    /// <summary>The differential as a table: class, count, %, 95% interval; then M:E and blasts.</summary>
    public static HtmlView Table(this DifferentialCount count, Provenance provenance)
    {
        if (!count.Classified)
            return HtmlView.Table($"Cells found: {count.Counted} counted, {count.LeftAtEdge} left out at the edge, in {count.Fields.Count} fields (detection only: no model given) - {provenance.Stamp}",
                ["field", "pitch µm/px", "how", "found", "counted", "left at edge"],
                count.Fields.Select(f => (IReadOnlyList<object?>)[f.Field, F(f.Scale.PitchUm, "0.0000"), f.Scale.How, f.Cells.Count, f.Counted, f.LeftAtEdge]));
        var rows = count.Classes.Select(c => (IReadOnlyList<object?>)[c.Name, c.Count, Pct(c.Share), $"{Pct(c.Low)}-{Pct(c.High)}"]).ToList();
        rows.AddRange(count.NonStage.Select(c => (IReadOnlyList<object?>)[$"{c.Name} (outside the stages)", c.Count, Pct(c.Share), $"{Pct(c.Low)}-{Pct(c.High)}"]));
        if (count.MyeloidToErythroid is { } me)
            rows.Add([count.RatioLabel, $"{me.Myeloid}:{me.Erythroid}", F(me.Ratio, "0.00"), $"{F(me.Low, "0.00")}-{(double.IsFinite(me.High) ? F(me.High, "0.00") : "∞")}"]);
        string outside = count.NonStage.Count == 0 ? ""
            : $" Stage percentages are of the {count.StageCells} cells called a stage; the {count.NonStage.Sum(c => c.Count)} cells outside the stages are rows of their own, " +
              $"as a share of all {count.NonStage[0].Total} classified cells. {RatioWithInterval.Definition}.";
        string more = count.Widest is { } w && count.CellsForHalfWidth is { } need
            ? $" The widest interval ({w.Name}, ±{Percent.Of(w.HalfWidth)} points) would narrow to ±2.5 points at about {need} cells ({Math.Max(0, need - count.Counted)} more)."
            : "";
        return HtmlView.Table($"Differential count of {count.Counted} cells (target {count.Target}) by {count.Classifier}; exact 95% intervals (Clopper-Pearson, as Rümke's table).{outside}{more} " +
                              $"Review queue: {count.ReviewQueue.Count} cells below {count.ReviewBelow:0.##}. {EdgeRule} - {provenance.Stamp}",
            ["class", "cells", "%", "95% interval %"], rows);
    }

    /// <summary>The differential as a bar chart with the exact 95% intervals as error bars (ScottPlot, 300 dpi).</summary>
    public static RgbImage Chart(this DifferentialCount count, Provenance provenance)
    {
        var plot = PaperCharts.NewPlot();
        var classes = count.Classes;
        var bars = plot.Add.Bars(classes.Select((c, i) => new ScottPlot.Bar
        {
            Position = i, Value = 100 * c.Share, FillColor = PaperCharts.ToColor(PaperCharts.OkabeIto[CellTaxonomy.All[i].Series() == Series.Erythroid ? 1 : 0]),
            Error = 0, LineWidth = 0,
        }).ToList());
        var errors = plot.Add.ErrorBar([.. Enumerable.Range(0, classes.Count).Select(i => (double)i)], [.. classes.Select(c => 100 * c.Share)],
            [.. classes.Select(c => 100 * (c.High - c.Share))]);
        // Exact intervals are not symmetric: the lower whisker goes to the lower bound.
        errors.YErrorNegative = [.. classes.Select(c => 100 * (c.Share - c.Low))];
        errors.Color = PaperCharts.ToColor(PaperCharts.Ink);
        errors.LineWidth = 1.5f;
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, classes.Count).Select(i => (double)i)], [.. classes.Select(c => c.Name.Split(' ')[0])]);
        plot.Axes.Margins(bottom: 0);
        plot.XLabel("class");
        plot.YLabel(count.NonStage.Count == 0 ? "share of counted cells (%)" : "share of the cells called a stage (%)");
        string me = count.MyeloidToErythroid is { } r ? $"M:E {F(r.Ratio, "0.00")} ({F(r.Low, "0.00")}-{(double.IsFinite(r.High) ? F(r.High, "0.00") : "∞")})" : "M:E not defined";
        return PaperCharts.Framed($"Differential count: {count.Counted} cells by {count.Classifier}",
            [$"Bars: share of counted cells; whiskers: exact 95% interval (Clopper-Pearson). {me}; blasts {Pct(count.Blasts?.Share ?? double.NaN)}%.",
             $"Review queue: {count.ReviewQueue.Count} cells below probability {count.ReviewBelow:0.##}. {count.LeftAtEdge} cells cut by a field edge left out.",
             .. count.NonStage.Count == 0 ? Array.Empty<string>()
                : [$"Outside the stages (not in the bars): {string.Join(", ", count.NonStage.Select(c => $"{c.Name.Split(' ')[0]} {c.Count} ({Pct(c.Share)}%)"))} of {count.NonStage[0].Total} classified cells."]],
            PaperCharts.Render(plot, 640, 360), provenance);
    }

    /// <summary>A field (at the project's pitch) with every found cell outlined: counted cells in blue with their
    /// class (a review cell in orange), edge cells dashed grey.</summary>
    public static RgbImage FieldFigure(this DifferentialCount count, DetectedField field, Provenance provenance)
    {
        var img = new RgbImage(field.Resampled.Width, field.Resampled.Height + 60, null);
        img.Fill((255, 255, 255));
        img.Paste(field.Resampled, 0, 0);
        foreach (var c in count.Cells.Where(c => c.Field == field.Field))
        {
            var colour = c.Cell.Edge ? ((byte)120, (byte)120, (byte)120) : c.Review ? PaperCharts.OkabeIto[3] : PaperCharts.OkabeIto[0];
            Ring(img, c.Cell.ResampledX, c.Cell.ResampledY, c.Cell.DiameterPx * field.Resampled.Width / field.Width / 2, colour, dashed: c.Cell.Edge);
            string label = c.Cell.Edge ? "edge" : c.Class is { } k ? $"{k.Code()} {Percent.Of(c.Probability, 0)}%" : "cell";
            // On a white tab, so the label reads over any stain.
            int lx = (int)(c.Cell.ResampledX + 6), ly = (int)(c.Cell.ResampledY - 8);
            img.FillRect(lx - 2, ly, FigureText.Measure(label) + 4, FigureText.LineHeight() + 2, (255, 255, 255));
            FigureText.Draw(img, label, lx, ly, colour);
        }
        FigureText.Draw(img, $"{field.Field}: {field.Counted} counted, {field.LeftAtEdge} at the edge; pitch {field.Scale.PitchUm:0.0000} µm/px ({field.Scale.How}), shown at 0.16 µm/px",
                        6, field.Resampled.Height + 8, PaperCharts.Ink);
        FigureText.Draw(img, provenance.Stamp, 6, field.Resampled.Height + 32, PaperCharts.Muted);
        return img;
    }

    /// <summary>The review queue: each cell below the threshold, least sure first, with its softmax bars.</summary>
    public static RgbImage ReviewFigure(this DifferentialCount count, Provenance provenance, int max = 30)
    {
        var byName = count.Fields.ToDictionary(f => f.Field, StringComparer.Ordinal);
        var queue = count.ReviewQueue.Take(max).ToList();
        const int patch = CellPatch.Size, zoom = 2, barArea = AnalysisFigures.SoftmaxBarWidth, columns = 3;
        int k = count.Outputs.Count, rowH = 17, cardW = patch * zoom + 16 + 48 + barArea + 56, cardH = Math.Max(patch * zoom, k * rowH) + 40, top = 64;
        int rows = Math.Max(1, (queue.Count + columns - 1) / columns);
        var img = new RgbImage(Math.Max(columns * cardW + 20, FigureText.Measure(provenance.Stamp) + 20), top + rows * cardH + 30);
        img.Fill((255, 255, 255));
        FigureText.Draw(img, $"Review queue: {count.ReviewQueue.Count} cells below probability {count.ReviewBelow:0.##}{(count.ReviewQueue.Count > max ? $", the {max} least sure shown" : "")}", 10, 10, PaperCharts.Ink, 2);
        FigureText.Draw(img, "Least sure first. Bars: softmax probability; the predicted class in orange.", 10, 36, PaperCharts.Muted);
        if (queue.Count == 0) FigureText.Draw(img, "No cell to review.", 10, top + 10, PaperCharts.Ink, 2);
        for (int n = 0; n < queue.Count; n++)
        {
            var c = queue[n];
            int x0 = 10 + n % columns * cardW, y0 = top + n / columns * cardH;
            img.Paste(FieldDetection.Patch(byName[c.Field], c.Cell).Resize(patch * zoom, patch * zoom), x0, y0);
            FigureText.Draw(img, $"{c.Field} ({c.Cell.X:0}, {c.Cell.Y:0})", x0, y0 + patch * zoom + 4, PaperCharts.Ink);
            AnalysisFigures.SoftmaxBars(img, x0 + patch * zoom + 16, y0, rowH, [.. count.Outputs.Select(k => k.Code())], c.Probabilities!,
                                        i => count.Outputs[i] == c.Class ? PaperCharts.OkabeIto[3] : null);
        }
        FigureText.Draw(img, provenance.Stamp, 10, img.Height - 22, PaperCharts.Muted);
        return img;
    }

    /// <summary>Rümke-style table: the exact 95% interval of a share observed in 100, 200, 500 and 1,000 cells.</summary>
    public static HtmlView RumkeTable(IReadOnlyList<int>? cells = null, IReadOnlyList<double>? shares = null)
    {
        cells ??= [100, 200, 500, 1000];
        shares ??= [0.01, 0.02, 0.05, 0.10, 0.20, 0.30, 0.50];
        return HtmlView.Table("Exact 95% intervals (Clopper-Pearson) of a class share by the number of cells counted: how far a differential can be read (after Rümke)",
            ["observed %", .. cells.Select(n => $"{n} cells")],
            shares.Select(p => (IReadOnlyList<object?>)[Pct(p), .. cells.Select(n => { var (l, h) = Intervals.ClopperPearson((int)Math.Round(p * n), n); return (object?)$"{Pct(l)}-{Pct(h)}"; })]));
    }

    /// <summary>
    /// Writes the count into <paramref name="folder"/> atomically (built under a temporary name, then renamed):
    /// cells.csv, count.json, report.html (self-contained), differential.png, review.png and fields/*.png.
    /// </summary>
    public static string Write(this DifferentialCount count, string folder, Provenance provenance)
    {
        string full = AtomicFile.WriteFolder(folder, temp =>
        {
            Directory.CreateDirectory(Path.Combine(temp, "fields"));
            AtomicFile.WriteAllText(Path.Combine(temp, "cells.csv"), count.CellsCsv());
            AtomicFile.WriteAllText(Path.Combine(temp, "count.json"), count.CountJson(provenance));
            var html = new StringBuilder("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>MarrowDiff differential count</title></head><body style=\"font:13px sans-serif;max-width:1400px;margin:auto\">");
            html.Append($"<h1>Differential count</h1><p>{HtmlView.Encode(provenance.Stamp)}</p>");
            html.Append(count.Table(provenance).Html);
            if (count.SkippedFields.Count > 0)
                html.Append(HtmlView.Table("Fields that could not be read (named, not counted)", ["field", "reason"], count.SkippedFields.Select(s => (IReadOnlyList<object?>)[s.Field, s.Reason])).Html);
            if (count.Classified)
            {
                var chart = count.Chart(provenance);
                chart.SavePng(Path.Combine(temp, "differential.png"));
                html.Append("<h2>Differential</h2>").Append(Figures.Inline(chart, "differential with exact 95% intervals").Html);
                var review = count.ReviewFigure(provenance);
                review.SavePng(Path.Combine(temp, "review.png"));
                html.Append("<h2>Review queue</h2>").Append(Figures.Inline(review, "review queue").Html);
            }
            html.Append("<h2>Fields</h2>");
            foreach (var f in count.Fields)
            {
                var image = count.FieldFigure(f, provenance);
                image.SavePng(Path.Combine(temp, "fields", Path.GetFileNameWithoutExtension(f.Field) + ".png"));
                html.Append(Figures.Inline(image, f.Field).Html).Append("<br/>");
            }
            html.Append("</body></html>");
            AtomicFile.WriteAllText(Path.Combine(temp, "report.html"), html.ToString());
        });
        return Path.Combine(full, "report.html");
    }

    private static void Ring(RgbImage img, double cx, double cy, double r, (byte, byte, byte) colour, bool dashed)
    {
        int steps = Math.Max(24, (int)(2 * Math.PI * r));
        for (int s = 0; s < steps; s++)
        {
            if (dashed && s % 12 >= 7) continue;
            double a = 2 * Math.PI * s / steps;
            img.FillRect((int)Math.Round(cx + r * Math.Cos(a)) - 1, (int)Math.Round(cy + r * Math.Sin(a)) - 1, 3, 3, colour);
        }
    }
}
