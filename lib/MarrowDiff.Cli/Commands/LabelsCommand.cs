using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow labels</c>: the label ceiling at the band/segmented boundary, from a second annotation.</summary>
internal static class LabelsCommand
{
    public static Command Create()
    {
        var annotation = new Option<string>("--annotation")
        {
            Description = "WBCAtt's nucleus shapes of PBC's band and segmented images (CSV with path, nucleus_shape; the development folder's wbcatt-pbc-neutrophils.csv)",
            Required = true, HelpName = "CSV",
        };
        var predictions = new Option<string[]>("--predictions")
        {
            Description = "a classifier's per-cell answers (predictions.csv of evaluate, or a real Table 1 model's CSV): its band/segmented cells split by whether the two annotations agree; repeatable",
            AllowMultipleArgumentsPerToken = true, HelpName = "CSV",
        };
        var outFile = new Option<string?>("--out") { Description = "also write the numbers as JSON here", HelpName = "FILE" };
        var command = new Command("labels",
            "The label ceiling at the band/segmented boundary: PBC's labels (the file-name prefix, BNE or SNE) against a second team's reading of the same " +
            "images (WBCAtt's nucleus shape: unsegmented-band reads as band, segmented-bi/multilobed as segmented, other shapes left out and counted): " +
            "their agreement and Cohen's kappa; and, for each --predictions, how the classifier answers where the two agree and where they do not.")
        {
            annotation, predictions, outFile,
        };
        command.SetAction(r =>
        {
            string file = r.GetValue(annotation)!;
            if (!File.Exists(file)) throw new FileNotFoundException($"--annotation {file}: no such file", file);
            var second = SecondAnnotation.Read(file);
            var rows = Csv.Parse(File.ReadAllText(file), file);
            int path = Array.IndexOf(rows[0], "path");
            var labelled = rows.Skip(1).Where(x => x.Length > path && x[path].Length > 0)
                .Select(x => (x[path], PublicLayout.Pbc.LabelOf(Path.GetFileName(x[path])).Class ?? throw new InvalidDataException($"{file}: {x[path]} is not a PBC stage")))
                .ToList();
            var agreement = LabelAgreement.Of(labelled, second);
            string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
            Console.WriteLine($"{agreement.Cells} images of PBC's bands and segmented read by both ({agreement.LeftOut} left out: a shape that reads as neither)");
            Console.WriteLine($"  PBC band:      second annotation band {agreement.Table[0, 0]}, segmented {agreement.Table[0, 1]}");
            Console.WriteLine($"  PBC segmented: second annotation band {agreement.Table[1, 0]}, segmented {agreement.Table[1, 1]}");
            Console.WriteLine($"  agreement {Percent.Of(agreement.Agreement)}%, Cohen's kappa {F(agreement.Kappa)}");
            var answers = new List<AnswersByAgreement>();
            foreach (string p in r.GetValue(predictions) ?? [])
            {
                var a = AnswersByAgreement.Of(CellPredictions.Load(p), second);
                answers.Add(a);
                Console.WriteLine($"{p}: {a.Agreed} band/segmented test cells the two read alike, {Percent.Of(a.RightWhereAgreed)}% answered so; " +
                                  $"{a.Disputed} they read differently, {Percent.Of(a.WithPbcWhereDisputed)}% answered as PBC, {Percent.Of(a.WithSecondWhereDisputed)}% as the second team " +
                                  $"({a.LeftOut} without a reading)");
            }
            if (r.GetValue(outFile) is { } json)
                AtomicFile.WriteAllText(json, JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["annotation"] = Checkout.Relative(file), ["cells"] = agreement.Cells, ["left_out"] = agreement.LeftOut,
                    ["table_pbc_rows_second_columns_band_segmented"] = new[] { new[] { agreement.Table[0, 0], agreement.Table[0, 1] }, new[] { agreement.Table[1, 0], agreement.Table[1, 1] } },
                    ["agreement"] = agreement.Agreement, ["kappa"] = agreement.Kappa,
                    ["predictions"] = answers.Select((a, i) => new Dictionary<string, object>
                    {
                        ["file"] = Checkout.Relative(r.GetValue(predictions)![i]), ["agreed"] = a.Agreed, ["right_where_agreed"] = a.RightWhereAgreed,
                        ["disputed"] = a.Disputed, ["with_pbc_where_disputed"] = a.WithPbcWhereDisputed, ["with_second_where_disputed"] = a.WithSecondWhereDisputed,
                    }).ToList(),
                }, new JsonSerializerOptions { WriteIndented = true }) + "\n");
            return 0;
        });
        return command;
    }
}
