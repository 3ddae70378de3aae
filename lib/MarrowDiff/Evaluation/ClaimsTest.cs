using MarrowDiff.Core;
using MarrowDiff.Preparation;

namespace MarrowDiff.Evaluation;

/// <summary>
/// Table 1 trained at several training seeds on one split: for each seed, each row's answers on the same test cells.
/// Rows are named as saved (OG, AG, OS N, AG+OS N, <see cref="Table1Roles.DualStageName"/>) and addressed by
/// <see cref="Table1Role"/>.
/// </summary>
public sealed class Table1Replicates
{
    /// <param name="task">What the rows were trained on, for captions.</param>
    /// <param name="seeds">Each training seed with its rows by name.</param>
    /// <exception cref="ArgumentException">No seed, seeds with other rows, or rows that do not answer on the same cells
    /// in the same order with the same truth and outputs.</exception>
    public Table1Replicates(string task, IReadOnlyList<(int Seed, IReadOnlyDictionary<string, CellPredictions> Rows)> seeds)
    {
        if (seeds.Count == 0) throw new ArgumentException($"{task}: no training seed", nameof(seeds));
        var names = seeds[0].Rows.Keys.Order(StringComparer.Ordinal).ToList();
        Roles = Table1Roles.Of(names, requireDualStage: false);
        var reference = seeds[0].Rows[Roles[Table1Role.OG]];
        foreach (var (seed, rows) in seeds)
        {
            if (!rows.Keys.Order(StringComparer.Ordinal).SequenceEqual(names))
                throw new ArgumentException($"{task}: training seed {seed} has rows {string.Join(", ", rows.Keys.Order(StringComparer.Ordinal))}, seed {seeds[0].Seed} {string.Join(", ", names)}");
            foreach (var (name, p) in rows)
            {
                if (p.Count != reference.Count || !p.Outputs.SequenceEqual(reference.Outputs))
                    throw new ArgumentException($"{task}: {name} of training seed {seed} answers on {p.Count} cells with {p.Outputs.Count} outputs, not the {reference.Count} cells and {reference.Outputs.Count} outputs of the rest");
                for (int i = 0; i < p.Count; i++)
                    if (p.Cells[i].Cell != reference.Cells[i].Cell || p.Cells[i].Truth != reference.Cells[i].Truth)
                        throw new ArgumentException($"{task}: {name} of training seed {seed}, cell {i + 1}: {p.Cells[i].Cell}, not {reference.Cells[i].Cell}: every seed must answer on the same test cells (one split)");
            }
        }
        if (seeds.Select(s => s.Seed).Distinct().Count() != seeds.Count) throw new ArgumentException($"{task}: a training seed given twice", nameof(seeds));
        Task = task; Seeds = seeds;
    }

    public string Task { get; }
    public IReadOnlyList<(int Seed, IReadOnlyDictionary<string, CellPredictions> Rows)> Seeds { get; }

    /// <summary>Which row plays which role.</summary>
    public IReadOnlyDictionary<Table1Role, string> Roles { get; }

    public int Cells => Seeds[0].Rows[Roles[Table1Role.OG]].Count;

    /// <summary>Each row's training images and SGD steps, by name (the same at every seed); empty when not known.</summary>
    public IReadOnlyDictionary<string, (int Images, long Steps)> Training { get; init; } = new Dictionary<string, (int, long)>();

    /// <summary>The CPU that trained each seed, in seed order; empty when not known.</summary>
    public IReadOnlyList<(int Seed, string Cpu)> Cpus { get; init; } = [];

    /// <summary>Training minutes of each seed's seven models, in seed order; empty when not known.</summary>
    public IReadOnlyList<(int Seed, double Minutes)> Minutes { get; init; } = [];

    /// <summary>A provenance stamp for captions.</summary>
    public string Stamp { get; init; } = "";

    /// <summary>The answers of <paramref name="role"/> at each seed, in seed order.</summary>
    public IReadOnlyList<CellPredictions> Of(Table1Role role) => [.. Seeds.Select(s => s.Rows[Roles[role]])];

    /// <summary>Macro F1 of <paramref name="role"/> at each seed, over all the test cells.</summary>
    public IReadOnlyList<double> MacroF1(Table1Role role) => [.. Of(role).Select(p => p.Metrics.MacroF1)];

    public IReadOnlyList<double> Accuracy(Table1Role role) => [.. Of(role).Select(p => p.Metrics.Accuracy)];
}

/// <summary>How a hypothesis came out, after Holm's correction over the family.</summary>
public enum Verdict
{
    /// <summary>Every one of its claims beyond chance in the paper's direction.</summary>
    Holds,
    /// <summary>At least one of its claims beyond chance against the paper's direction.</summary>
    Fails,
    /// <summary>Neither: the training seeds and test cells here cannot tell.</summary>
    Undecided,
    /// <summary>A row it orders is not in the table (Table 1 without its dual stage).</summary>
    NotTested,
}

/// <summary>One claim (<see cref="Claim"/>) on the replicates.</summary>
/// <param name="MeanDifference">Macro F1 of the better row minus the worse, averaged over the seeds (each seed's pair on all cells).</param>
/// <param name="PerSeed">That difference at each seed, in seed order.</param>
/// <param name="Interval">95% interval of <paramref name="MeanDifference"/> from the two-level bootstrap (seeds, then cells).</param>
/// <param name="PHolds">One-sided bootstrap p that the difference is not above zero.</param>
/// <param name="PReversed">One-sided bootstrap p that it is not below zero.</param>
/// <param name="AccuracyDifference">Secondary: the mean accuracy difference, with its interval from the same resamples.</param>
/// <param name="McNemar">Secondary: McNemar's exact test of each seed's pair, in seed order.</param>
public sealed record ClaimResult(Claim Claim, string Better, string Worse, double MeanDifference, IReadOnlyList<double> PerSeed, (double Low, double High) Interval,
                                 double PHolds, double PReversed, double AccuracyDifference, (double Low, double High) AccuracyInterval, IReadOnlyList<McNemarResult> McNemar);

/// <summary>A hypothesis on the replicates: its claims, its two p-values before and after Holm, and the verdict.</summary>
/// <param name="PHolds">Largest <see cref="ClaimResult.PHolds"/> of its claims (all must hold: an intersection–union test).</param>
/// <param name="PFails">Smallest <see cref="ClaimResult.PReversed"/> times the number of claims (any may fail: Bonferroni within it).</param>
public sealed record HypothesisResult(PaperHypothesis Hypothesis, IReadOnlyList<ClaimResult> Claims, double PHolds, double PFails,
                                      double HolmHolds, double HolmFails, Verdict Verdict);

/// <summary>
/// The paper's hypotheses (<see cref="PaperClaims.All"/>) tested on Table 1 replicates. The primary test of a claim
/// "A above B" is a two-level bootstrap of the seed-paired macro-F1 difference: each resample draws the training seeds
/// with replacement, then the test cells with replacement (the same cells for every seed and both rows, which share
/// them), and averages the seeds' differences on those cells; so its interval carries the spread between training runs
/// as well as that of the test set. With one seed it carries the test set's alone, and the view says so. A hypothesis
/// holds when all its claims hold, fails when one is reversed; Holm's correction runs over the seven, for each side.
/// </summary>
public sealed record ClaimsTest(Table1Replicates Replicates, IReadOnlyList<HypothesisResult> Results, IReadOnlyList<RowSummary> Rows, int Resamples)
{
    public string Task => Replicates.Task;
    public int Seeds => Replicates.Seeds.Count;
    public int Cells => Replicates.Cells;

    public static ClaimsTest Of(Table1Replicates replicates, int seed, int resamples = 2000)
    {
        var roles = replicates.Roles.Keys.Order().ToArray();
        int s = replicates.Seeds.Count, n = replicates.Cells;
        var truth = replicates.Of(Table1Role.OG)[0].Truth;
        int classes = replicates.Of(Table1Role.OG)[0].Outputs.Count;
        var predicted = roles.ToDictionary(r => r, r => replicates.Of(r).Select(p => p.Predicted).ToArray());
        // Every resample scores each role at each seed on one draw of cells; every claim reads the same resamples.
        var f1 = roles.ToDictionary(r => r, _ => new double[resamples, s]);
        var accuracy = roles.ToDictionary(r => r, _ => new double[resamples, s]);
        var seedDraws = new int[resamples, s];
        var rng = Rng.For(seed, Rng.Key("claims-two-level-bootstrap"));
        var cells = new int[n];
        for (int b = 0; b < resamples; b++)
        {
            for (int k = 0; k < s; k++) seedDraws[b, k] = (int)(rng.NextDouble() * s);
            for (int i = 0; i < n; i++) cells[i] = (int)(rng.NextDouble() * n);
            foreach (var r in roles)
                for (int k = 0; k < s; k++)
                    (f1[r][b, k], accuracy[r][b, k]) = Score(truth, predicted[r][k], cells, classes);
        }
        var results = new List<(PaperHypothesis H, List<ClaimResult> Claims, double PHolds, double PFails)>();
        // A hypothesis about a row the replicates lack (a table without its dual stage) is not tested, and not counted in Holm's family.
        var tested = PaperClaims.All.Where(h => h.Claims.All(c => replicates.Roles.ContainsKey(c.Better) && replicates.Roles.ContainsKey(c.Worse))).ToList();
        foreach (var h in tested)
        {
            var claims = h.Claims.Select(c => Compare(c, replicates, f1, accuracy, seedDraws, resamples)).ToList();
            double pHolds = claims.Max(c => c.PHolds);
            double pFails = Math.Min(1, claims.Count * claims.Min(c => c.PReversed));
            results.Add((h, claims, pHolds, pFails));
        }
        var holmHolds = Holm([.. results.Select(r => r.PHolds)]);
        var holmFails = Holm([.. results.Select(r => r.PFails)]);
        var decided = results.Select((r, i) => new HypothesisResult(r.H, r.Claims, r.PHolds, r.PFails, holmHolds[i], holmFails[i],
            holmHolds[i] < PaperClaims.Alpha ? Verdict.Holds : holmFails[i] < PaperClaims.Alpha ? Verdict.Fails : Verdict.Undecided)).ToList();
        var hypotheses = PaperClaims.All.Select(h => decided.FirstOrDefault(d => d.Hypothesis == h)
            ?? new HypothesisResult(h, [], double.NaN, double.NaN, double.NaN, double.NaN, Verdict.NotTested)).ToList();
        var rows = roles.Select(r => RowSummary.Of(r, replicates)).ToList();
        return new ClaimsTest(replicates, hypotheses, rows, resamples);
    }

    private static ClaimResult Compare(Claim c, Table1Replicates replicates, Dictionary<Table1Role, double[,]> f1, Dictionary<Table1Role, double[,]> accuracy, int[,] seedDraws, int resamples)
    {
        var better = replicates.Of(c.Better);
        var worse = replicates.Of(c.Worse);
        int s = better.Count;
        var perSeed = Enumerable.Range(0, s).Select(k => better[k].Metrics.MacroF1 - worse[k].Metrics.MacroF1).ToList();
        double meanAccuracy = Enumerable.Range(0, s).Average(k => better[k].Metrics.Accuracy - worse[k].Metrics.Accuracy);
        var d = new double[resamples];
        var a = new double[resamples];
        for (int b = 0; b < resamples; b++)
        {
            double sum = 0, sumAccuracy = 0;
            for (int k = 0; k < s; k++)
            {
                int drawn = seedDraws[b, k];
                sum += f1[c.Better][b, drawn] - f1[c.Worse][b, drawn];
                sumAccuracy += accuracy[c.Better][b, drawn] - accuracy[c.Worse][b, drawn];
            }
            d[b] = sum / s; a[b] = sumAccuracy / s;
        }
        // One-sided, with the observed resample counted in (never p = 0 from a finite bootstrap).
        double pHolds = (1 + d.Count(x => x <= 0)) / (double)(resamples + 1);
        double pReversed = (1 + d.Count(x => x >= 0)) / (double)(resamples + 1);
        var mcnemar = Enumerable.Range(0, s).Select(k => McNemarResult.Test(worse[k].Correct, better[k].Correct, exact: true)).ToList();
        return new ClaimResult(c, replicates.Roles[c.Better], replicates.Roles[c.Worse], perSeed.Average(), perSeed, Percentiles(d), pHolds, pReversed,
                               meanAccuracy, Percentiles(a), mcnemar);
    }

    private static (double, double) Percentiles(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        int r = sorted.Length;
        return (sorted[(int)Math.Floor(0.025 * (r - 1))], sorted[(int)Math.Ceiling(0.975 * (r - 1))]);
    }

    /// <summary>Macro F1 (over the classes present in the drawn truth, as <see cref="ClassificationMetrics"/>) and accuracy
    /// of one row on the cells <paramref name="draw"/> names.</summary>
    internal static (double MacroF1, double Accuracy) Score(int[] truth, int[] predicted, int[] draw, int classes)
    {
        Span<int> tp = stackalloc int[classes], support = stackalloc int[classes], answered = stackalloc int[classes];
        tp.Clear(); support.Clear(); answered.Clear();
        int correct = 0;
        foreach (int i in draw)
        {
            int t = truth[i], p = predicted[i];
            support[t]++; answered[p]++;
            if (t == p) { tp[t]++; correct++; }
        }
        double sum = 0; int present = 0;
        for (int k = 0; k < classes; k++)
        {
            if (support[k] == 0) continue;
            present++;
            double precision = answered[k] == 0 ? 0 : (double)tp[k] / answered[k], recall = (double)tp[k] / support[k];
            sum += precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        }
        return (sum / present, (double)correct / draw.Length);
    }

    /// <summary>Holm's step-down adjustment: the i-th smallest of m p-values times (m − i + 1), kept monotone, at most 1.</summary>
    public static double[] Holm(IReadOnlyList<double> p)
    {
        int m = p.Count;
        var order = Enumerable.Range(0, m).OrderBy(i => p[i]).ThenBy(i => i).ToArray();
        var adjusted = new double[m];
        double running = 0;
        for (int rank = 0; rank < m; rank++)
        {
            running = Math.Max(running, Math.Min(1, (m - rank) * p[order[rank]]));
            adjusted[order[rank]] = running;
        }
        return adjusted;
    }
}

/// <summary>One row over the training seeds: its macro F1 and accuracy at each, their mean, sd and range.</summary>
public sealed record RowSummary(Table1Role Role, string Name, IReadOnlyList<double> MacroF1, IReadOnlyList<double> Accuracy)
{
    public static RowSummary Of(Table1Role role, Table1Replicates r) => new(role, r.Roles[role], r.MacroF1(role), r.Accuracy(role));

    public double Mean => MacroF1.Average();

    /// <summary>Sample standard deviation over the seeds (0 with one seed: nothing to spread).</summary>
    public double Sd => MacroF1.Count < 2 ? 0 : Math.Sqrt(MacroF1.Sum(x => (x - Mean) * (x - Mean)) / (MacroF1.Count - 1));

    public double Min => MacroF1.Min();
    public double Max => MacroF1.Max();
    public double MeanAccuracy => Accuracy.Average();
}
