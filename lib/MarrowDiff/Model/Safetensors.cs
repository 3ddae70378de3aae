using System.Buffers.Binary;
using System.Text.Json;
using System.Text;
using MarrowDiff.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace MarrowDiff.Model;

/// <summary>
/// MarrowDiff's one tensor file format, for models and checkpoints alike: safetensors (an 8-byte little-endian header
/// length, a JSON header of names, dtypes, shapes and byte offsets with an optional <c>__metadata__</c> map of strings,
/// then the raw little-endian data). PyTorch reads it with <c>safetensors.torch.load_file</c> and TorchSharp with
/// TorchSharp.PyBridge's <c>load_safetensors</c>; a checkpoint carries its epoch, SGD step and history as metadata.
/// Written here rather than through PyBridge's <c>save_safetensors</c>: inside a notebook kernel, whose assembly
/// loading differs from a plain process, that call fails with MissingMethodException (PyBridge 1.4.4 is built
/// against TorchSharp 0.103); the tests read our files back with PyBridge, so the format is checked against it.
/// Written to a temporary file and renamed, so a crash mid-write leaves the previous file intact; read back with every
/// offset, shape and type checked, so a truncated or foreign file fails with its path and the reason.
/// </summary>
public static class Safetensors
{
    /// <summary>The header is JSON of a few kB here; anything claiming more than this is not ours (or is damaged).</summary>
    private const long MaxHeaderBytes = 100_000_000;

    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, tensor) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            using var cpu = CpuCopy(tensor);
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

    /// <summary>Reads a safetensors file: its metadata and its tensors (on the CPU; the caller disposes them).</summary>
    public static (IReadOnlyDictionary<string, string> Metadata, Dictionary<string, Tensor> Tensors) Load(string path) => Load(File.ReadAllBytes(path), path);

    /// <summary>Reads a safetensors file's bytes; <paramref name="path"/> names it in errors. Any damage ends in an
    /// <see cref="InvalidDataException"/>: offsets and sizes are checked in 64-bit checked arithmetic against the data
    /// that is there before any is cast to an int or read.</summary>
    internal static (IReadOnlyDictionary<string, string> Metadata, Dictionary<string, Tensor> Tensors) Load(byte[] file, string path)
    {
        if (file.AsSpan().StartsWith("MARROWT1"u8))
            throw new InvalidDataException($"{path}: a tensor archive of an older MarrowDiff (before safetensors checkpoints); delete it and run again");
        if (file.Length < 8) throw new InvalidDataException($"{path}: {file.Length} bytes, too short for a safetensors file");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > MaxHeaderBytes || 8 + (long)headerLength > file.Length)
            throw new InvalidDataException($"{path}: header of {headerLength} bytes in a file of {file.Length}: truncated or not a safetensors file");
        int dataStart = 8 + (int)headerLength;
        JsonDocument header;
        try { header = JsonDocument.Parse(file.AsMemory(8, (int)headerLength)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: the header is not JSON ({e.Message})"); }
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using (header)
        {
            try
            {
                foreach (var entry in header.RootElement.EnumerateObject())
                {
                    if (entry.Name == "__metadata__")
                    {
                        foreach (var m in entry.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                        continue;
                    }
                    string dtype = entry.Value.GetProperty("dtype").GetString() ?? "";
                    long[] shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                    long[] offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                    int size = dtype switch { "F32" => 4, "I64" => 8, _ => throw new InvalidDataException($"{path}: tensor '{entry.Name}' has dtype {dtype}; only F32 and I64 are read") };
                    long count = shape.Aggregate(1L, (a, b) => b < 0 ? throw new InvalidDataException($"{path}: tensor '{entry.Name}' has a negative dimension") : checked(a * b));
                    long dataBytes = file.Length - dataStart;
                    // Each bound on its own, no sum that could wrap: start and end inside the data, in order, and the
                    // length the shape asks for.
                    if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataBytes || offsets[1] - offsets[0] != checked(count * size))
                        throw new InvalidDataException($"{path}: tensor '{entry.Name}' ({dtype} [{string.Join(", ", shape)}]) at bytes {string.Join("-", offsets)} " +
                                                       $"does not fit the {dataBytes} data bytes: truncated or damaged");
                    if (tensors.ContainsKey(entry.Name)) throw new InvalidDataException($"{path}: tensor '{entry.Name}' is listed twice");
                    var bytes = file.AsSpan(checked(dataStart + (int)offsets[0]), checked((int)(offsets[1] - offsets[0])));
                    tensors[entry.Name] = size == 4
                        ? tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray(), shape)
                        : tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(bytes).ToArray(), shape);
                }
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or OverflowException or ArgumentException
                                           or System.Runtime.InteropServices.ExternalException)
            {
                foreach (var t in tensors.Values) t.Dispose();
                throw new InvalidDataException($"{path}: malformed safetensors header ({e.Message})");
            }
            catch { foreach (var t in tensors.Values) t.Dispose(); throw; }
        }
        return (metadata, tensors);
    }

    /// <summary>
    /// A contiguous CPU copy that the caller owns and may dispose. Never <c>tensor.detach().cpu().contiguous()</c>
    /// in a <c>using</c>: for a buffer (no grad) on the CPU that is already contiguous, TorchSharp may hand back the
    /// very same object, and disposing it frees the module's own running mean or variance: found the hard way, as
    /// BatchNorm failing epochs later with "alpha must not be a floating point number" on freed memory.
    /// </summary>
    internal static Tensor CpuCopy(Tensor tensor)
    {
        using var _ = no_grad();
        Tensor copy = tensor.detach().clone();
        if (copy.device_type != DeviceType.CPU) { var cpu = copy.cpu(); copy.Dispose(); copy = cpu; }
        if (!copy.is_contiguous()) { var c = copy.contiguous(); copy.Dispose(); copy = c; }
        return copy;
    }
}
