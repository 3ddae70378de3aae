namespace MarrowDiff.Evaluation;

/// <summary>One bin of a reliability diagram.</summary>
public sealed record ReliabilityBin(double Low, double High, int Count, double MeanConfidence, double Accuracy);

/// <summary>
/// Calibration of the top-class probability: cells binned by confidence, each bin's accuracy against its mean
/// confidence (a calibrated model lies on the diagonal), and the expected calibration error, ECE = Σ (n_b / N) ·
/// |accuracy_b − confidence_b|. With a few dozen test cells most bins are nearly empty: the counts are shown so the
/// diagram is not over-read.
/// </summary>
public sealed record Calibration(string Model, IReadOnlyList<ReliabilityBin> Bins, double ExpectedCalibrationError, int Cells)
{
    public static Calibration Of(Predictions p, int bins = 10)
    {
        var (result, ece) = Bin([.. Enumerable.Range(0, p.Count).Select(i => ((double)p.Confidence(i), p.Correct(i)))], bins);
        return new Calibration(p.Model, result, ece, p.Count);
    }

    /// <summary>The expected calibration error of answers given as (confidence of the answer, right or not).</summary>
    public static double Ece(IReadOnlyList<(double Confidence, bool Correct)> answers, int bins = 10) => Bin(answers, bins).Ece;

    private static (List<ReliabilityBin> Bins, double Ece) Bin(IReadOnlyList<(double Confidence, bool Correct)> answers, int bins)
    {
        if (bins < 1) throw new ArgumentOutOfRangeException(nameof(bins), "at least one bin");
        var result = new List<ReliabilityBin>();
        double ece = 0;
        for (int b = 0; b < bins; b++)
        {
            double low = (double)b / bins, high = (double)(b + 1) / bins;
            // Bins are (low, high], the first [0, high]: a confidence of exactly 1 falls in the last bin.
            var members = answers.Where(a => (a.Confidence > low || b == 0) && a.Confidence <= high).ToList();
            if (members.Count == 0) { result.Add(new ReliabilityBin(low, high, 0, double.NaN, double.NaN)); continue; }
            double confidence = members.Average(a => a.Confidence), accuracy = members.Count(a => a.Correct) / (double)members.Count;
            ece += members.Count / (double)answers.Count * Math.Abs(accuracy - confidence);
            result.Add(new ReliabilityBin(low, high, members.Count, confidence, accuracy));
        }
        return (result, ece);
    }
}
