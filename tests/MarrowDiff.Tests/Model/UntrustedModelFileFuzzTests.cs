using System.Diagnostics;
using System.Text;
using MarrowDiff.Model;
using MarrowDiff.Torch;
using static TorchSharp.torch;

namespace MarrowDiff.Tests.Model;

/// <summary>
/// The two model formats read from files a user may hand over (a pretrained network's ONNX, a model's safetensors),
/// damaged ten thousand ways: every copy ends, within a time bound, in a result or in an <see cref="InvalidDataException"/>
/// that names it; never a loop, a crash of another kind, or a read outside the file.
/// </summary>
public class UntrustedModelFileFuzzTests
{
    private const int Cases = 10_000;

    // ---------------------------------------------------------------- a small valid ONNX model, written by hand

    private static byte[] Varint(ulong v)
    {
        var b = new List<byte>();
        while (v >= 0x80) { b.Add((byte)(v | 0x80)); v >>= 7; }
        b.Add((byte)v);
        return [.. b];
    }

    private static byte[] Field(int number, byte[] bytes) => [.. Varint((ulong)number << 3 | 2), .. Varint((ulong)bytes.Length), .. bytes];
    private static byte[] Field(int number, string text) => Field(number, Encoding.UTF8.GetBytes(text));
    private static byte[] Number(int number, ulong value) => [.. Varint((ulong)number << 3), .. Varint(value)];

    /// <summary>ModelProto { graph: { node: Relu(x → y) with attribute a = 1; initializer w: float32 [2] = {0.5, -2} } }.</summary>
    private static byte[] SmallOnnx()
    {
        byte[] attribute = [.. Field(1, "a"), .. Number(3, 1)];
        byte[] node = [.. Field(1, "x"), .. Field(2, "y"), .. Field(4, "Relu"), .. Field(5, attribute)];
        byte[] raw = [.. BitConverter.GetBytes(0.5f), .. BitConverter.GetBytes(-2f)];
        byte[] initializer = [.. Number(1, 2), .. Number(2, 1), .. Field(8, "w"), .. Field(9, raw)];
        byte[] graph = [.. Field(1, node), .. Field(5, initializer)];
        return [.. Number(1, 7), .. Field(7, graph)];
    }

    [Fact]
    public void TheSmallOnnxModel_ReadsAsWritten()
    {
        var g = OnnxGraph.Read(SmallOnnx(), "small.onnx");
        Assert.Equal("Relu", Assert.Single(g.Nodes).Op);
        Assert.Equal([1L], g.Nodes[0].Ints["a"]);
        Assert.Equal([0.5f, -2f], g.Initializers["w"].Data);
    }

    [Fact]
    public void ALengthThatWouldBeNegativeAsAnInt_IsRefused_NotLoopedOn()
    {
        // Field 7 (the graph) with the length 2^32 - 1: cast to int it was -1, and the read position went backwards.
        byte[] bad = [.. Number(1, 7), .. Varint(7 << 3 | 2), .. Varint(uint.MaxValue), 0, 0, 0];
        var e = Assert.Throws<InvalidDataException>(() => OnnxGraph.Read(bad, "negative.onnx"));
        Assert.StartsWith("negative.onnx", e.Message);
        Assert.Contains("runs past", e.Message);
    }

    [Fact]
    public void TenThousandDamagedOnnxModels_EachEndInAResultOrANamedError()
    {
        byte[] valid = SmallOnnx();
        var outcome = Fuzz(valid, (bytes, name) => { OnnxGraph.Read(bytes, name); }, seed: 11);
        Assert.True(outcome.Refused > Cases / 2, $"only {outcome.Refused} of {Cases} damaged copies were refused: the mutations barely damage");
    }

    // ---------------------------------------------------------------- safetensors

    private static byte[] SmallSafetensors()
    {
        TorchRuntime.Initialise();
        string dir = Directory.CreateTempSubdirectory("marrow-st-fuzz-").FullName;
        try
        {
            string path = Path.Combine(dir, "m.safetensors");
            using var w = arange(0, 6, dtype: ScalarType.Float32).reshape(2, 3);
            using var n = tensor(new long[] { 3 });
            Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = w, ["n"] = n }, new Dictionary<string, string> { ["note"] = "x" });
            return File.ReadAllBytes(path);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("[9223372036854775783,9223372036854775807]")] // the right length (24 bytes of F32 [2, 3]), but dataStart + end wraps past long.MaxValue
    [InlineData("[9223372036854775799,9223372036854775807]")] // the same for I64 [1] (8 bytes), whichever tensor the header lists first
    [InlineData("[-8,16]")]
    [InlineData("[16,8]")]
    [InlineData("[4294967296,4294967320]")]                    // (int) of the start truncated to 0
    public void OffsetsThatOverflowOrTruncate_AreRefused(string offsets)
    {
        byte[] valid = SmallSafetensors();
        string header = Encoding.UTF8.GetString(valid, 8, (int)BitConverter.ToUInt64(valid, 0));
        int at = header.IndexOf("\"data_offsets\":[", StringComparison.Ordinal) + "\"data_offsets\":".Length;
        string damaged = header[..at] + offsets + header[(header.IndexOf(']', at) + 1)..];
        byte[] h = Encoding.UTF8.GetBytes(damaged);
        byte[] file = [.. BitConverter.GetBytes((ulong)h.Length), .. h, .. valid.AsSpan(8 + header.Length)];
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Load(file, "offsets.safetensors"));
        Assert.StartsWith("offsets.safetensors", e.Message);
    }

    [Fact]
    public void TenThousandDamagedSafetensorsHeaders_EachEndInAResultOrANamedError()
    {
        byte[] valid = SmallSafetensors();
        int headerEnd = 8 + (int)BitConverter.ToUInt64(valid, 0);
        var outcome = Fuzz(valid, (bytes, name) =>
        {
            var (_, tensors) = Safetensors.Load(bytes, name);
            foreach (var t in tensors.Values) t.Dispose();
        }, seed: 12, region: headerEnd, numbers: true);
        Assert.True(outcome.Refused > Cases / 4, $"only {outcome.Refused} of {Cases} damaged headers were refused");
    }

    // ---------------------------------------------------------------- the fuzzer

    /// <summary>Damages <paramref name="valid"/> <see cref="Cases"/> times (seeded: flipped, zeroed or 0xFF bytes,
    /// cuts, inserted and repeated runs, and, with <paramref name="numbers"/>, digits of the JSON header replaced by
    /// extreme numbers), mostly inside the first <paramref name="region"/> bytes, and reads each copy. Runs on its own
    /// thread under a time bound, so a loop fails the test instead of hanging it.</summary>
    private static (int Read, int Refused) Fuzz(byte[] valid, Action<byte[], string> read, int seed, int? region = null, bool numbers = false)
    {
        int span = region ?? valid.Length;
        int readOk = 0, refused = 0;
        string? failure = null;
        var slowest = TimeSpan.Zero;
        var work = Task.Run(() =>
        {
            var rng = new Random(seed);
            string[] extremes = ["9223372036854775807", "-9223372036854775808", "4294967296", "-1", "18446744073709551615", "1e308", "99999999999999999999999"];
            for (int c = 0; c < Cases && failure is null; c++)
            {
                var bytes = new List<byte>(valid);
                int edits = 1 + rng.Next(3);
                for (int e = 0; e < edits && bytes.Count > 0; e++)
                {
                    int at = rng.Next(Math.Min(span, bytes.Count));
                    switch (rng.Next(numbers ? 7 : 6))
                    {
                        case 0: bytes[at] ^= (byte)(1 << rng.Next(8)); break;
                        case 1: bytes[at] = rng.Next(2) == 0 ? (byte)0 : (byte)0xFF; break;
                        case 2: bytes.RemoveRange(at, bytes.Count - at); break;
                        case 3: bytes.InsertRange(at, Enumerable.Range(0, 1 + rng.Next(8)).Select(_ => (byte)rng.Next(256))); break;
                        case 4: int n = Math.Min(1 + rng.Next(16), bytes.Count - at); bytes.InsertRange(at, bytes.GetRange(at, n)); break;
                        case 5: bytes[at] = (byte)rng.Next(256); break;
                        default:
                            // A run of digits in the header becomes an extreme number (an offset, a shape, a length).
                            int d = bytes.FindIndex(at, b => b is >= (byte)'0' and <= (byte)'9');
                            if (d < 0 || d >= span) break;
                            int end = d; while (end < bytes.Count && bytes[end] is >= (byte)'0' and <= (byte)'9') end++;
                            bytes.RemoveRange(d, end - d);
                            bytes.InsertRange(d, Encoding.ASCII.GetBytes(extremes[rng.Next(extremes.Length)]));
                            break;
                    }
                }
                string name = $"case{c}";
                var clock = Stopwatch.StartNew();
                try { read([.. bytes], name); readOk++; }
                catch (InvalidDataException e) when (e.Message.StartsWith(name, StringComparison.Ordinal)) { refused++; }
                catch (Exception e) { failure = $"{name}: {e.GetType().Name}: {e.Message} (bytes {Convert.ToHexString([.. bytes])[..Math.Min(400, 2 * bytes.Count)]})"; }
                if (clock.Elapsed > slowest) slowest = clock.Elapsed;
            }
        });
        // Generous for a loaded 2-core machine; a reader that loops never finishes at all.
        Assert.True(work.Wait(TimeSpan.FromMinutes(3)), $"the fuzz did not finish in 3 minutes: a damaged file hangs the reader (after {readOk + refused} cases)");
        Assert.Null(failure);
        Assert.True(slowest < TimeSpan.FromSeconds(10), $"one damaged file took {slowest.TotalSeconds:0.0} s");
        Assert.Equal(Cases, readOk + refused);
        return (readOk, refused);
    }
}
