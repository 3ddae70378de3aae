using MarrowDiff.Model;
using static TorchSharp.torch;

namespace MarrowDiff.Tests.Model;

/// <summary>The one tensor format of models and checkpoints: what is written reads back bit for bit, with its metadata;
/// a damaged or foreign file is refused with its path and the reason.</summary>
public class SafetensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("marrow-safetensors-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Written()
    {
        string path = Path.Combine(_dir, "t.safetensors");
        using var w = arange(0, 24, dtype: ScalarType.Float32).reshape(2, 3, 4).mul(0.37f);
        using var steps = tensor(new long[] { 7, -3, long.MaxValue });
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["conv1.weight"] = w, ["bn1.num_batches_tracked"] = steps },
                         new Dictionary<string, string> { ["note"] = "épreuve", ["json"] = "{\"Epochs\":3}" });
        return path;
    }

    [Fact]
    public void RoundTrip_KeepsValuesShapesTypesAndMetadata()
    {
        var (metadata, tensors) = Safetensors.Load(Written());
        try
        {
            Assert.Equal("épreuve", metadata["note"]);
            Assert.Equal("{\"Epochs\":3}", metadata["json"]);
            Assert.Equal([2L, 3, 4], tensors["conv1.weight"].shape);
            Assert.Equal(ScalarType.Float32, tensors["conv1.weight"].dtype);
            using var expected = arange(0, 24, dtype: ScalarType.Float32).reshape(2, 3, 4).mul(0.37f);
            Assert.Equal(expected.data<float>().ToArray(), tensors["conv1.weight"].data<float>().ToArray());
            Assert.Equal([7L, -3, long.MaxValue], tensors["bn1.num_batches_tracked"].data<long>().ToArray());
        }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    [Fact]
    public void SameTensors_GiveTheSameBytes()
    {
        byte[] first = File.ReadAllBytes(Written());
        Assert.Equal(first, File.ReadAllBytes(Written()));
    }

    [Fact]
    public void TruncatedAt_AnyPoint_IsRefusedWithThePath()
    {
        byte[] whole = File.ReadAllBytes(Written());
        string cut = Path.Combine(_dir, "cut.safetensors");
        foreach (int length in new[] { 0, 5, 8, 40, whole.Length / 2, whole.Length - 1 })
        {
            File.WriteAllBytes(cut, whole[..length]);
            var e = Assert.Throws<InvalidDataException>(() => Safetensors.Load(cut));
            Assert.Contains(cut, e.Message);
        }
    }

    [Fact]
    public void OlderArchives_AndForeignFiles_AreNamedForWhatTheyAre()
    {
        string old = Path.Combine(_dir, "old.checkpoint");
        File.WriteAllBytes(old, [.. "MARROWT1"u8, 1, 2, 3]);
        Assert.Contains("older MarrowDiff", Assert.Throws<InvalidDataException>(() => Safetensors.Load(old)).Message);

        string png = Path.Combine(_dir, "image.safetensors");
        File.WriteAllBytes(png, [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, 0, 0, 0, 13]);
        Assert.Contains(png, Assert.Throws<InvalidDataException>(() => Safetensors.Load(png)).Message);

        string badJson = Path.Combine(_dir, "bad.safetensors");
        File.WriteAllBytes(badJson, [.. BitConverter.GetBytes(4UL), .. "{oops"u8[..4]]);
        Assert.Contains("not JSON", Assert.Throws<InvalidDataException>(() => Safetensors.Load(badJson)).Message);
    }
}
