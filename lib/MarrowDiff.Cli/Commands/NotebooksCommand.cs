using System.CommandLine;
using MarrowDiff.Notebooks;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow notebooks</c>: executes notebooks headlessly, as CI does.</summary>
internal static class NotebooksCommand
{
    public static Command Create()
    {
        var notebooks = new Argument<string[]>("NOTEBOOK") { Description = "notebooks to run (default: every notebooks/NN-*.ipynb, in order)", Arity = ArgumentArity.ZeroOrMore };
        var profile = new Option<string?>("--profile") { Description = "overrides the notebooks' profile parameter (smoke, laptop, paper, real, …: see marrow train --help)" };
        var data = new Option<string?>("--data") { Description = "overrides the notebooks' data parameter: a dataset folder or \"phantom\"", HelpName = "DIR|phantom" };
        var seed = new Option<int?>("--seed") { Description = "overrides the notebooks' seed parameter", HelpName = "N" };
        var outDir = CommonOptions.Out("where the executed copies with their outputs go (default: figures/notebooks/)", required: false);
        var cellTimeout = new Option<double?>("--cell-timeout") { Description = "a cell running longer fails the notebook (its worker process is killed); default: the profile's own (smoke 20 min, the paper's 72 h: its training cells are long)", HelpName = "SECONDS" };
        var command = new Command("notebooks", "Executes notebooks headlessly and writes executed copies with their outputs, readable without a kernel (each chart followed by its PNG; images of real cells left out, so the copies can be committed); stops at the first failing cell.")
        {
            notebooks, profile, data, seed, outDir, cellTimeout,
        };
        command.SetAction(async (r, cancel) =>
        {
            string root = Workbook.RepositoryRoot;
            var given = r.GetValue(notebooks) ?? [];
            var paths = given.Length > 0
                ? given.Select(Path.GetFullPath).ToList()
                : Directory.GetFiles(Path.Combine(root, "notebooks"), "*.ipynb").Where(p => char.IsDigit(Path.GetFileName(p)[0])).Order(StringComparer.Ordinal).ToList();
            if (paths.Count == 0) throw new ArgumentException("no notebooks found");
            string output = Path.GetFullPath(r.GetValue(outDir) ?? Path.Combine(root, "figures", "notebooks"));
            var parameters = new Dictionary<string, string>();
            if (r.GetValue(profile) is { } p) parameters["profile"] = p;
            if (r.GetValue(data) is { } d) parameters["data"] = d != Workbook.PhantomData ? Path.GetFullPath(d) : d;
            if (r.GetValue(seed) is { } s) parameters["seed"] = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
            // The profile carries how long its longest cell may take; an explicit --cell-timeout overrides it.
            var timeout = r.GetValue(cellTimeout) is { } seconds ? TimeSpan.FromSeconds(seconds)
                : Experiments.ExperimentProfile.Parse(r.GetValue(profile) ?? Experiments.ExperimentProfile.Smoke.Name).Run.CellTimeout;
            var runner = new NotebookRunner { CellTimeout = timeout };

            foreach (string nb in paths)
            {
                string name = Path.GetFileName(nb);
                Console.WriteLine($"▶ {name} ({string.Join(", ", parameters.Select(kv => $"{kv.Key}={kv.Value}").DefaultIfEmpty("defaults"))})");
                // Printed on the runner's own thread, in the order the worker sent them (Progress<T> would post them to the pool).
                var progress = new InOrder(p => Console.WriteLine(p.Message is { } inside
                    ? $"      {inside}"
                    : $"  cell {p.CellNumber} (code {p.CodeCellNumber}/{p.CodeCells})  {p.Elapsed:m\\:ss}"));
                NotebookResult result = await runner.RunAsync(nb, Path.Combine(output, name), parameters, progress);
                Console.WriteLine($"✓ {name}: {result.CodeCells} code cells in {result.Elapsed.TotalSeconds:0.0} s → {result.ExecutedCopy}");
            }
            return 0;
        });
        return command;
    }

    private sealed class InOrder(Action<NotebookProgress> report) : IProgress<NotebookProgress>
    {
        public void Report(NotebookProgress value) => report(value);
    }
}
