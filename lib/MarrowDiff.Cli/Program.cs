using System.CommandLine;
using MarrowDiff.Cli.Commands;
using MarrowDiff.Data;
using MarrowDiff.Notebooks;
using MarrowDiff.Torch;

namespace MarrowDiff.Cli;

/// <summary>`marrow`: the MarrowDiff command line, one file per command under Commands/. Run as
/// `dotnet run -c Release --project lib/MarrowDiff.Cli -- COMMAND …`; `marrow --help` and `marrow COMMAND --help` list
/// the commands and their options.</summary>
public static class Program
{
    /// <summary>Exit code of a command line that is itself wrong (unknown option, missing or malformed value).</summary>
    public const int UsageError = 2;

    /// <summary>Every exit code of every command, as <c>marrow --help</c> and docs/commands.md list them.</summary>
    public const string ExitCodes =
        "Exit codes: 0 done; 1 failed (the message names the file or value and the reason; a notebook's cell; a fuzz crash); " +
        "2 usage error (unknown or malformed option, nothing run); 3 done with a finding: audit found unreadable files, or count or predict " +
        "skipped unreadable images (each named with its reason), " +
        "or doctor --selftest found this CPU's narrow-convolution fault with MarrowDiff's own convolutions correct.";

    /// <summary>The device option every command takes (a recursive option of the root).</summary>
    private static Option<string> DeviceOption() =>
        new Option<string>("--device")
        {
            Description = "where models train and infer: auto (CUDA when a GPU and the CUDA build are there, else CPU), cpu or cuda " +
                          "(a CUDA build: MarrowTorchBackend=cuda in the environment of dotnet build/run); notebook workers inherit it",
            DefaultValueFactory = _ => "auto", Recursive = true,
        }.AcceptingOnly("auto", "cpu", "cuda");

    private static Option<T> AcceptingOnly<T>(this Option<T> option, params string[] values)
    {
        option.AcceptOnlyFromAmong(values);
        return option;
    }

    /// <summary>The command tree, built afresh for each parse (System.CommandLine's symbols belong to one parent).</summary>
    public static RootCommand Commands()
    {
        var root = new RootCommand("marrow - MarrowDiff command line (Choi et al. 2017, bone-marrow WBC maturation stages). " + ExitCodes)
        {
            NotebooksCommand.Create(), SynthCommand.Create(), PrepareCommand.Create(), TrainCommand.Create(), EvaluateCommand.Create(),
            ErrorsCommand.Create(), CountCommand.Create(), AuditCommand.Create(), FuzzCommand.Create(), ScaleCommand.Create(), BenchCommand.Create(), DoctorCommand.Create(),
            LearningCurveCommand.Create(), RealTable1Command.Create(), PredictCommand.Create(), RealCellsCommand.Create(), LabelsCommand.Create(), EnvelopeCommand.Create(),
        };
        root.Options.Add(DeviceOption());
        return root;
    }

    public static async Task<int> Main(string[] args)
    {
        ParseResult parsed = Commands().Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) Console.Error.WriteLine($"marrow: {error.Message}");
            Console.Error.WriteLine("(marrow --help lists the commands, marrow COMMAND --help their options)");
            return UsageError;
        }
        // Set before any tensor exists, in the environment so that notebook workers (child processes) inherit it.
        if (parsed.GetValue<string>("--device") is { } device && device != "auto") Environment.SetEnvironmentVariable(TorchRuntime.DeviceVariable, device);
        try
        {
            // Our own handler below: a failure is one line naming the file or value and the reason, not a stack trace.
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotebookFailedException or CellImageException or IOException or InvalidDataException)
        {
            Console.Error.WriteLine($"marrow: {e.Message}");
            return 1;
        }
    }
}
