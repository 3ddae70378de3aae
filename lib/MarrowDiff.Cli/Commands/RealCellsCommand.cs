using System.CommandLine;
using MarrowDiff.Data;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow real-cells build</c>: the real-cell development folder rebuilt from the public downloads.</summary>
internal static class RealCellsCommand
{
    /// <summary>Exit code when a listed file is missing or its bytes differ (each named).</summary>
    public const int FilesDiffer = 3;

    public static Command Create()
    {
        var pbc = new Option<string?>("--pbc") { Description = "PBC's PBC_dataset_normal_DIB folder as downloaded (Mendeley Data, doi:10.17632/snkd93bnjr.1)", HelpName = "DIR" };
        var matek = new Option<string?>("--matek") { Description = "Matek's BM_cytomorphology_data folder as downloaded (TCIA, doi:10.7937/TCIA.AXH3-T579)", HelpName = "DIR" };
        var manifest = new Option<string?>("--manifest") { Description = "the manifest to build (default: the committed data/real-cells-manifest.csv)", HelpName = "CSV" };
        var acceptChanged = new Option<bool>("--accept-changed") { Description = "copy a file whose bytes differ from the manifest's as it is, and list it in the built folder's changed-files.csv (default: stop, naming it)" };
        var outDir = CommonOptions.Out("the folder to build (replaced whole, or not at all)");
        var build = new Command("build",
            "Copies exactly the files the manifest lists from PBC's and Matek's downloads into --out, in each dataset's own layout, with the manifest beside " +
            "them, and checks every file's SHA-256. Every missing file and every file whose bytes differ is named; exit 3 and nothing built unless " +
            "--accept-changed (a missing file always stops it). Read --out with --data, as ../shared/real-cells.")
        {
            pbc, matek, manifest, acceptChanged, outDir,
        };
        build.SetAction(r =>
        {
            string list = r.GetValue(manifest) ?? DefaultManifest;
            if (!File.Exists(list)) throw new FileNotFoundException($"--manifest {list}: no such file", list);
            var entries = RealCellsFolder.Read(list);
            var downloads = new Dictionary<string, string>();
            foreach (var (source, option) in new[] { ("PBC", r.GetValue(pbc)), ("Matek", r.GetValue(matek)) })
            {
                if (option is null) continue;
                if (!Directory.Exists(option)) throw new DirectoryNotFoundException($"--{source.ToLowerInvariant()} {option}: no such folder");
                downloads[source] = Path.GetFullPath(option);
            }
            foreach (string needed in entries.Select(e => e.Source).Distinct())
                if (!downloads.ContainsKey(needed))
                    throw new ArgumentException($"{list} lists {entries.Count(e => e.Source == needed)} {needed} files: give --{needed.ToLowerInvariant()} DIR");
            var result = RealCellsFolder.Build(entries, downloads, r.GetValue(outDir)!, r.GetValue(acceptChanged), new ConsoleProgress());
            foreach (var p in result.Problems) Console.WriteLine(p);
            if (result.Folder is null)
            {
                Console.WriteLine($"nothing built: {result.Missing.Count()} missing, {result.Changed.Count()} with other bytes" +
                                  (result.Missing.Any() ? "" : " (--accept-changed copies those as they are and lists them)"));
                return FilesDiffer;
            }
            Console.WriteLine($"{result.Copied} files → {result.Folder}" + (result.Problems.Count > 0 ? $"; {result.Problems.Count} with other bytes listed in changed-files.csv" : "; every file's bytes as listed"));
            return result.Problems.Count > 0 ? FilesDiffer : 0;
        });
        return new Command("real-cells", "The real-cell development folder: `build` makes it from the public downloads.") { build };
    }

    /// <summary>The committed manifest of the development folder.</summary>
    public static string DefaultManifest => Path.Combine(Workbook.DataRoot, "real-cells-manifest.csv");
}
