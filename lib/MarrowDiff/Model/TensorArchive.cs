using System.Text;
using MarrowDiff.Imaging;
using TorchSharp;
using MarrowDiff.Core;
using static TorchSharp.torch;

namespace MarrowDiff.Model;

/// <summary>
/// A small self-describing file of named tensors (float32 and int64) plus a JSON header: MarrowDiff's checkpoint and
/// weight format. Written to a temporary file and renamed, so a crash mid-write leaves the previous file intact;
/// read back with every name, shape and type checked, so a truncated or foreign file fails with the reason.
/// </summary>
public static class TensorArchive
{
    private static readonly byte[] Magic = "MARROWT1"u8.ToArray();

    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, string headerJson)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(headerJson);
            w.Write(tensors.Count);
            foreach (var (name, tensor) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                using var cpu = CpuCopy(tensor);
                w.Write(name);
                w.Write(cpu.dtype == ScalarType.Int64 ? (byte)1 : cpu.dtype == ScalarType.Float32 ? (byte)0
                        : throw new NotSupportedException($"{name}: tensors of type {cpu.dtype} are not archived"));
                w.Write(cpu.shape.Length);
                foreach (long d in cpu.shape) w.Write(d);
                if (cpu.dtype == ScalarType.Int64) foreach (long v in cpu.data<long>()) w.Write(v);
                else w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan()));
            }
        }
        AtomicFile.WriteAllBytes(path, ms.ToArray());
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

    /// <summary>Reads an archive: its header and its tensors (CPU). The caller disposes the tensors.</summary>
    public static (string Header, Dictionary<string, Tensor> Tensors) Load(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        try
        {
            if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a MarrowDiff tensor archive");
            string header = r.ReadString();
            int count = r.ReadInt32();
            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            for (int i = 0; i < count; i++)
            {
                string name = r.ReadString();
                byte type = r.ReadByte();
                int rank = r.ReadInt32();
                if (rank is < 0 or > 8) throw new InvalidDataException($"{path}: tensor '{name}' has rank {rank}");
                long[] shape = new long[rank];
                for (int d = 0; d < rank; d++) shape[d] = r.ReadInt64();
                long n = shape.Aggregate(1L, (a, b) => a * b);
                if (type == 1)
                {
                    long[] values = new long[n];
                    for (long k = 0; k < n; k++) values[k] = r.ReadInt64();
                    tensors[name] = tensor(values, shape);
                }
                else
                {
                    byte[] bytes = r.ReadBytes(checked((int)(n * 4)));
                    if (bytes.Length != n * 4) throw new EndOfStreamException();
                    tensors[name] = tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray(), shape);
                }
            }
            return (header, tensors);
        }
        catch (EndOfStreamException) { throw new InvalidDataException($"{path}: truncated tensor archive"); }
    }
}
