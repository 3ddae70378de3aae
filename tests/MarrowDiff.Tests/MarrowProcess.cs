using System.Diagnostics;
using System.Text;

namespace MarrowDiff.Tests;

/// <summary>Runs the `marrow` command line (the built marrow.dll beside the tests) in a child process, as a user
/// would: for tests of whole commands, of determinism across processes, and of processes killed mid-run.</summary>
public static class MarrowProcess
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "marrow.dll");

    /// <summary>Hang guards, not speed targets (those are benchmarks): a command that has not ended by then never will.
    /// Generous because CI machines differ (with and without AVX-512) and are shared: a short command (doctor, audit, a
    /// one-step bench) runs in seconds; a training command (2,000+ smoke steps) in minutes.</summary>
    public static readonly TimeSpan ShortCommand = TimeSpan.FromMinutes(10), TrainingCommand = TimeSpan.FromMinutes(60);

    /// <summary>Starts `dotnet marrow.dll ARGS` with output captured (read asynchronously, so a chatty process never
    /// blocks on a full pipe).</summary>
    public static (Process Process, StringBuilder Output) Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll);
        foreach (string a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        var output = new StringBuilder();
        var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return (p, output);
    }

    /// <summary>Runs to the end (or kills the process tree after <paramref name="timeout"/> and fails) and returns the
    /// exit code with everything it printed.</summary>
    public static (int ExitCode, string Output) Run(IEnumerable<string> args, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var (p, output) = Start(args, environment);
        using (p)
        {
            if (!p.WaitForExit(timeout))
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"marrow {string.Join(' ', args)} did not finish in {timeout}:\n{output}");
            }
            p.WaitForExit(); // drains the asynchronous readers
            lock (output) return (p.ExitCode, output.ToString());
        }
    }
}
