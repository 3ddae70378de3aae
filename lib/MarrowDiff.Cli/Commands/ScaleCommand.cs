using System.CommandLine;
using MarrowDiff.Data;
using MarrowDiff.Experiments;
using MarrowDiff.Imaging;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow scale</c>: each source's pixel pitch from its red cells.</summary>
internal static class ScaleCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data(required: true);
        var images = new Option<int>("--images") { Description = "images per source to measure", DefaultValueFactory = _ => 60 };
        var overlay = new Option<string?>("--overlay") { Description = "writes a few images per source with the red cells found boxed", HelpName = "DIR" };
        var command = new Command("scale",
            "Estimates each source's pixel pitch from its red cells (7.5 um across), as the preparation does for sources without a given pitch.")
        {
            data, images, overlay,
        };
        command.SetAction(r =>
        {
            CellDataset dataset = Workbook.OpenData(r.GetValue(data)!, ExperimentProfile.Smoke, BadFilePolicy.Stop, new ConsoleProgress());
            var reader = new CellImageReader();
            foreach (var scale in SourceScales.Estimate(dataset, r.GetValue(images), reader))
                Console.WriteLine(scale);
            if (r.GetValue(overlay) is { } folder)
            {
                Directory.CreateDirectory(folder);
                foreach (var group in SourceScales.Sample(dataset, 4))
                    foreach (var (path, i) in group.Value.Select((p, i) => (p, i)))
                        RedCellScale.Overlay(reader.Read(path)).SavePng(Path.Combine(folder, $"{group.Key}-{i}.png"));
                Console.WriteLine($"overlays → {Path.GetFullPath(folder)}");
            }
            return 0;
        });
        return command;
    }
}
