using System.Text.RegularExpressions;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Preparation;
using MarrowDiff.Reports;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Tests.Evaluation;

/// <summary>The paper's claims H1–H7: their directions pinned to the paper's own numbers and words, rows by role, and the
/// two-level bootstrap with Holm's correction that tests them over training seeds.</summary>
public class PaperClaimsTests
{
    private static readonly CellClass[] Five = PairedTable1Tests.Five;

    private static CellPredictions Model(string name, Func<int, bool> right, int cells = 200) => PairedTable1Tests.Model(name, right, cells, oneSource: true);

    /// <summary>A seed's seven rows; <paramref name="wrongEvery"/> gives each row's every k-th cell wrong (shifted by the seed).</summary>
    private static (int, IReadOnlyDictionary<string, CellPredictions>) Seed(int seed, IReadOnlyDictionary<string, int> wrongEvery) =>
        (seed, wrongEvery.ToDictionary(x => x.Key, x => Model(x.Key, i => (i + seed) % x.Value != 0)));

    private static readonly Dictionary<string, int> PaperLike = new()
    {
        // every k-th cell wrong: OG 50%, AG 75%, OS40 67%, OS80 90%, AG+OS40 80%, AG+OS80 95%, dual 96%
        ["OG"] = 2, ["AG"] = 4, ["OS40"] = 3, ["OS80"] = 10, ["AG+OS40"] = 5, ["AG+OS80"] = 20, ["dual-stage"] = 25,
    };

    [Fact]
    public void EveryClaim_PointsTheWayThePapersOwnAccuraciesDo()
    {
        Assert.Equal(["H1", "H2", "H3", "H4", "H5", "H6", "H7"], PaperClaims.All.Select(h => h.Id));
        foreach (var h in PaperClaims.All)
        {
            Assert.NotEmpty(h.Claims);
            foreach (var c in h.Claims)
                Assert.True(PaperClaims.PaperAccuracy[c.Better] > PaperClaims.PaperAccuracy[c.Worse], $"{h.Id}: {c} against the paper's {PaperClaims.PaperAccuracy[c.Better]} and {PaperClaims.PaperAccuracy[c.Worse]}");
        }
        // The claims the issue names, by role: H2 is OS-high above AG (what fails on real cells), H3 OS-high above AG+OS-low.
        Assert.Equal([new Claim(Table1Role.OSHigh, Table1Role.AG)], PaperClaims.All[1].Claims);
        Assert.Equal([new Claim(Table1Role.OSHigh, Table1Role.AGOSLow)], PaperClaims.All[2].Claims);
        Assert.Equal(5, PaperClaims.All[0].Claims.Count(c => c.Worse == Table1Role.OG));
        Assert.Equal(5, PaperClaims.All[5].Claims.Count(c => c.Better == Table1Role.AGOSHigh));
        Assert.Equal([new Claim(Table1Role.DualStage, Table1Role.AGOSHigh)], PaperClaims.All[6].Claims);
    }

    [Trait(Workbook.SharedVariable, "reads")]
    [SkippableFact]
    public void EveryQuote_IsThePapersOwnWords()
    {
        string paper = Path.Combine(Workbook.SharedRoot, "paper", "choi2017-plos-one.txt");
        Skip.IfNot(File.Exists(paper), $"the paper's text is not at {paper}");
        string text = Regex.Replace(File.ReadAllText(paper), @"\s+", " ");
        foreach (var h in PaperClaims.All) Assert.True(text.Contains(h.Quote, StringComparison.Ordinal), $"{h.Id}'s quote is not in the paper: {h.Quote}");
    }

    [Fact]
    public void Roles_AreReadFromTheNames_NeverFromPositions()
    {
        var roles = Table1Roles.Of(["AG+OS80", "OS40", "dual-stage", "OG", "AG+OS40", "AG", "OS80"]);
        Assert.Equal("OS40", roles[Table1Role.OSLow]);
        Assert.Equal("AG+OS80", roles[Table1Role.AGOSHigh]);
        Assert.Equal("dual-stage", roles[Table1Role.DualStage]);
        Assert.Contains("no row plays AG", Assert.Throws<ArgumentException>(() => Table1Roles.Of(["OG", "OS40", "OS80", "AG+OS40", "AG+OS80", "dual-stage"])).Message);
        Assert.Contains("two oversampling levels", Assert.Throws<ArgumentException>(() => Table1Roles.Of(["OG", "AG", "OS40", "OS80", "OS160", "AG+OS40", "AG+OS80", "dual-stage"])).Message);
        Assert.Contains("both", Assert.Throws<ArgumentException>(() => Table1Roles.Of(["OG", "OG", "AG", "OS40", "OS80", "AG+OS40", "AG+OS80", "dual-stage"])).Message);
    }

    [Fact]
    public void Holm_StepsDown_AndStaysMonotone()
    {
        Assert.Equal([0.03, 0.06, 0.06, 0.02], ClaimsTest.Holm([0.01, 0.04, 0.03, 0.005]).Select(p => Math.Round(p, 12)));
        Assert.Equal([1.0, 1.0], ClaimsTest.Holm([0.6, 0.9]));
    }

    [Fact]
    public void TheBootstrapsScore_IsClassificationMetricsMacroF1()
    {
        var p = Model("x", i => i % 3 != 0, 50);
        var draw = Enumerable.Range(0, 50).Select(i => (i * 7) % 50 / 2).ToArray(); // repeats, and leaves cells out
        var (f1, accuracy) = ClaimsTest.Score(p.Truth, p.Predicted, draw, 5);
        var reference = ClassificationMetrics.From(draw.Select(i => p.Truth[i]).ToList(), draw.Select(i => p.Predicted[i]).ToList(), Five.Select(k => k.Label()).ToList());
        Assert.Equal(reference.MacroF1, f1, 12);
        Assert.Equal(reference.Accuracy, accuracy, 12);
    }

    [Fact]
    public void ClearGaps_Decide_AndTheSameInputGivesTheSameAnswer()
    {
        var replicates = new Table1Replicates("t", [Seed(1, PaperLike), Seed(2, PaperLike), Seed(3, PaperLike)]);
        var t = ClaimsTest.Of(replicates, seed: 5);
        Assert.Equal(3, t.Seeds);
        var verdict = t.Results.ToDictionary(h => h.Hypothesis.Id, h => h.Verdict);
        Assert.Equal(Verdict.Holds, verdict["H1"]); // OG 50% under every other row
        Assert.Equal(Verdict.Holds, verdict["H4"]); // AG+OS above OS at both N
        Assert.Equal(Verdict.Holds, verdict["H2"]); // OS80 90% above AG 75%
        Assert.All(t.Results, h => Assert.True(h.HolmHolds >= h.PHolds && h.HolmFails >= h.PFails));
        Assert.Equal(t.Results.Select(h => (h.PHolds, h.Verdict)), ClaimsTest.Of(replicates, seed: 5).Results.Select(h => (h.PHolds, h.Verdict)));
        // Reversed rows: the same hypothesis fails.
        var reversed = new Dictionary<string, int>(PaperLike) { ["OS80"] = 2, ["OG"] = 10 };
        var r = ClaimsTest.Of(new Table1Replicates("t", [Seed(1, reversed), Seed(2, reversed), Seed(3, reversed)]), seed: 5);
        Assert.Equal(Verdict.Fails, r.Results.Single(h => h.Hypothesis.Id == "H2").Verdict);
        Assert.Equal(Verdict.Fails, r.Results.Single(h => h.Hypothesis.Id == "H1").Verdict);
        Assert.Contains("H2, oversampling beats rotation augmentation: OS-high above AG: fails (OS80 minus AG", r.Sentences()[1]);
    }

    [Fact]
    public void SeedsThatDisagree_WidenTheInterval_BeyondWhatTheTestCellsAloneGive()
    {
        // At seed 1 OS80 is far above AG, at seed 2 as far below: each seed alone is beyond chance, the two together are not.
        var up = new Dictionary<string, int>(PaperLike) { ["OS80"] = 20, ["AG"] = 3 };
        var down = new Dictionary<string, int>(PaperLike) { ["OS80"] = 3, ["AG"] = 20 };
        var alone = ClaimsTest.Of(new Table1Replicates("t", [Seed(1, up)]), seed: 5);
        var both = ClaimsTest.Of(new Table1Replicates("t", [Seed(1, up), Seed(2, down)]), seed: 5);
        var a = alone.Results[1].Claims[0];
        var b = both.Results[1].Claims[0];
        Assert.True(a.Interval.Low > 0, $"one seed: {a.Interval}");
        Assert.True(b.Interval.Low < 0 && b.Interval.High > 0, $"two seeds that disagree: {b.Interval}");
        Assert.True(b.Interval.High - b.Interval.Low > 2 * (a.Interval.High - a.Interval.Low));
        Assert.Equal(Verdict.Undecided, both.Results[1].Verdict);
        // An undecided verdict gives both sides' p, so a claim close to failing does not hide behind its p of holding.
        Assert.Contains($"Holm-adjusted p {Percent.PValue(both.Results[1].HolmHolds)} (test that it holds), {Percent.PValue(both.Results[1].HolmFails)} (test that it fails)", both.Sentences()[1]);
        Assert.Equal(2, b.PerSeed.Count);
        Assert.Contains("anecdote", alone.Method());
        Assert.DoesNotContain("anecdote", both.Method());
    }

    [Fact]
    public void ATableWithoutItsDualStage_LeavesH7Untested_AndHolmCountsSix()
    {
        var six = PaperLike.Where(x => x.Key != "dual-stage").ToDictionary(x => x.Key, x => x.Value);
        var t = ClaimsTest.Of(new Table1Replicates("t", [Seed(1, six)]), seed: 5);
        Assert.Equal(Verdict.NotTested, t.Results[6].Verdict);
        Assert.Empty(t.Results[6].Claims);
        var tested = t.Results.Take(6).ToList();
        Assert.Equal(ClaimsTest.Holm([.. tested.Select(h => h.PHolds)]), tested.Select(h => h.HolmHolds));
        Assert.DoesNotContain("H7", t.Csv());
        Assert.Contains("H7, the dual stage beats its own global model (AG+OS-high): not tested here", t.Sentences()[6]);
    }

    [Fact]
    public void Replicates_RefuseSeedsOnOtherCellsOrRows()
    {
        var other = PaperLike.ToDictionary(x => x.Key, x => Model(x.Key, i => i % x.Value != 0, cells: 150));
        Assert.Contains("150 cells", Assert.Throws<ArgumentException>(() => new Table1Replicates("t", [Seed(1, PaperLike), (2, other)])).Message);
        var shuffled = PaperLike.ToDictionary(x => x.Key, x => new CellPredictions(x.Key, Five, [.. Model(x.Key, i => i % x.Value != 0).Cells.Reverse()]));
        Assert.Contains("same test cells", Assert.Throws<ArgumentException>(() => new Table1Replicates("t", [Seed(1, PaperLike), (2, shuffled)])).Message);
        var fewer = PaperLike.Where(x => x.Key != "AG").ToDictionary(x => x.Key, x => x.Value);
        Assert.Throws<ArgumentException>(() => new Table1Replicates("t", [Seed(1, PaperLike), Seed(2, fewer)]));
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => new Table1Replicates("t", [Seed(1, PaperLike), Seed(1, PaperLike)])).Message);
    }

    [Fact]
    public void AFolderOfSeeds_RebuildsTheClaims_AndTheViewsWithoutAModel()
    {
        string dir = Directory.CreateTempSubdirectory("marrow-claims-").FullName;
        try
        {
            PairedTable1Tests.SaveSeedFolder(RealTable1Study.SeedFolder(dir, 2017));
            PairedTable1Tests.SaveSeedFolder(RealTable1Study.SeedFolder(dir, 2018), shift: 1);
            Directory.CreateDirectory(RealTable1Study.SeedFolder(dir, 2019)); // cut short: no models.csv, so not a seed
            Assert.Equal([2017, 2018], RealTable1Study.Seeds(dir));
            var claims = RealTable1Study.Claims(dir, "t", 2017);
            Assert.Equal(2, claims.Seeds);
            Assert.Equal((800, 200L), claims.Replicates.Training["AG"]);
            var files = claims.Save(RealTable1Study.Load(RealTable1Study.SeedFolder(dir, 2017), "t", 2017), Path.Combine(dir, "table1-real-t"));
            Assert.All(files, f => Assert.True(new FileInfo(f).Length > 0, f));
            string md = File.ReadAllText(Path.Combine(dir, "table1-real-t.md"));
            Assert.Contains("| H4 | augmentation helps at equal oversampling", md);
            Assert.Contains("One training run in full: training seed 2017", md);
            string csv = File.ReadAllText(Path.Combine(dir, "table1-real-t-claims.csv"));
            Assert.Equal("hypothesis,verdict,p_holds,holm_holds,p_fails,holm_fails,claim,better,worse,macro_f1_difference,low,high,per_seed,accuracy_difference", csv.Split('\n')[1]);
            Assert.StartsWith("H1,", csv.Split('\n')[2]);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>The committed real Table 1s and their claims are what their committed predictions give, to the byte, with
    /// no model and no image (what <c>marrow real-table1 --from-predictions</c> writes): a new seed's folder committed
    /// without the tables rebuilt, or a hand-edited number, fails here.</summary>
    [Theory]
    [InlineData(RealTable1Task.Pbc, "")]
    [InlineData(RealTable1Task.All, "")]
    [InlineData(RealTable1Task.Pbc, "-steps4000")] // the equal-training control
    public void TheCommittedTables_AreRebuiltFromTheCommittedPredictions_ToTheByte(RealTable1Task task, string run)
    {
        string committed = RealTable1Study.BasePath(task) + run;
        var claims = RealTable1Study.Claims(committed + "-predictions", RealTable1Study.Name(task), 2017);
        var seeds = claims.Replicates.Seeds.Select(x => x.Seed).ToList();
        Assert.Equal(RealTable1Study.Seeds(committed + "-predictions"), seeds);
        string dir = Directory.CreateTempSubdirectory("marrow-committed-claims-").FullName;
        try
        {
            string basePath = Path.Combine(dir, Path.GetFileName(committed));
            claims.Save(RealTable1Study.Load(RealTable1Study.SeedFolder(committed + "-predictions", seeds.Contains(2017) ? 2017 : seeds[0]), RealTable1Study.Name(task), 2017), basePath);
            foreach (string suffix in new[] { ".md", ".csv", "-claims.csv" })
                Assert.True(File.ReadAllText(committed + suffix) == File.ReadAllText(basePath + suffix),
                            $"{Path.GetFileName(committed)}{suffix} is not what its {seeds.Count} committed seeds give: run marrow real-table1 --from-predictions --out figures/{Path.GetFileName(committed)}");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
