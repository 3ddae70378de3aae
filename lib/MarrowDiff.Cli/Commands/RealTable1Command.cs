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
        var trainingSeeds = new Option<string?>("--training-seeds")
        {
            Description = "train each of these training seeds (comma-separated, e.g. 2017,2018,2019) on the same split (--seed), one after another; " +
                          "a seed whose answers are already in the predictions folder is not trained again (default: --seed alone)",
            HelpName = "S1,S2,…",
        };
        var fromPredictions = new Option<bool>("--from-predictions") { Description = "rebuild the table from the predictions folder that --out names, without training or reading an image" };
        var outDir = CommonOptions.Out("the table's base path: writes BASE.md, BASE.csv, BASE.png, BASE-confusion.png and the per-model test predictions in BASE-predictions/", helpName: "BASE");
        var command = new Command("real-table1",
            "The paper's Table 1 on real cells: one model per training set (OG, AG, OS low, OS high, AG+OS low, AG+OS high) and the dual stage, " +
            "scored on the same test cells, with 95% intervals and paired tests (McNemar exact, paired bootstrap of macro F1) against OG and the row above.")
        {
            data, task, profile, seed, trainingSeeds, set, pitch, models, fromPredictions, outDir,
        };
        command.SetAction(r =>
        {
            var which = r.GetValue(task) == "all" ? RealTable1Task.All : RealTable1Task.Pbc;
            string basePath = Path.GetFullPath(r.GetValue(outDir)!);
            string predictions = basePath + "-predictions";
            int splitSeed = r.GetValue(seed);
            var seeds = ParseSeeds(r.GetValue(trainingSeeds), splitSeed);
            if (!r.GetValue(fromPredictions))
            {
                var progress = new ConsoleProgress();
                var study = RealDataStudy.Open(r.GetValue(data)!, r.GetValue(profile)!, splitSeed, r.GetValue(pitch), progress, r.GetValue(set));
                if (!study.Present) throw new DirectoryNotFoundException($"--data {r.GetValue(data)}: no such folder");
                Console.WriteLine($"{study.Profile.Caveat}; task: {RealTable1Study.Name(which)}; training seeds {string.Join(", ", seeds)} on the split of seed {splitSeed}");
                foreach (int s in seeds)
                {
                    if (RealTable1Study.HasSeed(predictions, s)) { Console.WriteLine($"training seed {s}: already in {RealTable1Study.SeedFolder(predictions, s)}, not trained again"); continue; }
                    Console.WriteLine($"training seed {s}: training the seven models");
                    RealTable1Study.Run(study, which, predictions, s, r.GetValue(models) is { } m ? Path.GetFullPath(m) : null,
                                        new Progress<TrainingProgress>(p => progress.Report(p.AsWork())));
                    Console.WriteLine($"training seed {s}: answers in {RealTable1Study.SeedFolder(predictions, s)}");
                }
            }
            // Every training seed in the folder (those of earlier runs too) tests the paper's claims; the split's own seed
            // (or the first there) is shown in full, as the paper would show its one run.
            var claims = RealTable1Study.Claims(predictions, RealTable1Study.Name(which), splitSeed);
            var saved = claims.Replicates.Seeds.Select(x => x.Seed).ToList();
            int shown = saved.Contains(splitSeed) ? splitSeed : saved[0];
            var table = RealTable1Study.Load(RealTable1Study.SeedFolder(predictions, shown), RealTable1Study.Name(which), splitSeed);
            var files = claims.Save(table, basePath);
            Console.WriteLine(claims.Markdown());
            Console.WriteLine($"→ {string.Join(", ", files.Select(Path.GetFileName))} in {Path.GetDirectoryName(basePath)}; predictions in {predictions}");
            return 0;
        });
        return command;
    }

    /// <summary>The training seeds of <c>--training-seeds</c> (null: the split's seed alone), each once, in the order given.</summary>
    internal static IReadOnlyList<int> ParseSeeds(string? text, int splitSeed)
    {
        if (string.IsNullOrWhiteSpace(text)) return [splitSeed];
        var seeds = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int s))
                throw new ArgumentException($"--training-seeds {text}: '{part}' is not a seed (a whole number ≥ 0)");
            if (!seeds.Contains(s)) seeds.Add(s);
        }
        return seeds.Count > 0 ? seeds : throw new ArgumentException($"--training-seeds {text}: no seed given");
    }
}
