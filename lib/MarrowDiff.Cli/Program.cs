using System.CommandLine;
using MarrowDiff.Cli.Commands;
using MarrowDiff.Data;
using MarrowDiff.Notebooks;

namespace MarrowDiff.Cli;

/// <summary>`marrow`: the MarrowDiff command line, one file per command under Commands/. Run as
/// `dotnet run -c Release --project lib/MarrowDiff.Cli -- COMMAND …`; `marrow --help` and `marrow COMMAND --help` list
/// the commands and their options.</summary>
public static class Program
{
    /// <summary>Exit code of a command line that is itself wrong (unknown option, missing or malformed value).</summary>
    public const int UsageError = 2;

    /// <summary>The command tree, built afresh for each parse (System.CommandLine's symbols belong to one parent).</summary>
    public static RootCommand Commands() => new("marrow - MarrowDiff command line (Choi et al. 2017, bone-marrow WBC maturation stages)")
    {
        NotebooksCommand.Create(), SynthCommand.Create(), PrepareCommand.Create(), TrainCommand.Create(), EvaluateCommand.Create(),
        ErrorsCommand.Create(), CountCommand.Create(), AuditCommand.Create(), FuzzCommand.Create(), ScaleCommand.Create(), BenchCommand.Create(), DoctorCommand.Create(),
        LearningCurveCommand.Create(), RealTable1Command.Create(),
    };

    public static async Task<int> Main(string[] args)
    {
        ParseResult parsed = Commands().Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) Console.Error.WriteLine($"marrow: {error.Message}");
            Console.Error.WriteLine("(marrow --help lists the commands, marrow COMMAND --help their options)");
            return UsageError;
        }
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
