using System.Text;
using System.Text.Json;
using MarrowDiff.Imaging;
using MarrowDiff.Core;
using static TorchSharp.torch;

namespace MarrowDiff.Model;

/// <summary>
/// Writes a state dict in the safetensors format (an 8-byte little-endian header length, a JSON header of names,
/// dtypes, shapes and byte offsets, then the raw little-endian data), which PyTorch reads with
/// <c>safetensors.torch.load_file</c> and TorchSharp with TorchSharp.PyBridge's <c>load_safetensors</c>.
/// Written here rather than through PyBridge's <c>save_safetensors</c>: inside a notebook kernel, whose assembly
/// loading differs from a plain process, that call fails with MissingMethodException (PyBridge 1.4.4 is built
/// against TorchSharp 0.103); the tests read our files back with PyBridge, so the format is checked against it.
/// </summary>
public static class Safetensors
{
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, tensor) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            using var cpu = TensorArchive.CpuCopy(tensor);
            byte[] bytes = cpu.dtype switch
            {
                ScalarType.Float32 => System.Runtime.InteropServices.MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan()).ToArray(),
                ScalarType.Int64 => System.Runtime.InteropServices.MemoryMarshal.AsBytes(cpu.data<long>().ToArray().AsSpan()).ToArray(),
                _ => throw new NotSupportedException($"{name}: {cpu.dtype} is not written to safetensors here"),
            };
            header[name] = new Dictionary<string, object>
            {
                ["dtype"] = cpu.dtype == ScalarType.Float32 ? "F32" : "I64",
                ["shape"] = cpu.shape,
                ["data_offsets"] = new[] { offset, offset + bytes.Length },
            };
            blobs.Add(bytes);
            offset += bytes.Length;
        }
        byte[] json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        // The format asks for the data to start 8-byte aligned; pad the header with spaces.
        int pad = (8 - json.Length % 8) % 8;
        using var ms = new MemoryStream();
        ms.Write(BitConverter.GetBytes((ulong)(json.Length + pad)));
        ms.Write(json);
        for (int i = 0; i < pad; i++) ms.WriteByte((byte)' ');
        foreach (byte[] b in blobs) ms.Write(b);
        AtomicFile.WriteAllBytes(path, ms.ToArray());
    }
}
