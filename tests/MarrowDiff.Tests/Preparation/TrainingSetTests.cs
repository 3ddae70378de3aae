using System.Security.Cryptography;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Preparation;
using MarrowDiff.Torch;

namespace MarrowDiff.Tests.Preparation;

public class TrainingSetTests(PreparedPhantomFixture fx) : IClassFixture<PreparedPhantomFixture>
{
    private DataPreparation Prep => fx.Prep;

    [Fact]
    public void EveryVariant_UsesOnlyTrainingCells_AndTheTestSetNeverMoves()
    {
        var testBefore = Prep.Split.Test.Select(c => c.CellId).ToHashSet();
        foreach (var fold in new int?[] { null, 2 })
        {
            var sides = Prep.Split.Sides(fold);
            var allowed = sides.Train.Select(c => c.CellId).ToHashSet();
            foreach (var v in Prep.Variants)
            {
                SampleSet set = Prep.Build(v, fold);
                Assert.All(set.DistinctCells, c => Assert.True(allowed.Contains(c.CellId), $"{v.Name}: {c.CellId} is not on the training side"));
                Assert.DoesNotContain(set.DistinctCells, c => testBefore.Contains(c.CellId));
                if (fold is { } f) Assert.DoesNotContain(set.DistinctCells, c => Prep.Split.PartOf(c) == f);
            }
        }
        // Building the variants changed nothing, and the saved split reads back the same test set.
        Assert.Equal(testBefore, Prep.Split.Test.Select(c => c.CellId).ToHashSet());
        var reread = DatasetSplit.Ensure(fx.Dataset, Prep.Split.Options, Path.GetDirectoryName(Prep.Split.File)!);
        Assert.Equal(testBefore, reread.Test.Select(c => c.CellId).ToHashSet());
    }

    [Theory]
    [InlineData("OS300", 300)]
    [InlineData("OS600", 600)]
    public void Oversampling_GivesExactlyNPerClass_FromDistinctBoundedCrops(string name, int n)
    {
        SampleSet set = Prep.Build(name);
        foreach (CellClass k in CellTaxonomy.All)
            Assert.Equal(n, Enumerable.Range(0, set.Count).Count(i => set.Label(i) == k.Index()));
        Assert.Equal(10 * n, set.Count);
        foreach (var byCell in Enumerable.Range(0, set.Count).GroupBy(i => set[i].Tile))
        {
            CellTile tile = set.Tiles.Tiles[byCell.Key];
            var offsets = byCell.Select(i => (set[i].Dx, set[i].Dy)).ToList();
            Assert.Contains(((sbyte)0, (sbyte)0), offsets); // the original crop is always one of them
            Assert.Equal(offsets.Count, offsets.Distinct().Count());
            Assert.All(offsets, o => Assert.True(o.Dx * o.Dx + o.Dy * o.Dy <= tile.MaxShift * tile.MaxShift, $"shift {o} beyond {tile.MaxShift} px"));
            Assert.True(tile.MaxShift <= 12 && (tile.Cell.DiameterPx is null || tile.MaxShift <= 0.2 * tile.Cell.DiameterPx), $"{tile.Cell.CellId}: bound {tile.MaxShift} px");
            // No two crops of one cell have the same pixels.
            var hashes = byCell.Select(i => Convert.ToHexString(SHA256.HashData(set.Render(i).Pixels))).ToList();
            Assert.Equal(hashes.Count, hashes.Distinct().Count());
        }
    }

    [Fact]
    public void Oversampling_SubsamplesClassesAboveN_AndSaysSo()
    {
        SampleSet set = Prep.Build(TrainingVariant.Oversampled(5, augment: false));
        Assert.Equal(50, set.Count);
        Assert.All(set.Classes, c => Assert.Equal(5, c.Images));
        Assert.All(set.Classes.Where(c => c.TrainingCells > 5), c => Assert.Contains("subsampled", c.Note));
        Assert.Contains(set.Notes, n => n.Contains("subsampled", StringComparison.Ordinal));
        Assert.Equal(50, set.DistinctCells.Count()); // one crop each
    }

    [Fact]
    public void AugmentedSets_AreEightTimesTheirCrops_MinusReportedDuplicates()
    {
        foreach (var (aug, plain) in new[] { ("AG", "OG"), ("AG+OS300", "OS300") })
        {
            SampleSet a = Prep.Build(aug), p = Prep.Build(plain);
            Assert.Equal(8 * p.Count - a.DuplicatesDropped, a.Count);
            Assert.Equal(8, Enumerable.Range(0, a.Count).Where(i => a[i].Tile == a[0].Tile && a[i].Dx == a[0].Dx && a[i].Dy == a[0].Dy).Count());
        }
    }

    [Fact]
    public void OriginalCrop_FromTheField_EqualsThePatchFile()
    {
        var reader = new CellImageReader();
        foreach (var cell in Prep.Split.Cells.Take(20))
            Assert.True(Prep.Tiles[cell].Patch(0, 0).SamePixels(reader.Read(cell.Path)), $"{cell.Path}: tile centre differs from the patch file");
    }

    [Fact]
    public void Normalisation_EqualsStatisticsOfTheTrainingImagesAlone()
    {
        foreach (string name in new[] { "OG", "AG+OS300" })
        {
            SampleSet set = Prep.Build(name);
            ColourNormalisation n = set.Normalisation("test");
            // Independent computation: render every training image (all D4 images included) and convert it.
            double[] sum = new double[3], sq = new double[3];
            long pixels = 0;
            var planes = new float[3 * 96 * 96];
            for (int i = 0; i < set.Count; i++)
            {
                Yuv.ToPlanes(set.Render(i), planes);
                for (int c = 0; c < 3; c++)
                    for (int p = 0; p < 96 * 96; p++) { double v = planes[c * 96 * 96 + p]; sum[c] += v; sq[c] += v * v; }
                pixels += 96 * 96;
            }
            for (int c = 0; c < 3; c++)
            {
                double mean = sum[c] / pixels, std = Math.Sqrt(sq[c] / pixels - mean * mean);
                Assert.Equal(mean, n.Mean[c], 9);
                Assert.Equal(std, n.Std[c], 9);
            }
            Assert.Equal(set.Count, n.Images);
        }
        // Including the test cells would give other numbers: the statistics really are of the training side.
        var withTest = ColourNormalisation.Compute(Prep.Split.Cells.Select(c => Prep.Tiles[c].Patch(0, 0)), "all");
        var train = Prep.Build("OG").Normalisation("train");
        Assert.NotEqual(withTest.Mean[0], train.Mean[0]);
    }

    [Fact]
    public void Normalisation_AppliedToTrainingImages_GivesZeroMeanUnitStd_AndSavesAndLoads()
    {
        SampleSet set = Prep.Build("OS300");
        ColourNormalisation n = set.Normalisation("test");
        double[] sum = new double[3], sq = new double[3];
        var chw = new float[3 * 96 * 96];
        for (int i = 0; i < set.Count; i++)
        {
            set.Fill(i, chw, n);
            for (int c = 0; c < 3; c++) for (int p = 0; p < 9216; p++) { double v = chw[c * 9216 + p]; sum[c] += v; sq[c] += v * v; }
        }
        for (int c = 0; c < 3; c++)
        {
            double mean = sum[c] / (set.Count * 9216.0);
            Assert.Equal(0, mean, 4);
            Assert.Equal(1, Math.Sqrt(sq[c] / (set.Count * 9216.0) - mean * mean), 4);
        }
        string file = Path.Combine(fx.Root, "normalisation.json");
        n.Save(file);
        var back = ColourNormalisation.Load(file);
        Assert.Equal(n.Mean, back.Mean); Assert.Equal(n.Std, back.Std); Assert.Equal(n.ComputedOn, back.ComputedOn);
    }

    [Fact]
    public void Loader_CoversEachSampleOncePerEpoch_InASeededOrder_MatchingFill()
    {
        SampleSet set = Prep.Build("AG");
        var n = set.Normalisation("test");
        var loader = new BatchLoader(set, n, batchSize: 40, seed: 3);
        var seen = new List<int>();
        var expected = new float[3 * 96 * 96];
        foreach (Batch b in loader.Epoch(0))
            using (b)
            {
                Assert.True(b.Count is > 0 and <= 40);
                for (int i = 0; i < b.Count; i++)
                {
                    Assert.Equal(set.Label(b.Samples[i]), b.Labels[i]);
                    if (seen.Count % 97 == 0)
                    {
                        set.Fill(b.Samples[i], expected, n);
                        Assert.True(b.Inputs.AsSpan(i * expected.Length, expected.Length).SequenceEqual(expected), $"batch input of sample {b.Samples[i]} differs from Fill");
                    }
                    seen.Add(b.Samples[i]);
                }
            }
        Assert.Equal(Enumerable.Range(0, set.Count), seen.Order());
        Assert.Equal(loader.Order(0), seen);
        Assert.Equal(loader.Order(0), new BatchLoader(set, n, 40, seed: 3).Order(0));
        Assert.NotEqual(loader.Order(0), loader.Order(1));
    }

    [Fact]
    public void Loader_StopsCleanly_WhenTheConsumerLeavesEarly_AndTensorsHaveTheRightShape()
    {
        TorchRuntime.Initialise();
        SampleSet set = Prep.Build("AG+OS600");
        var loader = new BatchLoader(set, set.Normalisation("test"), batchSize: 40, seed: 1);
        int batches = 0;
        foreach (Batch b in loader.Epoch(0))
            using (b)
            {
                var (x, y) = b.ToTensors();
                using (x) using (y)
                {
                    Assert.Equal([40L, 3, 96, 96], x.shape);
                    Assert.Equal([40L], y.shape);
                }
                if (++batches == 3) break;
            }
        Assert.Equal(3, batches);
    }

    [Fact]
    public void BarePatches_CannotBeOversampled_AndSaySo()
    {
        // The phantom's own 96x96 patch files as a folder-per-class dataset: no field around them.
        string dir = Path.Combine(fx.Root, "bare");
        foreach (var c in fx.Dataset.PaperCells)
        {
            string target = Path.Combine(dir, c.Label.Class!.Value.SnakeName(), Path.GetFileName(c.Path));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(c.Path, target, overwrite: true);
        }
        var bare = CellDatasetLoader.Load(dir);
        var prep = DataPreparation.Create(bare, new SplitOptions(1), Path.Combine(fx.Root, "bare-splits"), TrainingVariant.Paper, Provenance.For("smoke", dir, 1));
        Assert.All(prep.Tiles.Tiles, t => Assert.Equal(CropSource.BarePatch, t.Source));
        Assert.Equal(prep.Split.Sides().Train.Count, prep.Build("OG").Count);
        Assert.Equal(8 * prep.Build("OG").Count - prep.Build("AG").DuplicatesDropped, prep.Build("AG").Count);
        var e = Assert.Throws<InvalidOperationException>(() => prep.Build("OS300"));
        Assert.Contains("bare 96x96 patch", e.Message);
        Assert.Contains(prep.Tiles.Notes, n => n.Contains("not re-cropped", StringComparison.Ordinal));
    }

    [Fact]
    public void LargerSourceCrops_AreReCroppedInside()
    {
        // 200x180 crops around each cell (as public datasets ship): central square resampled to the tile.
        string dir = Path.Combine(fx.Root, "crops");
        var reader = new CellImageReader();
        var fields = new Dictionary<string, RgbImage>();
        foreach (var c in fx.Dataset.PaperCells.Where(c => c.Label.Class is CellClass.Myeloblast or CellClass.Promyelocyte))
        {
            RgbImage field = fields.TryGetValue(c.FieldPath!, out var f) ? f : fields[c.FieldPath!] = reader.Read(c.FieldPath!);
            string target = Path.Combine(dir, c.Label.Class!.Value.SnakeName(), Path.GetFileName(c.Path));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            field.CropCentred(c.CentreX!.Value, c.CentreY!.Value, 200).Crop(0, 10, 200, 180).SavePng(target);
        }
        var crops = CellDatasetLoader.Load(dir);
        var prep = DataPreparation.Create(crops, new SplitOptions(1), Path.Combine(fx.Root, "crop-splits"), [TrainingVariant.Oversampled(60, false)], Provenance.For("smoke", dir, 1));
        Assert.All(prep.Tiles.Tiles, t => { Assert.Equal(CropSource.SourceCrop, t.Source); Assert.Equal(12, t.MaxShift); Assert.Equal(120, t.Tile.Width); });
        SampleSet set = prep.Build("OS60");
        Assert.Equal(120, set.Count);
        Assert.Contains(prep.Tiles.Notes, n => n.Contains("200x180", StringComparison.Ordinal));
    }

    [Fact]
    public void SymmetricPatches_InTheTrainingSide_AreCountedAsDuplicates()
    {
        // 30 noisy (asymmetric) patches and 12 flat ones (each a different colour, so no two files are equal).
        string dir = Path.Combine(fx.Root, "symmetric");
        var rng = new Rng(21);
        for (int i = 0; i < 42; i++)
        {
            var img = new RgbImage(96, 96);
            if (i < 30) for (int p = 0; p < img.Pixels.Length; p++) img.Pixels[p] = (byte)rng.Next(0, 256);
            else img.Fill(((byte)(10 * i), 90, 140));
            img.SavePng(Path.Combine(dir, "myelocyte", $"p{i:00}.png"));
        }
        var ds = CellDatasetLoader.Load(dir);
        var prep = DataPreparation.Create(ds, new SplitOptions(2), Path.Combine(fx.Root, "symmetric-splits"), TrainingVariant.Paper, Provenance.For("smoke", dir, 2));
        int flatInTraining = prep.Split.Sides().Train.Count(c => Path.GetFileName(c.Path).CompareTo("p30.png") >= 0);
        Assert.InRange(flatInTraining, 1, 12);
        SampleSet ag = prep.Build("AG");
        Assert.Equal(7 * flatInTraining, ag.DuplicatesDropped);
        Assert.Equal(8 * prep.Split.Sides().Train.Count - 7 * flatInTraining, ag.Count);
        Assert.Contains(ag.Notes, n => n.Contains($"{7 * flatInTraining} augmented image(s) identical", StringComparison.Ordinal));
    }

    [Fact]
    public void TheLoaderMeasurement_StreamsWhatItWasAsked_AndTheFirstBatchIsNormalised()
    {
        var m = LoaderMeasurement.Stream(fx.Prep, fx.Prep.Variant("AG+OS10"), batches: 3, batchSize: 10);
        Assert.Equal(3, m.Batches);
        Assert.Equal(30, m.Streamed);
        Assert.Equal(fx.Prep.Build("AG+OS10").Count, m.Images);
        Assert.True(m.ImagesPerSecond > 0);
        // One batch of ten is not the whole set, so only near the set's 0 and 1.
        Assert.All(m.FirstBatchMean, x => Assert.InRange(x, -0.6, 0.6));
        Assert.All(m.FirstBatchStd, x => Assert.InRange(x, 0.4, 1.6));
    }
}
