using System.Diagnostics;
using System.Text.Json;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Model;
using MarrowDiff.Tests.Architecture;
using MarrowDiff.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MarrowDiff.Tests.Model;

/// <summary>
/// A saved model folder in PyTorch, as its README.md tells a user to load it: the README's snippet, its placeholders
/// filled, runs under Debian's PyTorch with bench/marrow_model.py and must give TorchSharp's probabilities on the same
/// patches (PNG files both read). Needs <c>/usr/bin/python3</c> with torch, numpy and PIL (Debian's python3-torch
/// brings all three); where they are absent the tests are skipped saying so, unless MARROW_REQUIRE_PYTORCH=1 (set by
/// .ci/run after it installed them), which turns the absence into a failure.
/// </summary>
public class PyTorchTwinTests(ITestOutputHelper output)
{
    private const string Python = "/usr/bin/python3";

    [SkippableFact]
    public void TheReadmeSnippet_GivesTorchSharpsProbabilities_ForAVggFoldEnsembleAnsweringOverTheEightPoses()
    {
        var patches = Patches(6);
        var normalisation = ColourNormalisation.Compute(patches, "test patches");
        // VGG-13 at 1/8 width on 96-px patches pooled to 48 px, as the real profiles' small networks: the pooling, the
        // depth's plan, the D4 mean and the members' mean must all be what PyTorch computes too.
        var config = new VggConfig(Width: 0.125, InputSize: 48) { Depth = 13 };
        var members = Enumerable.Range(1, 2).Select(k =>
        {
            var net = new VggNet(config, (ulong)k);
            Perturb(net, k);
            var card = Card(new TrainingConfig(config, new Hyperparameters(0.01, 0.9, 0, 1e-4), 1) { Refinements = Refinements.Recommended }, k, outputs: null);
            return new TrainedModel(net, normalisation, card, []);
        }).ToList();
        AssertPyTorchAgrees(dir => new FoldEnsemble(members).Save(dir, "{}"), patches);
    }

    [SkippableFact]
    public void TheReadmeSnippet_GivesTorchSharpsProbabilities_ForTheImageNetResNet18()
    {
        var patches = Patches(4);
        var normalisation = ColourNormalisation.Compute(patches, "test patches");
        // real-transfer's network: CNTK's padding, the input adapter, the 96 → 128 px bilinear resize, five stages.
        var config = new ResNetConfig(InputSize: 128, Classes: 5);
        using var net = new ResNet18(config, 7);
        net.AdaptInput(normalisation);
        Perturb(net, 3);
        var card = Card(new TrainingConfig(config, new Hyperparameters(0.01, 0.9, 0, 1e-4), 1), null,
                        [.. Enumerable.Range(6, 5).Select(i => (CellClass)i)]);
        AssertPyTorchAgrees(dir => new TrainedModel(net, normalisation, card, []).Save(dir, "{}"), patches);
    }

    private void AssertPyTorchAgrees(Action<string> save, IReadOnlyList<RgbImage> patches)
    {
        string? missing = PyTorchMissing();
        if (missing is not null && Environment.GetEnvironmentVariable("MARROW_REQUIRE_PYTORCH") == "1")
            Assert.Fail($"MARROW_REQUIRE_PYTORCH=1 but {missing}");
        Skip.If(missing is not null, missing);

        string root = Path.Combine(Path.GetTempPath(), "marrow-pytorch-" + Guid.NewGuid().ToString("N"));
        try
        {
            string folder = Path.Combine(root, "model");
            save(folder);
            var files = patches.Select((p, i) => { string f = Path.Combine(root, $"cell{i}.png"); p.SavePng(f); return f; }).ToList();
            // TorchSharp's answer, from the folder as saved and the PNG files as written.
            var read = files.Select(f => RgbImage.FromPng(File.ReadAllBytes(f))).ToList();
            float[,] expected;
            using (var loaded = FoldEnsemble.LoadAny(folder))
            {
                var answers = FoldEnsemble.MembersOf(loaded).Select(m => m.PatchProbabilities(read)).ToList();
                expected = new float[read.Count, answers[0].GetLength(1)];
                for (int i = 0; i < read.Count; i++)
                    for (int c = 0; c < expected.GetLength(1); c++) expected[i, c] = answers.Average(a => a[i, c]);
            }

            string readme = File.ReadAllText(Path.Combine(folder, ModelReadme.FileName));
            string snippet = PythonBlock(readme);
            foreach (string placeholder in new[] { ModelReadme.RepositoryPlaceholder, ModelReadme.FolderPlaceholder, ModelReadme.FilesPlaceholder })
                Assert.True(snippet.Split(placeholder).Length == 2, $"the README's snippet should hold '{placeholder}' once:\n{snippet}");
            string script = snippet.Replace(ModelReadme.RepositoryPlaceholder, LayeringTests.RepositoryRoot())
                                   .Replace(ModelReadme.FolderPlaceholder, folder)
                                   .Replace(ModelReadme.FilesPlaceholder, JsonSerializer.Serialize(files))
                            + "import json\nprint(\"PROBABILITIES \" + json.dumps(probabilities.tolist()))\n";
            string scriptFile = Path.Combine(root, "snippet.py");
            File.WriteAllText(scriptFile, script);
            var (code, stdout, stderr) = Run(Python, scriptFile);
            Assert.True(code == 0, $"the README's snippet failed ({code}):\n{stderr}\n{script}");
            // The snippet's own lines: each file, its predicted class, its probability.
            Assert.Contains($"{files[0]} ", stdout);
            string line = stdout.Split('\n').Single(l => l.StartsWith("PROBABILITIES ", StringComparison.Ordinal));
            var got = JsonSerializer.Deserialize<float[][]>(line["PROBABILITIES ".Length..])!;

            Assert.Equal(read.Count, got.Length);
            double worst = 0, spread = 0;
            for (int i = 0; i < read.Count; i++)
            {
                Assert.Equal(expected.GetLength(1), got[i].Length);
                for (int c = 0; c < got[i].Length; c++)
                {
                    worst = Math.Max(worst, Math.Abs(got[i][c] - expected[i, c]));
                    spread = Math.Max(spread, Math.Abs(expected[i, c] - 1.0 / got[i].Length));
                }
            }
            output.WriteLine($"largest difference PyTorch − TorchSharp {worst:E2}; largest distance from uniform {spread:F3}");
            // A network that answered the same for every input would agree by accident: these answers are far from it.
            Assert.True(spread > 0.05, $"the test network's answers are too close to uniform ({spread}) to tell networks apart");
            Assert.True(worst < 1e-4, $"PyTorch's probabilities differ from TorchSharp's by {worst}");
        }
        finally { if (Directory.Exists(root)) Directory.Delete(root, true); }
    }

    /// <summary>The README's one ```python block.</summary>
    private static string PythonBlock(string readme)
    {
        int start = readme.IndexOf("```python\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no ```python block in the model's README:\n{readme}");
        start += "```python\n".Length;
        int end = readme.IndexOf("```", start, StringComparison.Ordinal);
        return readme[start..end];
    }

    /// <summary>Null when Debian's python has torch, numpy and PIL; otherwise what is missing.</summary>
    private static string? PyTorchMissing()
    {
        if (!File.Exists(Python)) return $"{Python} is absent (Debian's python3 with python3-torch: apt-get install python3-torch)";
        var (code, _, stderr) = Run(Python, "-c", "import torch, numpy, PIL");
        return code == 0 ? null : $"{Python} cannot import torch, numpy and PIL ({stderr.Trim().Split('\n')[^1]}): apt-get install python3-torch";
    }

    private static (int Code, string Stdout, string Stderr) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) start.ArgumentList.Add(a);
        // One thread: the test suite runs beside it, and the answer must not depend on how many PyTorch uses.
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} ran past 3 minutes");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static ModelCard Card(TrainingConfig config, int? fold, IReadOnlyList<CellClass>? outputs) =>
        new("AG", config, "test", "test patches", "0123456789ab", "split.json", 6, fold, "test", Synthetic: true, outputs);

    /// <summary>Moves every BatchNorm's statistics, scale and shift off their initial 0 and 1, so that a BatchNorm read
    /// wrong (swapped mean and variance, a missed ε) changes the answer.</summary>
    private static void Perturb(nn.Module net, int seed)
    {
        using var _ = no_grad();
        using var generator = new Generator((ulong)seed);
        foreach (var (name, t) in net.state_dict())
        {
            if (name.EndsWith("running_mean", StringComparison.Ordinal) || name.EndsWith(".bias", StringComparison.Ordinal) && name.Contains("bn", StringComparison.Ordinal))
                t.add_(randn(t.shape, generator: generator).mul_(0.1));
            else if (name.EndsWith("running_var", StringComparison.Ordinal) || name.EndsWith(".weight", StringComparison.Ordinal) && name.Contains("bn", StringComparison.Ordinal))
                t.mul_(rand(t.shape, generator: generator).add_(0.5));
        }
    }

    /// <summary>Cell-like patches: a dark violet nucleus of its own size and place on a pink cytoplasm, over a pale
    /// background, with noise: inputs whose answers differ from patch to patch.</summary>
    private static List<RgbImage> Patches(int count)
    {
        var rng = new Random(11);
        return Enumerable.Range(0, count).Select(_ =>
        {
            int n = CellPatch.Size;
            var px = new byte[n * n * 3];
            double cx = 40 + rng.Next(16), cy = 40 + rng.Next(16), cell = 26 + rng.Next(14), nucleus = 8 + rng.Next(16);
            for (int y = 0; y < n; y++)
                for (int x = 0; x < n; x++)
                {
                    double d = Math.Sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy));
                    (double r, double g, double b) = d < nucleus ? (90, 50, 140) : d < cell ? (220, 160, 200) : (240, 225, 230);
                    int i = (y * n + x) * 3;
                    px[i] = (byte)Math.Clamp(r + rng.Next(-20, 21), 0, 255);
                    px[i + 1] = (byte)Math.Clamp(g + rng.Next(-20, 21), 0, 255);
                    px[i + 2] = (byte)Math.Clamp(b + rng.Next(-20, 21), 0, 255);
                }
            return new RgbImage(n, n, px);
        }).ToList();
    }
}
