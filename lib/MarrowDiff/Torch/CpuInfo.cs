namespace MarrowDiff.Torch;

/// <summary>
/// The CPU this process runs on, as far as numerical kernels care: its name, x86 family and model (which families
/// the project has met, and what they are: docs/machines.md, "CPU families") and whether it has AVX-512 (oneDNN then
/// runs its 16-lane kernels). Every benchmark and
/// self-test names it, because the same code takes different kernels on different CPUs (docs/engine.md, "The AVX-512 fault").
/// </summary>
public sealed record CpuInfo(string ModelName, int? Family, int? Model, bool Avx512, bool Avx512Bf16, int Threads)
{
    /// <summary>Reads /proc/cpuinfo on Linux; elsewhere only the thread count is known.</summary>
    public static CpuInfo Current()
    {
        string name = "unknown CPU";
        int? family = null, model = null;
        var flags = new HashSet<string>(StringComparer.Ordinal);
        if (OperatingSystem.IsLinux() && File.Exists("/proc/cpuinfo"))
        {
            // The first processor's block describes them all (machines here are homogeneous).
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.Length == 0) break;
                int colon = line.IndexOf(':');
                if (colon < 0) continue;
                string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
                switch (key)
                {
                    case "model name": name = value; break;
                    case "cpu family" when int.TryParse(value, out int f): family = f; break;
                    case "model" when int.TryParse(value, out int m): model = m; break;
                    case "flags": flags.UnionWith(value.Split(' ', StringSplitOptions.RemoveEmptyEntries)); break;
                }
            }
        }
        return new CpuInfo(name, family, model, flags.Contains("avx512f"), flags.Contains("avx512_bf16"), Environment.ProcessorCount);
    }

    public override string ToString() =>
        $"{ModelName}{(Family is { } f ? $" (family {f}, model {Model})" : "")}, {Threads} threads, " +
        (Avx512 ? $"AVX-512{(Avx512Bf16 ? " with BF16" : "")}" : "no AVX-512");
}
