using System.Globalization;
using MarrowDiff.Core;
using MarrowDiff.Counting;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Experiments;

namespace MarrowDiff.Workbooks;

/// <summary>
/// Notebook 08's known-truth check: the differential count run on a phantom the model never saw (its own seed), so
/// that every nucleated cell's centre, diameter and class are known. Detection is scored against the centres (a find
/// within half the cell's diameter is a hit, one to one), the counted differential against the true one class by class.
/// </summary>
public static class PhantomCountStudy
{
    /// <summary>Renders (or reuses) the phantom of <paramref name="profile"/>'s size and seed, counts its fields with
    /// the pitch estimated from red cells (as for real fields; the truth is 0.16 µm/px), and scores the count.</summary>
    public static PhantomCountCheck Run(ExperimentProfile profile, PatchClassifier? classifier, string modelProfile, int modelSeed, IProgress<WorkProgress>? progress = null)
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
        return new PhantomCountCheck(root, count, timing, detection, truthRows, Provenance.For(modelProfile, root, modelSeed));
    }
}

/// <summary>
/// Notebook 08's real-field check: white-cell finding on fields annotated with boxes (TXL-PBC, peripheral blood),
/// scored per source (the sources differ in size and magnification). A found centre inside a box matches it, one
/// to one. Only detection is scored: the boxes say "white cell", not a stage.
/// </summary>
public static class BoxedFieldsStudy
{
    /// <summary>Finds the white cells of <c>root/images/split</c> and scores them against <c>root/labels/split</c>
    /// (YOLO, class 0 = white cell). An absent folder gives a study whose views say how to get the data.</summary>
    public static BoxedFieldsCheck Run(string root, string split = "val", IProgress<WorkProgress>? progress = null)
    {
        string images = Path.Combine(root, "images", split), labels = Path.Combine(root, "labels", split);
        if (!Directory.Exists(images)) return new BoxedFieldsCheck(root, split, [], null);
        var (count, timing) = FieldCount.Run([images], null, null, progress: progress);
        var scored = count.Fields.Select(f =>
        {
            var boxes = YoloLabels.Read(Path.Combine(labels, Path.ChangeExtension(f.Field, ".txt")), f.Width, f.Height);
            return (f, boxes, DetectionMatching.AgainstBoxes(f.Cells.Select(c => (c.X, c.Y)).ToList(), boxes));
        }).ToList();
        return new BoxedFieldsCheck(root, split, scored, timing);
    }
}
