using System.CommandLine;
using MarrowDiff.Reports;
using MarrowDiff.Training;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow real-table1</c>: the paper's six training sets and its dual stage on real cells, with paired tests.</summary>
internal static class RealTable1Command
{
    public static Command Create()
    {
        var data = CommonOptions.Data(required: true);
        var task = new Option<string>("--task") { Description = "pbc: PBC's five-stage neutrophil series; all: every paper class of every source", DefaultValueFactory = _ => "pbc" };
        task.AcceptOnlyFromAmong("pbc", "all");
        var profile = CommonOptions.Profile("real-table1");
        var seed = CommonOptions.Seed();
        var set = CommonOptions.Set();
        var pitch = CommonOptions.Pitch();
        var models = CommonOptions.Models();
        var fromPredictions = new Option<bool>("--from-predictions") { Description = "rebuild the table from the predictions folder that --out names, without training or reading an image" };
        var outDir = CommonOptions.Out("the table's base path: writes BASE.md, BASE.csv, BASE.png, BASE-confusion.png and the per-model test predictions in BASE-predictions/", helpName: "BASE");
        var command = new Command("real-table1",
            "The paper's Table 1 on real cells: one model per training set (OG, AG, OS low, OS high, AG+OS low, AG+OS high) and the dual stage, " +
            "scored on the same test cells, with 95% intervals and paired tests (McNemar exact, paired bootstrap of macro F1) against OG and the row above.")
        {
            data, task, profile, seed, set, pitch, models, fromPredictions, outDir,
        };
        command.SetAction(r =>
        {
            var which = r.GetValue(task) == "all" ? RealTable1Task.All : RealTable1Task.Pbc;
            string basePath = Path.GetFullPath(r.GetValue(outDir)!);
            string predictions = basePath + "-predictions";
            Evaluation.PairedTable1 table;
            if (r.GetValue(fromPredictions))
                table = RealTable1Study.Load(predictions, RealTable1Study.Name(which), r.GetValue(seed));
            else
            {
                var progress = new ConsoleProgress();
                var study = RealDataStudy.Open(r.GetValue(data)!, r.GetValue(profile)!, r.GetValue(seed), r.GetValue(pitch), progress, r.GetValue(set));
                if (!study.Present) throw new DirectoryNotFoundException($"--data {r.GetValue(data)}: no such folder");
                Console.WriteLine($"{study.Profile.Caveat}; task: {RealTable1Study.Name(which)}");
                table = RealTable1Study.Run(study, which, predictions, r.GetValue(models) is { } m ? Path.GetFullPath(m) : null,
                                            new Progress<TrainingProgress>(p => progress.Report(p.AsWork())));
            }
            var files = table.Save(basePath);
            Console.WriteLine(table.Markdown());
            Console.WriteLine($"→ {string.Join(", ", files.Select(Path.GetFileName))} in {Path.GetDirectoryName(basePath)}; predictions in {predictions}");
            return 0;
        });
        return command;
    }
}
