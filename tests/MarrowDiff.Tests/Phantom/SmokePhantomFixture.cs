using MarrowDiff.Phantom;

namespace MarrowDiff.Tests.Phantom;

/// <summary>Renders the smoke phantom twice (same seed) once for all tests of this class.</summary>
public sealed class SmokePhantomFixture : IDisposable
{
    public SmokePhantomFixture()
    {
        Root = Directory.CreateTempSubdirectory("marrow-phantom-test-").FullName;
        First = Path.Combine(Root, "a");
        Second = Path.Combine(Root, "b");
        MarrowPhantom.Write(First, PhantomSize.Smoke, seed: 7);
        MarrowPhantom.Write(Second, PhantomSize.Smoke, seed: 7);
    }

    public string Root { get; }
    public string First { get; }
    public string Second { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
