using System.CommandLine;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow audit</c>: notebook 01's data audit as a command; exit 0 every file loads, 3 some are bad.</summary>
internal static class AuditCommand
{
    /// <summary>Exit code when some files could not be read (each is named with its reason).</summary>
    public const int SomeFilesBad = 3;

    public static Command Create()
    {
        var data = CommonOptions.Data(required: true);
        var outDir = CommonOptions.Out("where audit.json goes (default: the current folder)", required: false);
        var profile = CommonOptions.Profile();
        var seed = CommonOptions.Seed();
        var command = new Command("audit",
            "Notebook 01's data audit on any layout the loader reads (phantom, manifest, folder-per-class, Matek, PBC): images per class and per source, " +
            "duplicate files by content hash, and every file that could not be read with its path and reason. Prints it and writes audit.json. " +
            "Exit 0 when every file loads, 3 when some are bad (named), 2 on a usage error.")
        {
            data, outDir, profile, seed,
        };
        command.SetAction(r =>
        {
            var progress = new ConsoleProgress();
            var resolved = Workbook.Resolve(r.GetValue(profile)!, r.GetValue(seed));
            // Every file is read (and decoded) once; a bad one is listed with its reason, never thrown or dropped.
            CellDataset dataset = Workbook.OpenData(r.GetValue(data)!, resolved, BadFilePolicy.Skip, progress);
            var audit = DatasetAudit.Of(dataset, progress);
            Console.Write(audit.Text());
            string file = audit.Save(Path.GetFullPath(r.GetValue(outDir) ?? "."), Provenance.For(resolved.Name, dataset.Root, resolved.Seed).Stamp);
            Console.WriteLine($"{(audit.AllReadable ? "every file loads" : $"{audit.BadFiles.Count} bad file(s)")} → {file}");
            return audit.AllReadable ? 0 : SomeFilesBad;
        });
        return command;
    }
}
