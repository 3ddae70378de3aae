using System.CommandLine;
using System.Globalization;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Preparation;
using MarrowDiff.Reports;
using MarrowDiff.Torch;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Cli.Commands;

/// <summary><c>marrow prepare</c>: one training set built and streamed through the batch loader, as training would.</summary>
internal static class PrepareCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data();
        var profile = CommonOptions.Profile();
        var seed = CommonOptions.Seed();
        var groupBy = CommonOptions.GroupBy();
        var variant = new Option<string>("--variant") { Description = "the training set: OG, AG, OS<N>, AG+OS<N>", DefaultValueFactory = _ => "AG+OS600" };
        var fold = new Option<int?>("--fold") { Description = "leave this fold out of the training side (the validation fold)", HelpName = "K" };
        var epochs = new Option<int>("--epochs") { Description = "epochs to stream through the loader", DefaultValueFactory = _ => 1 };
        var batch = new Option<int>("--batch") { Description = "batch size", DefaultValueFactory = _ => 40 };
        var command = new Command("prepare",
            "Makes (or reads) the dataset's saved split, builds one training set from its training side (all folds, or all but --fold), prints what was " +
            "done per class and the YUV statistics, then streams --epochs epochs through the batch loader into tensors, as training would, and reports " +
            "the rate and peak resident memory.")
        {
            data, profile, seed, groupBy, variant, fold, epochs, batch,
        };
        command.SetAction(r =>
        {
            var progress = new ConsoleProgress();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var (_, _, prep) = Workbook.Open(r.GetValue(data)!, Workbook.Resolve(r.GetValue(profile)!, r.GetValue(seed)), r.GetValue(groupBy)!, progress, policy: BadFilePolicy.Stop);
            Console.WriteLine(prep.SplitSummary());
            Console.WriteLine(prep.SourceSummary());
            var trainingSet = prep.Variant(r.GetValue(variant)!);
            int? validationFold = r.GetValue(fold);
            var set = prep.Build(trainingSet, validationFold, progress);
            Console.WriteLine(prep.PreparationTable(trainingSet, validationFold));
            var normalisation = set.Normalisation(prep.Provenance.Data);
            Console.WriteLine($"YUV mean {string.Join(", ", normalisation.Mean.Select(m => m.ToString("0.00000", CultureInfo.InvariantCulture)))}; " +
                              $"std {string.Join(", ", normalisation.Std.Select(m => m.ToString("0.00000", CultureInfo.InvariantCulture)))} ({normalisation.ComputedOn})");
            Console.WriteLine($"prepared in {clock.Elapsed.TotalSeconds:0.0} s; cell tiles hold {prep.Tiles.Bytes / 1048576.0:0.0} MB");

            TorchRuntime.Initialise();
            int n = r.GetValue(epochs);
            var loader = new BatchLoader(set, normalisation, r.GetValue(batch), r.GetValue(seed));
            for (int epoch = 0; epoch < n; epoch++)
            {
                var epochClock = System.Diagnostics.Stopwatch.StartNew();
                int batches = 0;
                double checksum = 0;
                foreach (Batch b in loader.Epoch(epoch))
                {
                    using (b)
                    {
                        // Into tensors exactly as a training step takes them, so the measurement includes TorchSharp's copy.
                        var (x, y) = b.ToTensors();
                        using (x) using (y) checksum += x.mean().item<float>();
                    }
                    batches++;
                    progress.Report(new WorkProgress($"epoch {epoch + 1}/{n} of {trainingSet.Name}", batches, loader.BatchesPerEpoch, epochClock.Elapsed));
                }
                Console.WriteLine($"epoch {epoch + 1}: {set.Count} images in {batches} batches, {epochClock.Elapsed.TotalSeconds:0.0} s " +
                                  $"({set.Count / epochClock.Elapsed.TotalSeconds:0} images/s); mean of batch means {checksum / batches:0.0000}");
            }
            using var me = System.Diagnostics.Process.GetCurrentProcess();
            Console.WriteLine($"peak resident memory {me.PeakWorkingSet64 / 1048576.0:0} MB");
            return 0;
        });
        return command;
    }
}
