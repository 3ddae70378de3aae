using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Preparation;
using MarrowDiff.Training;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Cli.Commands;

/// <summary>The cells a saved model is scored on by <c>evaluate</c> and <c>errors</c>: every cell of the 10 classes, or
/// the test part of the split the model was trained with (read from the path in its model.json), cut at the project's
/// pitch as in training.</summary>
internal static class CellsToScore
{
    public static (CellDataset Dataset, CellTiles Tiles, List<CellImage> Cells) Read(ModelCard card, string data, string part, string profile, int seed,
                                                                                    ConsoleProgress progress, string? pitch)
    {
        CellDataset dataset = Open(card, data, profile, seed, progress);
        var cells = dataset.PaperCells.ToList();
        if (part == "test") cells = [.. SplitOf(card, cells, "--part test").Test];
        if (cells.Count == 0) throw new ArgumentException($"{dataset.Root}: no images of the paper's 10 classes to evaluate");
        return (dataset, Tiles(card, dataset, cells, pitch, progress), cells);
    }

    /// <summary>The cells a saved model trained on, and those it was checked on while training (its validation fold;
    /// none for a model trained on all five folds), read from the split in its model.json.</summary>
    public static (CellDataset Dataset, CellTiles Tiles, List<CellImage> Training, List<CellImage> Validation) ReadTraining(ModelCard card, string data, string profile, int seed,
                                                                                                                          ConsoleProgress progress, string? pitch)
    {
        CellDataset dataset = Open(card, data, profile, seed, progress);
        var sides = SplitOf(card, dataset.PaperCells.ToList(), "the model's training cells").Sides(card.ValidationFold);
        var training = sides.Train.ToList();
        var validation = sides.Validation.ToList();
        if (training.Count == 0) throw new ArgumentException($"{dataset.Root}: none of the model's training cells is here");
        return (dataset, Tiles(card, dataset, [.. training, .. validation], pitch, progress), training, validation);
    }

    private static CellDataset Open(ModelCard card, string data, string profile, int seed, ConsoleProgress progress)
    {
        CellDataset dataset = Workbook.OpenData(data, Workbook.Resolve(profile, seed), BadFilePolicy.Stop, progress);
        // A model that also names cells outside the ten stages is scored on them too.
        return card.Outputs is { } outputs && outputs.Any(k => !k.IsStage()) ? dataset.WithNonStageOutcomes() : dataset;
    }

    private static DatasetSplit SplitOf(ModelCard card, List<CellImage> cells, string what)
    {
        string split = Checkout.Resolve(card.Split);
        if (!File.Exists(split)) throw new FileNotFoundException($"{what}: the model's split file {card.Split} is not here");
        // The split's own seed is in its file name (splits-by-cell-seedN): a model of another training seed has it apart.
        var seedInName = System.Text.RegularExpressions.Regex.Match(Path.GetFileName(split), @"seed(\d+)");
        int splitSeed = seedInName.Success ? int.Parse(seedInName.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : card.Config.Seed;
        var options = new SplitOptions(splitSeed, split.Contains("by-subject", StringComparison.Ordinal) ? SplitGrouping.Subject : SplitGrouping.Cell);
        return DatasetSplit.LoadWithOutside(split, cells, options);
    }

    // The same physical scale as training: this dataset's crops resampled to the project's pitch.
    private static CellTiles Tiles(ModelCard card, CellDataset dataset, List<CellImage> cells, string? pitch, ConsoleProgress progress)
    {
        var tiles = CellTiles.Build(cells, new OversamplingSettings(), progress: progress, scales: SourceScales.ForCrops(dataset, Pitches(card, pitch)));
        foreach (string note in tiles.Notes) Console.WriteLine(note);
        return tiles;
    }

    /// <summary>Each source's pitch, first from <c>--pitch</c>, then from the model (the pitch it learnt the source at),
    /// and for any other source nothing: <see cref="SourceScales.ForCrops"/> then estimates it from the red cells.</summary>
    public static IReadOnlyDictionary<string, double> Pitches(ModelCard card, string? pitch)
    {
        var given = new Dictionary<string, double>(SourceScales.Parse(pitch), StringComparer.Ordinal);
        foreach (var (source, um) in card.Pitches ?? new Dictionary<string, double>()) given.TryAdd(source, um);
        return given;
    }
}
