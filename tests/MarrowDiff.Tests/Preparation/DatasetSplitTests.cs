using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Preparation;

namespace MarrowDiff.Tests.Preparation;

public class DatasetSplitTests
{
    /// <summary>An unbalanced synthetic list: cells of every class, some with several crops sharing one cell id
    /// (as a dataset of pre-made oversampled crops has), spread over 10 subjects.</summary>
    private static List<CellImage> Cells(int seed, int perClassBase = 12)
    {
        var rng = new Rng((ulong)seed);
        var cells = new List<CellImage>();
        foreach (CellClass k in CellTaxonomy.All)
        {
            int n = perClassBase + rng.Next(0, 40);
            for (int i = 0; i < n; i++)
            {
                string id = $"{k.Code()}-cell{i}";
                string subject = $"s{rng.Next(1, 11):00}";
                int crops = rng.Next(1, 4);
                for (int c = 0; c < crops; c++)
                    cells.Add(new CellImage($"/x/{id}-crop{c}.png", k, id, "test", subject));
            }
        }
        cells.Add(new CellImage("/x/other.png", CellLabel.Other("LYT"), "other-1", "test", "s01"));
        return cells;
    }

    [Fact]
    public void NoCellOnTwoSides_OverManySeeds_AndTestShareIsOneInSix()
    {
        for (int seed = 0; seed < 200; seed++)
        {
            var cells = Cells(seed);
            var split = DatasetSplit.Create(cells, new SplitOptions(seed), mergeIdenticalFiles: false);
            foreach (var byId in split.Cells.GroupBy(c => c.CellId))
                Assert.True(byId.Select(split.PartOf).Distinct().Count() == 1, $"seed {seed}: crops of cell {byId.Key} are on two sides");
            var test = split.Test.Select(c => c.CellId).ToHashSet();
            Assert.DoesNotContain(split.TrainValidation, c => test.Contains(c.CellId));
            for (int fold = 1; fold <= SplitOptions.Folds; fold++)
            {
                var sides = split.Sides(fold);
                var validation = sides.Validation.Select(c => c.CellId).ToHashSet();
                Assert.DoesNotContain(sides.Train, c => validation.Contains(c.CellId) || test.Contains(c.CellId));
                Assert.NotEmpty(sides.Validation);
            }
            Assert.DoesNotContain(split.Cells, c => c.Label.IsOther);
            foreach (var byClass in split.Cells.GroupBy(c => c.Label.Class))
            {
                int ids = byClass.Select(c => c.CellId).Distinct().Count();
                int testIds = byClass.Where(c => split.PartOf(c) == DatasetSplit.TestPart).Select(c => c.CellId).Distinct().Count();
                Assert.True(Math.Abs(testIds - ids / 6.0) <= 0.5 + 1e-9, $"seed {seed}, {byClass.Key}: {testIds} of {ids} cells in test, expected one in six");
            }
        }
    }

    [Fact]
    public void AShareOfTheTrainingCells_KeepsWholeCells_OfTheTrainingSideOnly_NestedAcrossShares()
    {
        double[] shares = [0.1, 0.25, 0.5, 0.75, 1];
        for (int seed = 0; seed < 30; seed++)
        {
            var split = DatasetSplit.Create(Cells(seed), new SplitOptions(seed), mergeIdenticalFiles: false);
            for (int fold = 1; fold <= SplitOptions.Folds; fold++)
            {
                var all = split.Sides(fold);
                var crops = all.Train.GroupBy(c => c.CellId).ToDictionary(g => g.Key, g => g.Count());
                HashSet<string>? smaller = null;
                foreach (double share in shares)
                {
                    var sides = split.Sides(fold, share);
                    Assert.Equal(all.Validation, sides.Validation); // the held-out fold and the test cells do not move
                    Assert.Equal(all.Test, sides.Test);
                    var ids = sides.Train.Select(c => c.CellId).ToHashSet();
                    Assert.Subset(all.Train.Select(c => c.CellId).ToHashSet(), ids);
                    // Every crop of a kept cell is kept.
                    Assert.All(sides.Train.GroupBy(c => c.CellId), g => Assert.Equal(crops[g.Key], g.Count()));
                    foreach (var byClass in all.Train.GroupBy(c => c.Label.Class))
                    {
                        int n = byClass.Select(c => c.CellId).Distinct().Count();
                        int kept = sides.Train.Where(c => c.Label.Class == byClass.Key).Select(c => c.CellId).Distinct().Count();
                        Assert.Equal(Math.Max(1, (int)Math.Ceiling(share * n - 1e-9)), kept);
                    }
                    if (smaller is not null) Assert.Subset(ids, smaller); // nested: adding cells, never swapping them
                    smaller = ids;
                    Assert.Equal(ids.Count, DatasetSplit.CellCount(sides.Train));
                }
                Assert.Equal(all.Train, split.Sides(fold, 1).Train);
            }
        }
        // The same seed chooses the same cells; another seed other cells.
        var a = DatasetSplit.Create(Cells(3), new SplitOptions(3), mergeIdenticalFiles: false);
        var b = DatasetSplit.Create(Cells(3), new SplitOptions(3), mergeIdenticalFiles: false);
        Assert.Equal(a.Sides(2, 0.5).Train.Select(c => c.Path), b.Sides(2, 0.5).Train.Select(c => c.Path));
        Assert.Contains("share 0.5 of each class", a.Sides(2, 0.5).Description);
        foreach (double bad in new[] { 0, -0.25, 1.5, double.NaN })
            Assert.Contains("share in (0, 1]", Assert.Throws<ArgumentOutOfRangeException>(() => a.Sides(2, bad)).Message);
    }

    [Fact]
    public void Split_IsDeterministic_AndIndependentOfInputOrder()
    {
        var cells = Cells(3);
        var a = DatasetSplit.Create(cells, new SplitOptions(11), mergeIdenticalFiles: false);
        var shuffled = cells.ToList();
        new Rng(99).Shuffle(shuffled);
        var b = DatasetSplit.Create(shuffled, new SplitOptions(11), mergeIdenticalFiles: false);
        var c = DatasetSplit.Create(cells, new SplitOptions(12), mergeIdenticalFiles: false);
        Assert.All(a.Cells, x => Assert.Equal(a.PartOf(x), b.PartOf(x)));
        Assert.Contains(a.Cells, x => a.PartOf(x) != c.PartOf(x));
    }

    [Fact]
    public void BySubject_NoSubjectOnTwoSides_OverManySeeds()
    {
        for (int seed = 0; seed < 20; seed++)
        {
            var split = DatasetSplit.Create(Cells(seed), new SplitOptions(seed, SplitGrouping.Subject), mergeIdenticalFiles: false);
            foreach (var bySubject in split.Cells.GroupBy(c => c.Subject))
                Assert.True(bySubject.Select(split.PartOf).Distinct().Count() == 1, $"seed {seed}: subject {bySubject.Key} is on two sides");
            Assert.NotEmpty(split.Test);
            for (int f = 1; f <= SplitOptions.Folds; f++) Assert.NotEmpty(split.Sides(f).Validation);
            Assert.Contains(split.Notes, n => n.Contains("patient-level", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void BySubject_RefusesTooFewOrMissingSubjects()
    {
        var few = Cells(1).Select(c => c with { Subject = c.Subject == "s01" ? "s01" : "s02" }).ToList();
        var e = Assert.Throws<InvalidOperationException>(() => DatasetSplit.Create(few, new SplitOptions(1, SplitGrouping.Subject), false));
        Assert.Contains("at least 6 subjects", e.Message);
        var missing = Cells(1).Select((c, i) => i == 5 ? c with { Subject = null } : c).ToList();
        e = Assert.Throws<InvalidOperationException>(() => DatasetSplit.Create(missing, new SplitOptions(1, SplitGrouping.Subject), false));
        Assert.Contains("needs a subject for every cell", e.Message);
    }

    [Fact]
    public void OneCellUnderTwoLabels_IsAnError()
    {
        var cells = new List<CellImage> { new("/a.png", CellClass.BandNeutrophil, "c1", "t"), new("/b.png", CellClass.SegmentedNeutrophil, "c1", "t") };
        var e = Assert.Throws<InvalidDataException>(() => DatasetSplit.Create(cells, new SplitOptions(1), false));
        Assert.Contains("two labels", e.Message);
    }

    [Fact]
    public void IdenticalFiles_UnderTwoCellIds_StayOnOneSide()
    {
        string dir = Directory.CreateTempSubdirectory("marrow-split-").FullName;
        try
        {
            var rng = new Rng(4);
            var cells = new List<CellImage>();
            for (int i = 0; i < 60; i++)
            {
                var img = new RgbImage(4, 4);
                for (int p = 0; p < img.Pixels.Length; p++) img.Pixels[p] = (byte)rng.Next(0, 256);
                string path = Path.Combine(dir, $"c{i}.png");
                img.SavePng(path);
                cells.Add(new CellImage(path, CellClass.Myelocyte, $"cell{i}", "t"));
            }
            // The same bytes filed again as 12 "different" cells (a duplicated file under a new name).
            for (int i = 0; i < 12; i++)
            {
                string copy = Path.Combine(dir, $"dup{i}.png");
                File.Copy(cells[i].Path, copy);
                cells.Add(new CellImage(copy, CellClass.Myelocyte, $"dup{i}", "t"));
            }
            for (int seed = 0; seed < 10; seed++)
            {
                var split = DatasetSplit.Create(cells, new SplitOptions(seed));
                for (int i = 0; i < 12; i++)
                    Assert.Equal(split.PartOf(cells[i]), split.PartOf(cells[60 + i]));
                Assert.Contains(split.Notes, n => n.Contains("identical image bytes", StringComparison.Ordinal));
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void SavedSplit_IsReadBack_AndWinsOverRemaking_AndRefusesUnknownCells()
    {
        string dir = Directory.CreateTempSubdirectory("marrow-split-").FullName;
        try
        {
            var cells = Cells(8);
            var dataset = new CellDataset(dir, "test", cells, [], [], []);
            var options = new SplitOptions(8);
            // Paths do not exist: make the split without content hashing, save it, then Ensure must read it.
            var made = DatasetSplit.Create(cells, options, mergeIdenticalFiles: false);
            string file = Path.Combine(dir, options.FileStem + ".csv");
            made.Save(file);
            var read = DatasetSplit.Ensure(dataset, options, dir);
            Assert.Equal(file, read.File);
            Assert.All(made.Cells, c => Assert.Equal(made.PartOf(c), read.PartOf(c)));
            Assert.True(File.Exists(Path.ChangeExtension(file, ".json")));

            // Move one test cell to fold 1 by hand: the saved file is what counts.
            var moved = made.Test[0];
            string[] lines = File.ReadAllLines(file);
            for (int i = 1; i < lines.Length; i++)
                if (lines[i].StartsWith(moved.CellId + ",", StringComparison.Ordinal)) lines[i] = lines[i][..lines[i].LastIndexOf(',')] + ",fold1";
            File.WriteAllLines(file, lines);
            Assert.Equal(1, DatasetSplit.Ensure(dataset, options, dir).PartOf(moved));

            // A cell the saved split does not know is an error naming the file.
            var grown = new CellDataset(dir, "test", [.. cells, new CellImage("/x/new.png", CellClass.Myeloblast, "new-cell", "test")], [], [], []);
            var e = Assert.Throws<InvalidDataException>(() => DatasetSplit.Ensure(grown, options, dir));
            Assert.Contains(file, e.Message);
            Assert.Contains("new-cell", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
