using System.Text;

namespace MarrowDiff.Model;

/// <summary>A node of an ONNX graph: its operator, the names of its inputs and outputs, and its integer and float attributes.</summary>
internal sealed record OnnxNode(string Op, string[] Inputs, string[] Outputs, Dictionary<string, long[]> Ints, Dictionary<string, float> Floats);

/// <summary>
/// Just enough of ONNX's protobuf encoding to read a convolutional network's nodes, in order, and its float32
/// initializers (weights): a pretrained network's file becomes TorchSharp tensors without a protobuf or ONNX Runtime
/// dependency. Wire format: each field is a varint key (field number × 8 + wire type) and a varint, a fixed 32 or 64
/// bits, or a length-prefixed run of bytes (a nested message, a string, packed numbers). Field numbers from onnx.proto:
/// ModelProto.graph 7; GraphProto.node 1, initializer 5; NodeProto.input 1, output 2, op_type 4, attribute 5;
/// AttributeProto.name 1, f 2, i 3, ints 8; TensorProto.dims 1, data_type 2 (1 = float32), float_data 4, name 8, raw_data 9.
/// </summary>
internal sealed class OnnxGraph
{
    public List<OnnxNode> Nodes { get; } = [];
    public Dictionary<string, (long[] Dims, float[] Data)> Initializers { get; } = new();

    /// <summary>Reads <paramref name="path"/>; a file that is not such an ONNX model is named with the reason.</summary>
    public static OnnxGraph Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: ONNX model not found", path);
        return Read(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads an ONNX model's bytes; <paramref name="path"/> names it in errors. Every damage ends in an
    /// <see cref="InvalidDataException"/> naming it: each length is checked against the message that holds it before
    /// the read position moves, so a corrupt length can neither run past the end nor send the reader backwards.</summary>
    internal static OnnxGraph Read(byte[] b, string path)
    {
        try { return Parse(b, path); }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentException or InvalidOperationException or OverflowException
                                       or InvalidDataException && !e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: not a readable ONNX model ({e.Message})", e);
        }
    }

    private static OnnxGraph Parse(byte[] b, string path)
    {
        var g = new OnnxGraph();
        var graph = Fields(b, 0, b.Length).SingleOrDefault(f => f.F == 7);
        if (graph.L == 0) throw new InvalidDataException($"{path}: no graph in this ONNX file");
        foreach (var f in Fields(b, graph.S, graph.L))
        {
            if (f.F == 1) g.Nodes.Add(Node(b, f.S, f.L));
            else if (f.F == 5)
            {
                var t = Fields(b, f.S, f.L);
                string name = Str(b, t.Single(x => x.F == 8));
                long[] dims = t.Where(x => x.F == 1).SelectMany(x => x.L > 0 ? Varints(b, x.S, x.L) : [(long)x.V]).ToArray();
                if ((int)t.Single(x => x.F == 2).V != 1) throw new InvalidDataException($"{path}: initializer {name} is not float32");
                var raw = t.FirstOrDefault(x => x.F == 9 && x.L > 0);
                var packed = t.FirstOrDefault(x => x.F == 4 && x.L > 0);
                var src = raw.L > 0 ? raw : packed;
                float[] data = new float[src.L / 4];
                Buffer.BlockCopy(b, src.S, data, 0, src.L);
                if (data.Length != dims.Aggregate(1L, (a, d) => a * d)) throw new InvalidDataException($"{path}: initializer {name} has {data.Length} values for [{string.Join('x', dims)}]");
                g.Initializers[name] = (dims, data);
            }
        }
        return g;
    }

    private static OnnxNode Node(byte[] b, int s, int l)
    {
        var f = Fields(b, s, l);
        var ints = new Dictionary<string, long[]>();
        var floats = new Dictionary<string, float>();
        foreach (var a in f.Where(x => x.F == 5))
        {
            var af = Fields(b, a.S, a.L);
            string name = Str(b, af.Single(x => x.F == 1));
            var list = af.Where(x => x.F == 8).SelectMany(x => x.L > 0 ? Varints(b, x.S, x.L) : [(long)x.V]).ToList();
            list.AddRange(af.Where(x => x.F == 3).Select(x => (long)x.V));
            if (list.Count > 0) ints[name] = [.. list];
            foreach (var x in af.Where(x => x.F == 2)) floats[name] = BitConverter.Int32BitsToSingle((int)x.V);
        }
        return new OnnxNode(Str(b, f.Single(x => x.F == 4)), f.Where(x => x.F == 1).Select(x => Str(b, x)).ToArray(),
                            f.Where(x => x.F == 2).Select(x => Str(b, x)).ToArray(), ints, floats);
    }

    private static string Str(byte[] b, (int F, int S, int L, ulong V) f) => Encoding.UTF8.GetString(b, f.S, f.L);

    private static List<(int F, int S, int L, ulong V)> Fields(byte[] b, int s, int len)
    {
        var r = new List<(int, int, int, ulong)>();
        if (s < 0 || len < 0 || len > b.Length - s) throw new InvalidDataException($"a field of {len} bytes at byte {s} runs past the end of the file ({b.Length} bytes)");
        int i = s, end = s + len;
        while (i < end)
        {
            ulong key = Varint(b, ref i, end);
            if (key >> 3 is 0 or > int.MaxValue) throw new InvalidDataException($"protobuf field number {key >> 3} at byte {i}");
            int f = (int)(key >> 3), w = (int)(key & 7);
            switch (w)
            {
                case 0: r.Add((f, i, 0, Varint(b, ref i, end))); break;
                case 1: Need(8); r.Add((f, i, 0, BitConverter.ToUInt64(b, i))); i += 8; break;
                case 5: Need(4); r.Add((f, i, 0, BitConverter.ToUInt32(b, i))); i += 4; break;
                case 2:
                    // Unsigned and against what is left of this message: a length from a damaged file is never cast
                    // to a negative int that would move the read position backwards (and loop).
                    ulong l = Varint(b, ref i, end);
                    if (l > (ulong)(end - i)) throw new InvalidDataException($"a field of {l} bytes at byte {i} runs past its message's end (byte {end})");
                    r.Add((f, i, (int)l, 0)); i += (int)l; break;
                default: throw new InvalidDataException($"protobuf wire type {w} at byte {i}");
            }
        }
        return r;

        void Need(int bytes)
        {
            if (bytes > end - i) throw new InvalidDataException($"a {8 * bytes}-bit field at byte {i} runs past its message's end (byte {end})");
        }
    }

    // A varint ends inside its message (before end) and within 10 bytes; the position only moves forward.
    private static ulong Varint(byte[] b, ref int i, int end)
    {
        ulong v = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (i >= end) throw new InvalidDataException($"a varint runs past its message's end (byte {end})");
            byte x = b[i++];
            v |= (ulong)(x & 0x7f) << shift;
            if (x < 0x80) return v;
        }
        throw new InvalidDataException($"a varint longer than 10 bytes at byte {i}");
    }

    private static IEnumerable<long> Varints(byte[] b, int s, int l)
    {
        var r = new List<long>(); int i = s, end = s + l;
        while (i < end) r.Add((long)Varint(b, ref i, end));
        return r;
    }
}
