using System.Globalization;
using MarrowDiff.Data;
using MarrowDiff.Notebooks;
using MarrowDiff.Phantom;
using MarrowDiff.Preparation;
using MarrowDiff.Torch;
using MarrowDiff.Workbooks;
using MarrowDiff.Core;
using MarrowDiff.Experiments;
using MarrowDiff.Reports;

namespace MarrowDiff.Cli;

/// <summary>`marrow`: the MarrowDiff command line. Run as `dotnet run -c Release --project lib/MarrowDiff.Cli -- COMMAND …`.</summary>
public static class Program
{
    private const string Usage = """
        marrow - MarrowDiff command line (Choi et al. 2017, bone-marrow WBC maturation stages)

          notebooks [NOTEBOOK...] [--profile smoke|paper] [--data DIR|phantom] [--seed N] [--out DIR] [--cell-timeout SECONDS]
              Executes notebooks headlessly (default: every notebooks/NN-*.ipynb, in order) and writes executed
              copies with their outputs to --out (default: figures/notebooks/). Stops at the first failing cell.
          synth [--size smoke|paper] [--seed N] --out DIR
              Renders the synthetic marrow phantom (fields, 96x96 patches, manifest.csv) into DIR.
          prepare [--data DIR|phantom] [--profile smoke|paper] [--seed N] [--group-by cell|subject] [--variant AG+OS600]
                  [--fold K] [--epochs N] [--batch 40]
              Makes (or reads) the dataset's saved split, builds one training set (OG, AG, OS<N>, AG+OS<N>) from its
              training side (all folds, or all but fold K), prints what was done per class and the YUV statistics, then
              streams N epochs (default 1) through the batch loader into tensors, as training would, and reports the
              rate and peak resident memory.
          train --data DIR|phantom --variant AG+OS600 [--pair C9/C10] [--profile smoke|laptop|paper] [--seed N]
                [--group-by cell|subject] [--set KEY=VALUE ...] [--pitch SOURCE=UM_PER_PX;...] [--models DIR] --out DIR
              Five-fold cross-validation picks the hyper-parameters (cached), then trains the variant on the saved
              split's training side and saves the model to DIR: weights (model.bin and model.safetensors), model.json,
              profile.json, normalisation.json, classes.json, history.csv. --set overrides a profile value
              (epochs, local_epochs, width, input, batch, oversample=LOW,HIGH, cv_epochs, cv_variant, lr, validation_fold).
              --pair trains the dual stage's local 2-class model on the variant's images of those two classes only.
              --models is where models, cross-validation results and checkpoints are cached (default data/models); an
              interrupted run resumes from its checkpoint there.
              DIR may be a manifest dataset, folder-per-class, Matek's BM_cytomorphology_data or PBC's
              PBC_dataset_normal_DIB as downloaded. Their crops are resampled to the project's 0.16 um/px: each source's
              pitch is estimated from its red cells (or its segmented neutrophils against another source) unless
              --pitch gives it; evaluate and errors do the same on their data.
          evaluate --model DIR --data DIR|phantom [--part all|test] [--profile P] [--seed N] [--pitch ...] --out metrics.json
              Scores a saved model on a dataset (all its cells of the 10 classes, or only the test part of the split the
              model was trained with) and writes accuracy, macro and weighted precision/recall/F1, per-class metrics
              and the confusion matrix as JSON.
          errors --model DIR [--model DIR ...] [--local DIR] --data DIR|phantom [--part test|all] [--profile P] [--seed N]
                 [--occlusions 4] --out DIR
              Error analysis of a saved model (with --local, of the dual stage of it and that local model) on the test
              part of its split (or all cells): DIR/index.html, one self-contained page with the misclassified cells and
              their softmax outputs (most confident first), occlusion maps, location and rotation invariance (of every
              --model given, for comparison) and the reliability diagram with its ECE; the PNGs beside it.
          audit --data DIR|phantom [--out DIR] [--profile P] [--seed N]
              Notebook 01's data audit as a command, on any layout the loader reads (phantom, manifest, folder-per-class,
              Matek, PBC): images per class and per source, duplicate files by content hash, and every file that could not
              be read with its path and reason. Prints it and writes audit.json (to --out, default the current folder).
              Exit 0 when every file loads, 3 when some are bad (named), 2 on a usage error.
          fuzz [--data DIR|phantom] [--files 5000] [--seed 1] [--seeds 8]
              Fuzzes the image loader: --files mutated copies of --seeds cells of the dataset (truncated, bits flipped, runs
              zeroed, random bytes, headers claiming 100,000 x 100,000 px, grey, 16-bit, palette, CMYK, wrong extension,
              empty; a folder named like an image, an unreadable file, link loops, a named pipe), then reads them all.
              Prints files tried, loaded, reported, crashes and peak resident memory; exit 0 only with no crash.
          scale --data DIR|phantom [--images 60] [--overlay DIR]
              Estimates each source's pixel pitch from its red cells (7.5 um across), as the preparation does for
              sources without a given pitch; --overlay writes a few images with the red cells found boxed.
          bench [--width 1] [--input 96] [--patch N] [--batch 40] [--steps 5] [--dropout P]
              Times training steps of the paper's network (or a narrower one) on this machine. --patch feeds larger
              patches that the network average-pools to --input (the smoke profile: --input 48 --patch 96).
          doctor [--selftest] [--iterations 300]
              Shows which libtorch was loaded, from where, on which device, and the CPU. --selftest checks this CPU's
              convolution gradients against float64 (issue 11): exit 0 when all pass; 3 when only plain nn.Conv2d's
              narrow (8-channel) convolution is faulty, which MarrowDiff never runs, so training is safe; 1 when a
              convolution as MarrowDiff runs it fails.
        """;

    public static async Task<int> Main(string[] args)
    {
        try
        {
            return args switch
            {
                ["notebooks", .. var rest] => await Notebooks(new Options(rest)),
                ["synth", .. var rest] => Synth(new Options(rest)),
                ["prepare", .. var rest] => Prepare(new Options(rest)),
                ["bench", .. var rest] => Bench(new Options(rest)),
                ["train", .. var rest] => Train(new Options(rest)),
                ["evaluate", .. var rest] => Evaluate(new Options(rest)),
                ["errors", .. var rest] => Errors(new Options(rest)),
                ["scale", .. var rest] => Scale(new Options(rest)),
                ["audit", .. var rest] => Audit(new Options(rest)),
                ["fuzz", .. var rest] => Fuzz(new Options(rest)),
                ["doctor", .. var rest] => Doctor(new Options(rest)),
                ["--help" or "-h" or "help"] => Help(0),
                _ => Help(2),
            };
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"marrow: {e.Message} (marrow --help lists the commands and their options)");
            return 2;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotebookFailedException or CellImageException or IOException or InvalidDataException)
        {
            Console.Error.WriteLine($"marrow: {e.Message}");
            return 1;
        }
    }

    private static int Help(int code)
    {
        (code == 0 ? Console.Out : Console.Error).WriteLine(Usage);
        return code;
    }

    private static async Task<int> Notebooks(Options o)
    {
        string root = Workbook.RepositoryRoot;
        var notebooks = o.Positional.Count > 0
            ? o.Positional.Select(Path.GetFullPath).ToList()
            : Directory.GetFiles(Path.Combine(root, "notebooks"), "*.ipynb").Where(p => char.IsDigit(Path.GetFileName(p)[0])).Order(StringComparer.Ordinal).ToList();
        if (notebooks.Count == 0) throw new ArgumentException("no notebooks found");
        string outDir = Path.GetFullPath(o.Value("out") ?? Path.Combine(root, "figures", "notebooks"));
        var parameters = new Dictionary<string, string>();
        foreach (string name in new[] { "profile", "data", "seed" })
            if (o.Value(name) is { } v) parameters[name] = name == "data" && v != Workbook.PhantomData ? Path.GetFullPath(v) : v;
        var runner = new NotebookRunner
        {
            CellTimeout = TimeSpan.FromSeconds(double.Parse(o.Value("cell-timeout") ?? "1200", CultureInfo.InvariantCulture)),
        };
        o.RejectUnknown();

        foreach (string nb in notebooks)
        {
            string name = Path.GetFileName(nb);
            Console.WriteLine($"▶ {name} ({string.Join(", ", parameters.Select(kv => $"{kv.Key}={kv.Value}").DefaultIfEmpty("defaults"))})");
            var progress = new Progress<NotebookProgress>(p => Console.WriteLine($"  cell {p.CellNumber} (code {p.CodeCellNumber}/{p.CodeCells})  {p.Elapsed:m\\:ss}"));
            NotebookResult r = await runner.RunAsync(nb, Path.Combine(outDir, name), parameters, progress);
            Console.WriteLine($"✓ {name}: {r.CodeCells} code cells in {r.Elapsed.TotalSeconds:0.0} s → {r.ExecutedCopy}");
        }
        return 0;
    }

    private static int Synth(Options o)
    {
        PhantomSize size = PhantomSize.Parse(o.Value("size") ?? "smoke");
        int seed = int.Parse(o.Value("seed") ?? "2017", CultureInfo.InvariantCulture);
        string outDir = o.Value("out") ?? throw new UsageException("synth needs --out DIR");
        o.RejectUnknown();
        Console.WriteLine($"Rendering the synthetic marrow phantom: {size.Name} size ({size.Subjects} subjects × {size.SlidesPerSubject} slides, {size.Fields} fields, {size.Cells} cells), seed {seed}");
        MarrowPhantom.Write(outDir, size, seed, new ConsoleProgress());
        Console.WriteLine($"Wrote {Path.GetFullPath(outDir)} (manifest.csv, patches/, fields/, phantom.json)");
        return 0;
    }

    private static int Prepare(Options o)
    {
        string profile = o.Value("profile") ?? "smoke", data = o.Value("data") ?? Workbook.PhantomData, groupBy = o.Value("group-by") ?? "cell";
        int seed = int.Parse(o.Value("seed") ?? "2017", CultureInfo.InvariantCulture);
        int epochs = int.Parse(o.Value("epochs") ?? "1", CultureInfo.InvariantCulture);
        int batch = int.Parse(o.Value("batch") ?? "40", CultureInfo.InvariantCulture);
        int? fold = o.Value("fold") is { } f ? int.Parse(f, CultureInfo.InvariantCulture) : null;
        string variantName = o.Value("variant") ?? "AG+OS600";
        o.RejectUnknown();

        var progress = new ConsoleProgress();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (_, dataset, prep) = Workbook.Open(data, Workbook.Resolve(profile, seed), groupBy, progress, policy: BadFilePolicy.Stop);
        Console.WriteLine(prep.SplitSummary());
        Console.WriteLine(prep.SourceSummary());
        var variant = prep.Variant(variantName);
        var set = prep.Build(variant, fold, progress);
        Console.WriteLine(prep.PreparationTable(variant, fold));
        var normalisation = set.Normalisation(prep.Provenance.Data);
        Console.WriteLine($"YUV mean {string.Join(", ", normalisation.Mean.Select(m => m.ToString("0.00000", CultureInfo.InvariantCulture)))}; " +
                          $"std {string.Join(", ", normalisation.Std.Select(m => m.ToString("0.00000", CultureInfo.InvariantCulture)))} ({normalisation.ComputedOn})");
        Console.WriteLine($"prepared in {clock.Elapsed.TotalSeconds:0.0} s; cell tiles hold {prep.Tiles.Bytes / 1048576.0:0.0} MB");

        TorchRuntime.Initialise();
        var loader = new BatchLoader(set, normalisation, batch, seed);
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var epochClock = System.Diagnostics.Stopwatch.StartNew();
            int n = 0;
            double checksum = 0;
            foreach (Batch b in loader.Epoch(epoch))
            {
                using (b)
                {
                    // Into tensors exactly as a training step takes them, so the measurement includes TorchSharp's copy.
                    var (x, y) = b.ToTensors();
                    using (x) using (y) checksum += x.mean().item<float>();
                }
                n++;
                progress.Report(new WorkProgress($"epoch {epoch + 1}/{epochs} of {variant.Name}", n, loader.BatchesPerEpoch, epochClock.Elapsed));
            }
            Console.WriteLine($"epoch {epoch + 1}: {set.Count} images in {n} batches, {epochClock.Elapsed.TotalSeconds:0.0} s " +
                              $"({set.Count / epochClock.Elapsed.TotalSeconds:0} images/s); mean of batch means {checksum / n:0.0000}");
        }
        using var me = System.Diagnostics.Process.GetCurrentProcess();
        Console.WriteLine($"peak resident memory {me.PeakWorkingSet64 / 1048576.0:0} MB");
        return 0;
    }

    private static int Train(Options o)
    {
        string profileName = o.Value("profile") ?? "smoke", data = o.Value("data") ?? Workbook.PhantomData, groupBy = o.Value("group-by") ?? "cell";
        int seed = int.Parse(o.Value("seed") ?? "2017", CultureInfo.InvariantCulture);
        string variantName = o.Value("variant") ?? throw new UsageException("train needs --variant (OG, AG, OS<N>, AG+OS<N>)");
        string outDir = o.Value("out") ?? throw new UsageException("train needs --out DIR");
        string? pitch = o.Value("pitch");
        string modelsRoot = Path.GetFullPath(o.Value("models") ?? Workbook.ModelsRoot);
        var pair = o.Value("pair") is { } pairText ? CellTaxonomy.ParsePair(pairText) : ((CellClass, CellClass)?)null;
        var profile = Workbook.Resolve(profileName, seed, o.Values("set"));
        o.RejectUnknown();

        var progress = new ConsoleProgress();
        // The resolved profile (with every --set) travels on: its name stamps the split summary, the cross-validation
        // table and the model; profile.json holds all of it.
        var (_, dataset, prep) = Workbook.Open(data, profile, groupBy, progress, pitch, BadFilePolicy.Stop);
        foreach (string note in prep.Tiles.Notes) Console.WriteLine(note);
        var experiment = new MarrowDiff.Experiments.Experiment(prep, profile, modelsRoot) { Progress = new Progress<MarrowDiff.Training.TrainingProgress>(p => progress.Report(p.AsWork())) };
        Console.WriteLine($"{profile.Caveat}; {prep.Split.Options}; data {prep.Provenance.Data}");
        var cv = experiment.CrossValidate();
        Console.WriteLine(MarrowDiff.Reports.TrainingReports.CrossValidationTable(cv, prep.Provenance, profile));
        using var model = pair is var (first, second)
            ? experiment.TrainLocal(prep.Variant(variantName), cv.Chosen, first, second)
            : experiment.Train(prep.Variant(variantName), cv.Chosen);
        model.Save(outDir, profile.ToJson());
        foreach (string line in experiment.Log) Console.WriteLine(line);
        var last = model.History[^1];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{model.Name}: {model.Card.TrainingImages} training images, {last.Epoch} epochs, final training loss {last.TrainLoss:0.000}, " +
            $"validation accuracy (fold {profile.ValidationFold}) {100 * (last.ValidationAccuracy ?? 0):0.0}% → {Path.GetFullPath(outDir)}"));
        return 0;
    }

    private static int Evaluate(Options o)
    {
        string modelDir = o.Value("model") ?? throw new UsageException("evaluate needs --model DIR");
        string data = o.Value("data") ?? throw new UsageException("evaluate needs --data DIR");
        string outFile = o.Value("out") ?? throw new UsageException("evaluate needs --out FILE.json");
        string part = o.Value("part") ?? "all";
        string? pitch = o.Value("pitch");
        string profileName = o.Value("profile") ?? "smoke";
        int seed = int.Parse(o.Value("seed") ?? "2017", CultureInfo.InvariantCulture);
        o.RejectUnknown();

        using var model = MarrowDiff.Model.TrainedModel.Load(modelDir);
        var progress = new ConsoleProgress();
        var (dataset, tiles, cells) = CellsToScore(model, data, part, profileName, seed, progress, pitch);
        var set = SampleSet.Original(tiles, cells, part == "test" ? "test set" : "all cells");
        // A dual stage's local model is scored on its own two classes.
        if (model.Outputs.Count != CellTaxonomy.All.Count) set = set.Restrict(model.Outputs);
        var predictions = new MarrowDiff.Evaluation.Predictions(model.Name, set, model.Probabilities(set));
        var metrics = predictions.Metrics;
        var json = metrics.ToJsonObject();
        json["model"] = Path.GetFullPath(modelDir);
        json["data"] = dataset.Root;
        json["part"] = part;
        json["images"] = set.Count;
        json["excluded_other_labels"] = dataset.OtherCounts;
        MarrowDiff.Core.AtomicFile.WriteAllText(outFile, System.Text.Json.JsonSerializer.Serialize(json, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{set.Count} images: accuracy {100 * metrics.Accuracy:0.00}%, macro F1 {100 * metrics.MacroF1:0.00}%, weighted F1 {100 * metrics.WeightedF1:0.00}% → {Path.GetFullPath(outFile)}"));
        return 0;
    }

    /// <summary>The cells a saved model is scored on: every cell of the 10 classes, or the test part of the split the
    /// model was trained with (read from the path in its model.json).</summary>
    private static (CellDataset Dataset, CellTiles Tiles, List<CellImage> Cells) CellsToScore(MarrowDiff.Model.TrainedModel model, string data, string part,
                                                                                            string profileName, int seed, ConsoleProgress progress, string? pitch)
    {
        if (part is not ("all" or "test")) throw new ArgumentException($"--part {part}: use all or test");
        CellDataset dataset = Workbook.OpenData(data, Workbook.Resolve(profileName, seed), BadFilePolicy.Stop, progress);
        var cells = dataset.PaperCells.ToList();
        if (part == "test")
        {
            if (!File.Exists(model.Card.Split)) throw new FileNotFoundException($"--part test: the model's split file {model.Card.Split} is not here");
            var options = new SplitOptions(model.Card.Config.Seed, model.Card.Split.Contains("by-subject", StringComparison.Ordinal) ? SplitGrouping.Subject : SplitGrouping.Cell);
            cells = DatasetSplit.Load(model.Card.Split, cells, options).Test.ToList();
        }
        if (cells.Count == 0) throw new ArgumentException($"{dataset.Root}: no images of the paper's 10 classes to evaluate");
        // The same physical scale as training: this dataset's crops resampled to the project's pitch.
        var tiles = CellTiles.Build(cells, new OversamplingSettings(), progress: progress, scales: SourceScales.ForCrops(dataset, SourceScales.Parse(pitch)));
        foreach (string note in tiles.Notes) Console.WriteLine(note);
        return (dataset, tiles, cells);
    }

    private static int Errors(Options o)
    {
        var modelDirs = o.Values("model");
        if (modelDirs.Count == 0) throw new UsageException("errors needs --model DIR (repeat --model to compare invariance with other models)");
        string data = o.Value("data") ?? throw new UsageException("errors needs --data DIR");
        string outDir = o.Value("out") ?? throw new UsageException("errors needs --out DIR");
        string? localDir = o.Value("local");
        string? pitch = o.Value("pitch");
        string part = o.Value("part") ?? "test";
        string profileName = o.Value("profile") ?? "smoke";
        int seed = int.Parse(o.Value("seed") ?? "2017", CultureInfo.InvariantCulture);
        int occlusions = int.Parse(o.Value("occlusions") ?? "4", CultureInfo.InvariantCulture);
        o.RejectUnknown();

        var models = modelDirs.Select(MarrowDiff.Model.TrainedModel.Load).ToList();
        using var local = localDir is null ? null : MarrowDiff.Model.TrainedModel.Load(localDir);
        try
        {
            var main = models[0];
            if (main.Outputs.Count != CellTaxonomy.All.Count) throw new ArgumentException($"{modelDirs[0]} is a local model; give the global model as --model and this one as --local");
            MarrowDiff.Model.ICellClassifier analysed = local is null ? main : new MarrowDiff.Model.DualStageClassifier(main, local);
            var progress = new ConsoleProgress();
            var (dataset, tiles, cells) = CellsToScore(main, data, part, profileName, seed, progress, pitch);
            var set = SampleSet.Original(tiles, cells, part == "test" ? "test set" : "all cells");
            Console.WriteLine($"scoring {set.Count} cells with {analysed.Name} …");
            var predictions = new MarrowDiff.Evaluation.Predictions(analysed.Name, set, analysed.Probabilities(set));
            var provenance = MarrowDiff.Core.Provenance.For(main.Card.Profile, dataset.Root, main.Card.Config.Seed);
            string caveat = main.Card.Profile == "paper" ? "paper profile" : $"{main.Card.Profile} profile: not comparable to the paper";
            var analysis = new MarrowDiff.Analysis.ErrorAnalysis(predictions, main, tiles, cells, provenance, caveat);
            var compare = new List<MarrowDiff.Model.ICellClassifier> { analysed };
            compare.AddRange(models.Skip(1));
            Console.WriteLine($"occlusion, invariance and calibration of {string.Join(", ", compare.Select(c => c.Name))} …");
            string page = analysis.WriteReport(outDir, compare, occlusions);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{predictions.Wrong.Count} of {predictions.Count} cells wrong (accuracy {100 * predictions.Metrics.Accuracy:0.00}%) → {page}"));
            return 0;
        }
        finally { foreach (var m in models) m.Dispose(); }
    }

    private static int Audit(Options o)
    {
        string data = o.Value("data") ?? throw new UsageException("audit needs --data DIR (or phantom)");
        string outDir = Path.GetFullPath(o.Value("out") ?? ".");
        string profile = o.Value("profile") ?? "smoke";
        int seed = o.Int("seed", 2017);
        o.RejectUnknown();
        var progress = new ConsoleProgress();
        // Every file is read (and decoded) once; a bad one is listed with its reason, never thrown or dropped.
        CellDataset dataset = Workbook.OpenData(data, Workbook.Resolve(profile, seed), BadFilePolicy.Skip, progress);
        var audit = DatasetAudit.Of(dataset, progress);
        Console.Write(audit.Text());
        string file = audit.Save(outDir, MarrowDiff.Core.Provenance.For(profile, dataset.Root, seed).Stamp);
        Console.WriteLine($"{(audit.AllReadable ? "every file loads" : $"{audit.BadFiles.Count} bad file(s)")} → {file}");
        return audit.AllReadable ? 0 : 3;
    }

    private static int Fuzz(Options o)
    {
        string shared = Path.GetFullPath(Path.Combine(Workbook.RepositoryRoot, "..", "shared", "real-cells"));
        string data = o.Value("data") ?? (Directory.Exists(shared) ? shared : Workbook.PhantomData);
        int files = o.Int("files", 5000), seed = o.Int("seed", 1), seeds = o.Int("seeds", 8);
        o.RejectUnknown();
        CellDataset dataset = Workbook.OpenData(data, ExperimentProfile.Smoke, BadFilePolicy.Stop, new ConsoleProgress());
        var reader = new CellImageReader();
        // Seed cells spread over the dataset's classes and sources, the same ones for the same dataset.
        var seedImages = dataset.Cells.GroupBy(c => (c.Source, c.Label.ToString())).OrderBy(g => g.Key.ToString(), StringComparer.Ordinal)
                                .Select(g => g.First()).Take(seeds).Select(c => reader.Read(c.Path)).ToList();
        string root = Directory.CreateTempSubdirectory("marrow-fuzz-").FullName;
        try
        {
            Console.WriteLine($"fuzzing the loader: {files} files from {seedImages.Count} cells of {dataset.Root}, seed {seed}, in {root}");
            var cases = LoaderFuzzer.Write(root, seedImages, files, seed);
            var report = LoaderFuzzer.Run(root, cases, reader);
            Console.Write(report);
            return report.Crashes == 0 && report.Unaccounted.Count == 0 ? 0 : 1;
        }
        finally { Directory.Delete(root, recursive: true); } // links are removed, not followed
    }

    private static int Scale(Options o)
    {
        string data = o.Value("data") ?? throw new UsageException("scale needs --data DIR");
        int images = int.Parse(o.Value("images") ?? "60", CultureInfo.InvariantCulture);
        string? overlay = o.Value("overlay");
        o.RejectUnknown();
        CellDataset dataset = Workbook.OpenData(data, ExperimentProfile.Smoke, BadFilePolicy.Stop, new ConsoleProgress());
        var reader = new CellImageReader();
        foreach (var scale in SourceScales.Estimate(dataset, images, reader))
            Console.WriteLine(scale);
        if (overlay is not null)
        {
            Directory.CreateDirectory(overlay);
            foreach (var group in SourceScales.Sample(dataset, 4))
                foreach (var (path, i) in group.Value.Select((p, i) => (p, i)))
                    MarrowDiff.Imaging.RedCellScale.Overlay(reader.Read(path)).SavePng(Path.Combine(overlay, $"{group.Key}-{i}.png"));
            Console.WriteLine($"overlays → {Path.GetFullPath(overlay)}");
        }
        return 0;
    }

    private static int Bench(Options o)
    {
        var network = new MarrowDiff.Model.NetworkConfig(
            Width: double.Parse(o.Value("width") ?? "1", CultureInfo.InvariantCulture),
            InputSize: int.Parse(o.Value("input") ?? "96", CultureInfo.InvariantCulture));
        if (o.Value("dropout") is { } d)
        {
            double p = double.Parse(d, CultureInfo.InvariantCulture);
            network = network with { FirstDropout = p, Dropout = p, ClassifierDropout = p };
        }
        int batch = int.Parse(o.Value("batch") ?? "40", CultureInfo.InvariantCulture);
        int steps = int.Parse(o.Value("steps") ?? "5", CultureInfo.InvariantCulture);
        int patch = int.Parse(o.Value("patch") ?? network.InputSize.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        o.RejectUnknown();
        var (mean, parameters, threads) = MarrowDiff.Training.StepBenchmark.Measure(network, batch, steps, patch);
        string fed = patch == network.InputSize ? "" : $" (fed {patch}-px patches, pooled)";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"width {network.Width}, input {network.InputSize}{fed}, batch {batch}: {parameters:N0} parameters, {mean:0.000} s per training step ({steps} steps, {threads} threads, {TorchRuntime.Device.type}) on {CpuInfo.Current()}"));
        return 0;
    }

    private static int Doctor(Options o)
    {
        bool selfTest = o.Flag("selftest");
        int iterations = int.Parse(o.Value("iterations") ?? "300", CultureInfo.InvariantCulture);
        o.RejectUnknown();
        Console.WriteLine(TorchRuntime.Report());
        Console.WriteLine($"CPU: {CpuInfo.Current()}");
        if (!selfTest) return 0;

        Console.WriteLine($"Self-test: two 3x3 convolutions, {iterations} backward passes each; the gradient through the second against float64 " +
                          $"(tolerance {MarrowDiff.Model.NumericalSelfTest.Tolerance:0e+0}), the first layer's gradients finite. oneDNN channel block here: {TorchRuntime.ConvolutionChannelBlock}.");
        var checks = MarrowDiff.Model.NumericalSelfTest.RunAll(iterations, new ConsoleProgress());
        foreach (var check in checks) Console.WriteLine("  " + check);
        var projectFailures = checks.Where(c => c.UsedByProject && !c.Passed).ToList();
        if (projectFailures.Count > 0)
        {
            Console.WriteLine($"FAILED: convolutions as MarrowDiff runs them ({string.Join(", ", projectFailures.Select(c => c.Channels))} channels) gave non-finite " +
                              "or wrong gradients on this CPU. Training here cannot be trusted. Try the AVX2 kernels (ONEDNN_MAX_CPU_ISA=AVX2 set in the shell " +
                              "before starting marrow) and report this output with the CPU line above.");
            return 1;
        }
        if (checks.Any(c => !c.Passed))
        {
            Console.WriteLine($"This CPU has the narrow-convolution fault (issue 11): a convolution whose channels oneDNN pads to a " +
                              $"{TorchRuntime.ConvolutionChannelBlock}-channel block gave non-finite or wrong gradients. MarrowDiff never runs such a " +
                              "convolution (it hands oneDNN whole channel blocks), and its own convolutions passed: training here is not affected. " +
                              "Code of your own that runs narrow convolutions with LibTorch on this CPU is.");
            return 3;
        }
        Console.WriteLine("All passed: this CPU computes the convolutions' gradients correctly, the narrow case included.");
        return 0;
    }

    /// <summary>--name value options and positional arguments; unknown options are errors, not ignored.</summary>
    private sealed class Options
    {
        private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<string>> _all = new(StringComparer.Ordinal);
        private readonly HashSet<string> _read = new(StringComparer.Ordinal);

        public Options(IReadOnlyList<string> args)
        {
            for (int i = 0; i < args.Count; i++)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal)) { Positional.Add(args[i]); continue; }
                string key = args[i][2..];
                if (FlagNames.Contains(key)) { _values[key] = "true"; continue; }
                if (i + 1 >= args.Count) throw new UsageException($"--{key} needs a value");
                _values[key] = args[++i];
                (_all.TryGetValue(key, out var list) ? list : _all[key] = []).Add(args[i]);
            }
        }

        /// <summary>Options that take no value.</summary>
        private static readonly HashSet<string> FlagNames = new(StringComparer.Ordinal) { "selftest" };

        public List<string> Positional { get; } = [];

        public bool Flag(string key) => Value(key) is not null;

        /// <summary>An integer option; a value that is not one is a usage error naming the option.</summary>
        public int Int(string key, int fallback) => Value(key) is not { } v ? fallback
            : int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n
            : throw new UsageException($"--{key} {v}: not a whole number");

        public string? Value(string key) { _read.Add(key); return _values.GetValueOrDefault(key); }

        /// <summary>Every value of a repeatable option (e.g. several --set).</summary>
        public IReadOnlyList<string> Values(string key) { _read.Add(key); return _all.GetValueOrDefault(key) ?? []; }

        public void RejectUnknown()
        {
            var unknown = _values.Keys.Where(k => !_read.Contains(k)).ToList();
            if (unknown.Count > 0) throw new UsageException($"unknown option(s): {string.Join(", ", unknown.Select(k => "--" + k))}");
        }
    }
}

/// <summary>The command line itself is wrong (an unknown option, a missing or malformed value): exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
