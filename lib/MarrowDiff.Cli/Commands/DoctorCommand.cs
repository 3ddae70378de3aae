using System.CommandLine;
using MarrowDiff.Model;
using MarrowDiff.Torch;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow doctor</c>: which libtorch, which CPU, and (--selftest) whether this CPU's convolution gradients are right.</summary>
internal static class DoctorCommand
{
    /// <summary>Exit code when only plain nn.Conv2d's narrow convolution is faulty here, which MarrowDiff never runs.</summary>
    public const int CpuFaultRoutedAround = 3;

    public static Command Create()
    {
        var selfTest = new Option<bool>("--selftest") { Description = "checks this CPU's convolution gradients against float64 (docs/engine.md, \"The AVX-512 fault\")" };
        var iterations = new Option<int>("--iterations") { Description = "backward passes per check", DefaultValueFactory = _ => 300 };
        var command = new Command("doctor",
            "Shows which libtorch was loaded, from where, on which device, and the CPU. --selftest: exit 0 when all pass; 3 when only plain nn.Conv2d's " +
            "narrow (8-channel) convolution is faulty, which MarrowDiff never runs, so training is safe; 1 when a convolution as MarrowDiff runs it fails.")
        {
            selfTest, iterations,
        };
        command.SetAction(r =>
        {
            Console.WriteLine(TorchRuntime.Report());
            Console.WriteLine($"CPU: {CpuInfo.Current()}");
            if (!r.GetValue(selfTest)) return 0;
            int n = r.GetValue(iterations);
            Console.WriteLine($"Self-test: two 3x3 convolutions, {n} backward passes each; the gradient through the second against float64 " +
                              $"(tolerance {NumericalSelfTest.Tolerance:0e+0}), the first layer's gradients finite. oneDNN channel block here: {TorchRuntime.ConvolutionChannelBlock}.");
            var checks = NumericalSelfTest.RunAll(n, new ConsoleProgress());
            foreach (var check in checks) Console.WriteLine("  " + check);
            var projectFailures = checks.Where(c => c.UsedByProject && !c.Passed).ToList();
            if (projectFailures.Count > 0)
            {
                Console.WriteLine($"FAILED: convolutions as MarrowDiff runs them ({string.Join(", ", projectFailures.Select(c => c.Channels))} channels) gave non-finite " +
                                  "or wrong gradients on this CPU. Training here cannot be trusted. Try the AVX2 kernels (ONEDNN_MAX_CPU_ISA=AVX2 set in the shell " +
                                  "before starting marrow) and report this output with the CPU line above.");
                return 1;
            }
            if (checks.Any(c => !c.Passed))
            {
                Console.WriteLine($"This CPU has the narrow-convolution fault (docs/engine.md, \"The AVX-512 fault\"): a convolution whose channels oneDNN pads to a " +
                                  $"{TorchRuntime.ConvolutionChannelBlock}-channel block gave non-finite or wrong gradients. MarrowDiff never runs such a " +
                                  "convolution (it hands oneDNN whole channel blocks), and its own convolutions passed: training here is not affected. " +
                                  "Code of your own that runs narrow convolutions with LibTorch on this CPU is.");
                return CpuFaultRoutedAround;
            }
            Console.WriteLine("All passed: this CPU computes the convolutions' gradients correctly, the narrow case included.");
            return 0;
        });
        return command;
    }
}
