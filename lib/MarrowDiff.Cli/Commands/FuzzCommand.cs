using System.CommandLine;
using MarrowDiff.Data;
using MarrowDiff.Experiments;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow fuzz</c>: the image loader against thousands of damaged files.</summary>
internal static class FuzzCommand
{
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "where the seed cells come from (default: ../shared/real-cells if present, else the phantom)", HelpName = "DIR|phantom" };
        var files = new Option<int>("--files") { Description = "mutated files to write and read", DefaultValueFactory = _ => 5000 };
        var seed = new Option<int>("--seed") { Description = "seeds the mutations", DefaultValueFactory = _ => 1 };
        var seeds = new Option<int>("--seeds") { Description = "how many cells (spread over classes and sources) are mutated", DefaultValueFactory = _ => 8 };
        var command = new Command("fuzz",
            "Fuzzes the image loader: mutated copies of cells (truncated, bits flipped, runs zeroed, random bytes, headers claiming 100,000 x 100,000 px, " +
            "grey, 16-bit, palette, CMYK, wrong extension, empty; a folder named like an image, an unreadable file, link loops, a named pipe), then reads " +
            "them all. Prints files tried, loaded, reported, crashes and peak resident memory; exit 0 only with no crash.")
        {
            data, files, seed, seeds,
        };
        command.SetAction(r =>
        {
            string shared = Workbook.SharedRealCells;
            string source = r.GetValue(data) ?? (Directory.Exists(shared) ? shared : Workbook.PhantomData);
            int n = r.GetValue(files), s = r.GetValue(seed);
            CellDataset dataset = Workbook.OpenData(source, ExperimentProfile.Smoke, BadFilePolicy.Stop, new ConsoleProgress());
            var reader = new CellImageReader();
            // Seed cells spread over the dataset's classes and sources, the same ones for the same dataset.
            var seedImages = dataset.Cells.GroupBy(c => (c.Source, c.Label.ToString())).OrderBy(g => g.Key.ToString(), StringComparer.Ordinal)
                                    .Select(g => g.First()).Take(r.GetValue(seeds)).Select(c => reader.Read(c.Path)).ToList();
            string root = Directory.CreateTempSubdirectory("marrow-fuzz-").FullName;
            try
            {
                Console.WriteLine($"fuzzing the loader: {n} files from {seedImages.Count} cells of {dataset.Root}, seed {s}, in {root}");
                var cases = LoaderFuzzer.Write(root, seedImages, n, s);
                var report = LoaderFuzzer.Run(root, cases, reader);
                Console.Write(report);
                return report.Crashes == 0 && report.Unaccounted.Count == 0 ? 0 : 1;
            }
            finally { Directory.Delete(root, recursive: true); } // links are removed, not followed
        });
        return command;
    }
}
