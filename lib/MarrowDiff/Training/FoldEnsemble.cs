using System.Text.Json;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Preparation;

namespace MarrowDiff.Training;

/// <summary>A saved classifier: one trained model, or an ensemble of them. What <c>marrow evaluate</c> scores.</summary>
public interface ISavedClassifier : ICellClassifier, IDisposable
{
    /// <summary>How the classifier was made (an ensemble: its first member's card, with the ensemble's name).</summary>
    ModelCard Card { get; }

    /// <summary>Where it was loaded from or saved to (null: only in memory).</summary>
    string? Folder { get; }

    /// <summary>Seconds spent training it (an ensemble: all its members), from the saved histories.</summary>
    double TrainingSeconds { get; }
}

/// <summary>
/// The models of a k-fold cross-validation used together: model k was trained on every training-side cell except fold
/// k and validated on fold k, so the folds give the cross-validated score and the k models answer together, each cell's
/// softmax the mean of theirs. With a few hundred cells per class, k models that each missed a different fifth of the
/// cells disagree where each is unsure, and the mean is steadier than any one of them: the same cells bought twice.
/// Saved as a folder holding <see cref="ManifestFile"/> and one model folder per member.
/// </summary>
public sealed class FoldEnsemble : ISavedClassifier
{
    public const string ManifestFile = "ensemble.json";

    public FoldEnsemble(IReadOnlyList<TrainedModel> members, string? folder = null)
    {
        if (members.Count == 0) throw new ArgumentException("an ensemble needs at least one model", nameof(members));
        var outputs = members[0].Outputs;
        foreach (var m in members)
            if (!m.Outputs.SequenceEqual(outputs))
                throw new ArgumentException($"{m.Name}: its classes differ from the ensemble's first member", nameof(members));
        Members = members; Folder = folder;
    }

    public IReadOnlyList<TrainedModel> Members { get; }
    public string? Folder { get; private set; }

    public ModelCard Card => Members.Count == 1
        ? Members[0].Card with { Variant = $"{Members[0].Card.Variant}, fold-{Members[0].Card.ValidationFold} model" }
        : Members[0].Card with { Variant = $"{Members[0].Card.Variant}, {Members.Count}-fold ensemble", ValidationFold = null };

    public string Name => Card.Variant;

    public IReadOnlyList<CellClass> Outputs => Members[0].Outputs;

    public double TrainingSeconds => Members.Sum(m => m.TrainingSeconds);

    /// <summary>The mean of the members' softmax outputs (each member normalises with its own training statistics).</summary>
    public float[,] Probabilities(SampleSet set)
    {
        float[,]? sum = null;
        foreach (var m in Members)
        {
            float[,] p = m.Probabilities(set);
            if (sum is null) { sum = p; continue; }
            for (int i = 0; i < p.GetLength(0); i++)
                for (int c = 0; c < p.GetLength(1); c++) sum[i, c] += p[i, c];
        }
        for (int i = 0; i < sum!.GetLength(0); i++)
            for (int c = 0; c < sum.GetLength(1); c++) sum[i, c] /= Members.Count;
        return sum;
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    private sealed record Manifest(string Kind, IReadOnlyList<string> Members, IReadOnlyDictionary<string, double>? Scores);

    /// <summary>Saves every member into its own subfolder (fold1, fold2, …) and the manifest, under a temporary name
    /// renamed at the end, so a folder that exists is complete.</summary>
    public void Save(string folder, string profileJson, IReadOnlyDictionary<string, double>? scores = null)
    {
        Folder = AtomicFile.WriteFolder(folder, temp =>
        {
            var names = new List<string>();
            foreach (var m in Members)
            {
                string name = m.Card.ValidationFold is { } k ? $"fold{k}" : $"member{names.Count + 1}";
                m.Save(Path.Combine(temp, name), profileJson, keepFolder: true);
                names.Add(name);
            }
            AtomicFile.WriteAllText(Path.Combine(temp, ManifestFile), JsonSerializer.Serialize(new Manifest("fold-ensemble", names, scores), Json));
            AtomicFile.WriteAllText(Path.Combine(temp, TrainedModel.ProfileFile), profileJson);
            AtomicFile.WriteAllText(Path.Combine(temp, ModelReadme.FileName), ModelReadme.For(Name, Card, Outputs, Members[0].Normalisation, scores, Members.Count));
        });
    }

    /// <summary>The trained models that answer for a classifier: an ensemble's members, or the model itself.</summary>
    /// <summary>Forward passes a classifier makes a cell: eight with test-time D4, summed over an ensemble's members.</summary>
    public static int PassesPerCell(ISavedClassifier classifier) => MembersOf(classifier).Sum(m => m.TestTimeD4 ? 8 : 1);

    public static IReadOnlyList<TrainedModel> MembersOf(ISavedClassifier classifier) => classifier switch
    {
        FoldEnsemble e => e.Members,
        TrainedModel m => [m],
        _ => throw new ArgumentException($"{classifier.Name}: not a trained model or a fold ensemble", nameof(classifier)),
    };

    /// <summary>A saved model folder: an ensemble when it holds <see cref="ManifestFile"/>, else one model.</summary>
    public static ISavedClassifier LoadAny(string folder)
    {
        string manifest = Path.Combine(folder, ManifestFile);
        if (!File.Exists(manifest)) return TrainedModel.Load(folder);
        var m = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(manifest), Json) ?? throw new InvalidDataException($"{manifest}: empty");
        if (m.Members is not { Count: > 0 }) throw new InvalidDataException($"{manifest}: an ensemble without members");
        var members = new List<TrainedModel>();
        try
        {
            foreach (string name in m.Members)
            {
                if (name.Contains('/') || name.Contains('\\') || name.Contains("..", StringComparison.Ordinal))
                    throw new InvalidDataException($"{manifest}: member '{name}' is not a subfolder name");
                members.Add(TrainedModel.Load(Path.Combine(folder, name)));
            }
        }
        catch { foreach (var x in members) x.Dispose(); throw; }
        return new FoldEnsemble(members, Path.GetFullPath(folder));
    }

    public void Dispose() { foreach (var m in Members) m.Dispose(); }
}
