using System.CommandLine;
using MarrowDiff.Phantom;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow synth</c>: renders the synthetic marrow phantom.</summary>
internal static class SynthCommand
{
    public static Command Create()
    {
        var size = new Option<string>("--size") { Description = "smoke (235 cells, CI) or paper (200 fields, 2,174 cells, as the paper's dataset)", DefaultValueFactory = _ => "smoke" };
        size.AcceptOnlyFromAmong("smoke", "paper");
        var seed = CommonOptions.Seed();
        var outDir = CommonOptions.Out("the folder to render into");
        var command = new Command("synth", "Renders the synthetic marrow phantom (fields, 96x96 patches, manifest.csv) into --out.") { size, seed, outDir };
        command.SetAction(r =>
        {
            PhantomSize phantom = PhantomSize.Parse(r.GetValue(size)!);
            int s = r.GetValue(seed);
            string folder = r.GetValue(outDir)!;
            Console.WriteLine($"Rendering the synthetic marrow phantom: {phantom.Name} size ({phantom.Subjects} subjects × {phantom.SlidesPerSubject} slides, {phantom.Fields} fields, {phantom.Cells} cells), seed {s}");
            MarrowPhantom.Write(folder, phantom, s, new ConsoleProgress());
            Console.WriteLine($"Wrote {Path.GetFullPath(folder)} (manifest.csv, patches/, fields/, phantom.json)");
            return 0;
        });
        return command;
    }
}
