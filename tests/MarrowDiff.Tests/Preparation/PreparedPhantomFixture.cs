using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Phantom;
using MarrowDiff.Preparation;

namespace MarrowDiff.Tests.Preparation;

/// <summary>The smoke phantom rendered once (seed 5), its split saved in a temp folder, its tiles cut.</summary>
public sealed class PreparedPhantomFixture : IDisposable
{
    public PreparedPhantomFixture()
    {
        Root = Directory.CreateTempSubdirectory("marrow-prep-test-").FullName;
        string data = Path.Combine(Root, "phantom");
        MarrowPhantom.Write(data, PhantomSize.Smoke, seed: 5);
        Dataset = CellDatasetLoader.Load(data);
        Prep = DataPreparation.Create(Dataset, new SplitOptions(5), Path.Combine(Root, "splits"), TrainingVariant.Paper, Provenance.For("smoke", data, 5));
    }

    public string Root { get; }
    public CellDataset Dataset { get; }
    public DataPreparation Prep { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
