using System.Diagnostics;
using System.Text.Json;

namespace MarrowDiff.Core;

/// <summary>Where a figure or table came from: every output carries it (profile, data, seed, commit), and
/// synthetic data says so.</summary>
public sealed record Provenance(string Profile, string Data, int Seed, string Commit, bool Synthetic)
{
    /// <summary>The file a synthetic dataset carries at its root (the phantom writes it, with its size and seed): data
    /// without it are real images.</summary>
    public const string SyntheticDataCard = "phantom.json";

    /// <summary>Describes a dataset folder: the phantom by size and seed, anything else by folder name.</summary>
    public static Provenance For(string profile, string datasetRoot, int seed)
    {
        var phantom = SyntheticCard(datasetRoot);
        string data = phantom is null
            ? Path.GetFileName(Path.TrimEndingDirectorySeparator(datasetRoot))
            : $"synthetic phantom ({phantom["size"]} size, phantom seed {phantom["seed"]})";
        return new Provenance(profile, data, seed, CurrentCommit(datasetRoot), phantom is not null);
    }

    /// <summary>The top-level values of a synthetic dataset's card, or null for real data.</summary>
    public static IReadOnlyDictionary<string, string>? SyntheticCard(string datasetRoot)
    {
        string meta = Path.Combine(datasetRoot, SyntheticDataCard);
        if (!File.Exists(meta)) return null;
        using var doc = JsonDocument.Parse(File.ReadAllText(meta));
        return doc.RootElement.EnumerateObject()
                  .Where(p => p.Value.ValueKind is not JsonValueKind.Object)
                  .ToDictionary(p => p.Name, p => p.Value.ToString(), StringComparer.Ordinal);
    }

    /// <summary>One line for a stamp or caption.</summary>
    public string Stamp => $"{(Synthetic ? "SYNTHETIC - " : "")}data: {Data} | profile: {Profile} | seed: {Seed} | commit: {Commit}";

    public override string ToString() => Stamp;

    /// <summary>The short commit of the MarrowDiff checkout (found from this library's location), or "unknown".</summary>
    public static string CurrentCommit(string? near = null)
    {
        foreach (string? dir in new[] { Path.GetDirectoryName(typeof(Provenance).Assembly.Location), near, Environment.CurrentDirectory })
        {
            if (dir is null || !Directory.Exists(dir)) continue;
            try
            {
                var psi = new ProcessStartInfo("git", "rev-parse --short HEAD") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
                using var p = Process.Start(psi);
                if (p is null) continue;
                string output = p.StandardOutput.ReadToEnd().Trim();
                p.WaitForExit(5000);
                if (p.ExitCode == 0 && output.Length > 0)
                {
                    // figures/ is left out: the figures a run writes (tracked files) would otherwise mark every later
                    // figure of the same run as made from changed code.
                    var status = new ProcessStartInfo("git", "status --porcelain --untracked-files=no -- \":(top,exclude)figures\"") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
                    using var s = Process.Start(status);
                    string dirty = s?.StandardOutput.ReadToEnd().Trim() ?? "";
                    s?.WaitForExit(5000);
                    return dirty.Length > 0 ? output + "+changes" : output;
                }
            }
            catch (System.ComponentModel.Win32Exception) { break; } // no git on this machine
        }
        return "unknown";
    }
}
