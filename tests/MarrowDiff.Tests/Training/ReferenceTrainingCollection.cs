
namespace MarrowDiff.Tests.Training;

/// <summary>The tests that compare against one reference run share it, and run one after another (each trains).</summary>
[CollectionDefinition(Name)]
public sealed class ReferenceTrainingCollection : ICollectionFixture<ReferenceTrainingRun>
{
    public const string Name = "reference training run";
}
