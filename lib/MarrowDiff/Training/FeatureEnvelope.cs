using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MarrowDiff.Core;
using MarrowDiff.Data;

namespace MarrowDiff.Training;

/// <summary>
/// Where a model's training cells lie in its embedding (<see cref="Model.CellNetwork.Embedding"/>, the input of its
/// last layer): the mean of each class and one covariance shared by all. A cell's distance is its squared Mahalanobis
/// distance to the nearest class mean (Lee et al., NeurIPS 2018). A cell farther than all but
/// <c>1 − Quantile</c> of the cells it was calibrated on is unlike any training cell, whatever its softmax says, and
/// goes to review: debris, a cut cell, a smear artefact or a cell type the model never saw, which pass every rule on
/// pixels (<c>Counting.CellInputCheck</c>) and still get a confident class.
/// </summary>
public sealed class FeatureEnvelope
{
    public const string FileName = "feature-envelope.json";

    /// <summary>The share of calibration cells inside the envelope: 1 in 100 cells like the training cells goes to review
    /// for this reason alone, what a review queue can carry.</summary>
    public const double DefaultQuantile = 0.99;

    /// <summary>How far the shared covariance is pulled towards its mean variance. Why: a few thousand cells in 512
    /// dimensions give a covariance of full rank but with tiny eigenvalues, whose inverse turns noise along them into
    /// huge distances; a tenth of the way to a sphere keeps every direction's variance at least a tenth of the mean.</summary>
    public const double Shrinkage = 0.1;

    private readonly float[] _whitening; // d × d, lower triangular: W with W Σ Wᵀ = I
    private readonly double[][] _whitenedMeans;

    private FeatureEnvelope(IReadOnlyList<CellClass> classes, int dimension, float[][] means, float[] whitening, double threshold, double quantile, string calibratedOn, int calibrationCells)
    {
        Classes = classes; Dimension = dimension; Means = means; _whitening = whitening;
        Threshold = threshold; Quantile = quantile; CalibratedOn = calibratedOn; CalibrationCells = calibrationCells;
        _whitenedMeans = [.. means.Select(m => Whiten(m.Select(v => (double)v).ToArray()))];
    }

    /// <summary>The classes whose training cells drew the envelope (those with at least one), in output order.</summary>
    public IReadOnlyList<CellClass> Classes { get; }

    public int Dimension { get; }

    public IReadOnlyList<float[]> Means { get; }

    /// <summary>The distance beyond which a cell is unlike the training cells.</summary>
    public double Threshold { get; }

    public double Quantile { get; }

    /// <summary>Which cells set <see cref="Threshold"/>: cells the model did not train on (its validation fold) when it
    /// had any; its own training cells otherwise, which lie closer than new cells, so more new cells are flagged.</summary>
    public string CalibratedOn { get; }

    public int CalibrationCells { get; }

    /// <summary>
    /// The envelope of <paramref name="training"/> (embeddings, one row a cell, with its output position in
    /// <paramref name="labels"/>), its threshold the <paramref name="quantile"/> of the distances of
    /// <paramref name="calibration"/> (nearest rank). Computed in double, the whitening kept in float as saved, so a
    /// loaded envelope gives the calibration cells the distances that set its threshold.
    /// </summary>
    public static FeatureEnvelope Fit(float[,] training, IReadOnlyList<int> labels, IReadOnlyList<CellClass> outputs, float[,] calibration, string calibratedOn,
                                      double quantile = DefaultQuantile)
    {
        int n = training.GetLength(0), d = training.GetLength(1);
        if (labels.Count != n) throw new ArgumentException($"{labels.Count} labels for {n} training rows", nameof(labels));
        if (calibration.GetLength(1) != d) throw new ArgumentException($"calibration rows have {calibration.GetLength(1)} numbers, training rows {d}", nameof(calibration));
        if (calibration.GetLength(0) == 0) throw new ArgumentException("no calibration cell to set the threshold", nameof(calibration));
        if (quantile is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(quantile), $"{quantile}: a share between 0 and 1");
        var present = Enumerable.Range(0, outputs.Count).Where(k => labels.Contains(k)).ToList();
        if (present.Count == 0 || n <= present.Count) throw new ArgumentException($"{n} training rows cannot estimate a covariance over {present.Count} classes", nameof(training));

        var sums = present.ToDictionary(k => k, _ => new double[d]);
        var counts = present.ToDictionary(k => k, _ => 0);
        for (int i = 0; i < n; i++)
        {
            var s = sums[labels[i]];
            for (int j = 0; j < d; j++) s[j] += training[i, j];
            counts[labels[i]]++;
        }
        var means = present.ToDictionary(k => k, k => sums[k].Select(v => v / counts[k]).ToArray());

        // The covariance of every cell around its own class's mean, one for all classes.
        var cov = new double[d * d];
        var centred = new double[d];
        for (int i = 0; i < n; i++)
        {
            var m = means[labels[i]];
            for (int j = 0; j < d; j++) centred[j] = training[i, j] - m[j];
            for (int a = 0; a < d; a++)
            {
                double ca = centred[a];
                if (ca == 0) continue;
                int row = a * d;
                for (int b = 0; b <= a; b++) cov[row + b] += ca * centred[b];
            }
        }
        double trace = 0;
        for (int a = 0; a < d; a++) trace += cov[a * d + a] / (n - present.Count);
        double sphere = Math.Max(trace / d, 1e-12);
        for (int a = 0; a < d; a++)
            for (int b = 0; b <= a; b++)
            {
                double v = (1 - Shrinkage) * cov[a * d + b] / (n - present.Count) + (a == b ? Shrinkage * sphere : 0);
                cov[a * d + b] = v; cov[b * d + a] = v;
            }

        var whitening = InverseCholesky(cov, d);
        var classMeans = present.Select(k => means[k].Select(v => (float)v).ToArray()).ToArray();
        var provisional = new FeatureEnvelope([.. present.Select(k => outputs[k])], d, classMeans, whitening, double.PositiveInfinity, quantile, calibratedOn, calibration.GetLength(0));
        var distances = provisional.Distances(calibration);
        Array.Sort(distances);
        double threshold = distances[Math.Clamp((int)Math.Ceiling(quantile * distances.Length) - 1, 0, distances.Length - 1)];
        return new FeatureEnvelope(provisional.Classes, d, classMeans, whitening, threshold, quantile, calibratedOn, distances.Length);
    }

    /// <summary>Squared Mahalanobis distance of row <paramref name="row"/> of <paramref name="embeddings"/> to the nearest class mean.</summary>
    public double Distance(float[,] embeddings, int row)
    {
        if (embeddings.GetLength(1) != Dimension) throw new ArgumentException($"rows of {embeddings.GetLength(1)} numbers; the envelope has {Dimension}", nameof(embeddings));
        var x = new double[Dimension];
        for (int j = 0; j < Dimension; j++) x[j] = embeddings[row, j];
        var z = Whiten(x);
        double best = double.PositiveInfinity;
        foreach (var m in _whitenedMeans)
        {
            double s = 0;
            for (int j = 0; j < Dimension; j++) { double e = z[j] - m[j]; s += e * e; }
            best = Math.Min(best, s);
        }
        return best;
    }

    public double[] Distances(float[,] embeddings) => [.. Enumerable.Range(0, embeddings.GetLength(0)).Select(i => Distance(embeddings, i))];

    public bool IsOutside(double distance) => distance > Threshold;

    /// <summary>The reason a review list gives for a cell outside the envelope.</summary>
    public string Reason(double distance) =>
        $"unlike the training cells: distance {distance.ToString("0.#", CultureInfo.InvariantCulture)} to the nearest class, beyond {Threshold.ToString("0.#", CultureInfo.InvariantCulture)} " +
        $"(percentile {Percent.Of(Quantile, 0)} of the {CalibrationCells} {CalibratedOn})";

    // W·x, W lower triangular.
    private double[] Whiten(double[] x)
    {
        int d = Dimension;
        var z = new double[d];
        for (int a = 0; a < d; a++)
        {
            double s = 0;
            int row = a * d;
            for (int b = 0; b <= a; b++) s += _whitening[row + b] * x[b];
            z[a] = s;
        }
        return z;
    }

    // L⁻¹ of the Cholesky factor L of a symmetric positive definite matrix (row-major), rounded to float as saved.
    private static float[] InverseCholesky(double[] a, int d)
    {
        var l = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = a[i * d + j];
                for (int k = 0; k < j; k++) s -= l[i * d + k] * l[j * d + k];
                if (i == j)
                {
                    if (s <= 0) throw new InvalidOperationException($"the covariance is not positive definite at dimension {i}");
                    l[i * d + i] = Math.Sqrt(s);
                }
                else l[i * d + j] = s / l[j * d + j];
            }
        var w = new double[d * d];
        for (int c = 0; c < d; c++)
        {
            // Column c of L⁻¹: forward substitution of L w = e_c.
            for (int i = c; i < d; i++)
            {
                double s = i == c ? 1 : 0;
                for (int k = c; k < i; k++) s -= l[i * d + k] * w[k * d + c];
                w[i * d + c] = s / l[i * d + i];
            }
        }
        return [.. w.Select(v => (float)v)];
    }

    /// <summary>Writes <see cref="FileName"/> into a model's folder, atomically.</summary>
    public void Save(string folder)
    {
        var bytes = new byte[_whitening.Length * sizeof(float)];
        Buffer.BlockCopy(_whitening, 0, bytes, 0, bytes.Length);
        var json = new JsonObject
        {
            ["what"] = "where the model's training cells lie in its embedding: class means and the whitening of one shared covariance (squared Mahalanobis distance to the nearest class mean)",
            ["classes"] = new JsonArray([.. Classes.Select(k => (JsonNode)k.Code())]),
            ["dimension"] = Dimension,
            ["shrinkage"] = Shrinkage,
            ["quantile"] = Quantile,
            ["threshold"] = Threshold,
            ["calibrated_on"] = CalibratedOn,
            ["calibration_cells"] = CalibrationCells,
            ["means"] = new JsonArray([.. Means.Select(m => (JsonNode)new JsonArray([.. m.Select(v => (JsonNode)v)]))]),
            ["whitening_float32_le_base64"] = Convert.ToBase64String(bytes),
        };
        AtomicFile.WriteAllText(Path.Combine(folder, FileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The envelope saved in a model's folder, or null when it has none (a model from before, or never fitted).</summary>
    public static FeatureEnvelope? TryLoad(string? folder)
    {
        if (folder is null) return null;
        string file = Path.Combine(folder, FileName);
        if (!File.Exists(file)) return null;
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
            int d = json["dimension"]!.GetValue<int>();
            var classes = json["classes"]!.AsArray().Select(c => CellTaxonomy.ParseCode(c!.GetValue<string>())).ToList();
            var means = json["means"]!.AsArray().Select(m => m!.AsArray().Select(v => v!.GetValue<float>()).ToArray()).ToArray();
            var bytes = Convert.FromBase64String(json["whitening_float32_le_base64"]!.GetValue<string>());
            if (bytes.Length != d * d * sizeof(float) || means.Length != classes.Count || means.Any(m => m.Length != d))
                throw new InvalidDataException($"sizes disagree with dimension {d}");
            var whitening = new float[d * d];
            Buffer.BlockCopy(bytes, 0, whitening, 0, bytes.Length);
            return new FeatureEnvelope(classes, d, means, whitening, json["threshold"]!.GetValue<double>(), json["quantile"]!.GetValue<double>(),
                                       json["calibrated_on"]!.GetValue<string>(), json["calibration_cells"]!.GetValue<int>());
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NullReferenceException or KeyNotFoundException or ArgumentException)
        {
            throw new InvalidDataException($"{file}: not a feature envelope this version reads ({e.Message})", e);
        }
    }
}
