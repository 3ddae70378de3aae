using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Preparation;

namespace MarrowDiff.Tests.Training;

/// <summary>Twenty 96×96 patches, two per class, each a different pattern (bare patches: no oversampling needed).</summary>
public sealed class TwentyPatchesFixture : IDisposable
{
    public TwentyPatchesFixture()
    {
        Root = Directory.CreateTempSubdirectory("marrow-trainer-test-").FullName;
        var rng = new Rng(3);
        foreach (CellClass k in CellTaxonomy.All)
            for (int i = 0; i < 2; i++)
            {
                var img = new RgbImage(96, 96);
                // Class-dependent stripes plus noise: learnable, and no two images alike.
                for (int y = 0; y < 96; y++)
                    for (int x = 0; x < 96; x++)
                    {
                        int v = ((x + i * 7) / (4 + k.Index()) + y / 8) % 2 == 0 ? 40 : 210;
                        img[x, y] = ((byte)Math.Clamp(v + rng.Next(-30, 30), 0, 255), (byte)(25 * k.Index()), (byte)Math.Clamp(255 - v + rng.Next(-30, 30), 0, 255));
                    }
                img.SavePng(Path.Combine(Root, k.SnakeName(), $"p{i}.png"));
            }
        var dataset = CellDatasetLoader.Load(Root);
        Cells = dataset.PaperCells.ToList();
        Tiles = CellTiles.Build(Cells, new OversamplingSettings());
        Set = SampleSet.Original(Tiles, Cells, "twenty patches");
        Normalisation = Set.Normalisation("twenty patches");
    }

    public string Root { get; }
    public List<CellImage> Cells { get; }
    public CellTiles Tiles { get; }
    public SampleSet Set { get; }
    public ColourNormalisation Normalisation { get; }

    public void Dispose() => Directory.Delete(Root, true);
}
