using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Evaluation;
using MarrowDiff.Imaging;
using MarrowDiff.Preparation;
using MarrowDiff.Training;

namespace MarrowDiff.Experiments;

/// <summary>Real labelled cells as a study reads them: the folder asked for, what was read there (null when the folder
/// is absent, so that views can say how to get the data instead of failing), the profile, and each resampled source's
/// pitch (given or estimated).</summary>
public sealed record RealCells(string Data, CellDataset? Dataset, ExperimentProfile Profile, Provenance? Provenance, IReadOnlyDictionary<string, SourceScale> Scales)
{
    public bool Present => Dataset is not null;

    public int Seed => Profile.Seed;

    /// <summary>The caveat every result on these cells carries.</summary>
    public string Caveat => $"{Profile.Caveat}; real images";
}

/// <summary>One task on real images: its preparation, the trained classifier (a model, or a fold ensemble with its
/// cross-validation) and its predictions on the task's test cells.</summary>
public sealed record RealTask(string Name, DataPreparation Prep, Experiment Experiment, ISavedClassifier Model, Predictions Test, FoldEnsembleResult? Folds = null)
{
    /// <summary>The paper's classes the task has cells of (the macro averages run over these).</summary>
    public IReadOnlyList<CellClass> Classes => Prep.Split.Cells.Select(c => c.Label.Class!.Value).Distinct().Order().ToList();
}
