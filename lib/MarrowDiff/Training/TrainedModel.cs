using System.Text.Json;
using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Model;
using MarrowDiff.Preparation;
using TorchSharp;

namespace MarrowDiff.Training;

/// <summary>What a saved model says about how it was made.</summary>
/// <param name="DataFingerprint">SHA-256 over the training data's cells and labels, tiles and pitches.</param>
/// <param name="Outputs">The class of each network output; absent for the 10-class task (C1…C10), two classes for a
/// dual-stage local model.</param>
/// <param name="Pitches">The pixel pitch (µm per pixel) each source's crops were read at in training, by source: what
/// scoring a new folder of a known source needs when its own images cannot say (Matek's crops have no whole red cell).
/// Null for data already at the project's pitch (the phantom, 96-px patches).</param>
public sealed record ModelCard(string Variant, TrainingConfig Config, string Profile, string Data, string DataFingerprint, string Split,
                               int TrainingImages, int? ValidationFold, string Commit, bool Synthetic, IReadOnlyList<CellClass>? Outputs = null,
                               IReadOnlyDictionary<string, double>? Pitches = null)
{
    /// <summary>The training images of each class ("C9" → 4,000), in output order, classes without one left out: the
    /// network has an output for every class of the task (ten, the paper's), but a model trained on PBC's five stages
    /// has only ever seen five, and its card must say so. Null in a card saved before it was recorded.</summary>
    public IReadOnlyDictionary<string, int>? TrainedClasses { get; init; }

    /// <summary>The SGD steps the model was trained for: epochs times batches an epoch (an epoch's last batch may be
    /// short). Training sets of other sizes at the same epochs get other numbers of steps, which tables must show.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long Steps => (long)Config.Epochs * ((TrainingImages + Config.BatchSize - 1) / Config.BatchSize);
}

/// <summary>Anything that gives softmax probabilities for a set of cell images: a trained model, or the dual-stage
/// combination of two. The error analyses take this, so they work on either, and on models built for tests.</summary>
public interface ICellClassifier
{
    /// <summary>Short name for tables and legends (the training set, or "dual-stage …").</summary>
    string Name { get; }

    /// <summary>The class of each output column.</summary>
    IReadOnlyList<CellClass> Outputs { get; }

    /// <summary>Softmax probabilities [samples, outputs] of every sample of <paramref name="set"/>, in order.</summary>
    float[,] Probabilities(SampleSet set);
}

/// <summary>
/// A trained network with everything needed to use it on new images: weights (MarrowDiff's archive, and
/// safetensors for PyTorch users), the network and training configuration, the YUV normalisation statistics of its
/// training set, the class list, and the per-epoch history. Saved as a folder written under a temporary name and
/// renamed, so a folder that exists is complete.
/// </summary>
public sealed class TrainedModel : ISavedClassifier
{
    public const string SafetensorsFile = "model.safetensors", CardFile = "model.json",
                        NormalisationFile = "normalisation.json", ClassesFile = "classes.json", HistoryFile = "history.csv", ProfileFile = "profile.json";

    public TrainedModel(CellNetwork network, ColourNormalisation normalisation, ModelCard card, IReadOnlyList<EpochRecord> history, string? folder = null)
    {
        Network = network; Normalisation = normalisation; Card = card; History = history; Folder = folder;
    }

    public CellNetwork Network { get; }
    public ColourNormalisation Normalisation { get; }
    public ModelCard Card { get; }
    public IReadOnlyList<EpochRecord> History { get; }
    public string? Folder { get; private set; }

    public double TrainingSeconds => History.Sum(h => h.Seconds);

    /// <summary>The class each output stands for, in output order (C1…C10 for the 10-class task).</summary>
    public static IReadOnlyList<string> ClassNames => CellTaxonomy.All.Select(c => c.Label()).ToList();

    public string Name => Card.Outputs is { Count: 2 } ? $"local {string.Join("/", Outputs.Select(c => c.Code()))} ({Card.Variant})" : Card.Variant;

    /// <summary>The class of each output: C1…C10, or a local model's two.</summary>
    public IReadOnlyList<CellClass> Outputs => Card.Outputs ?? CellTaxonomy.All;

    /// <summary>The class names of the outputs, as written to classes.json.</summary>
    public IReadOnlyList<string> OutputNames => Outputs.Select(c => c.Label()).ToList();

    /// <summary>Softmax probabilities of every sample of <paramref name="set"/>.</summary>
    public float[,] Probabilities(SampleSet set) => Inference.Probabilities(Network, set, Normalisation, testTimeD4: TestTimeD4);

    /// <summary>Whether this model answers with the mean over the eight rotations and flips of a cell (a refinement
    /// its recipe chose; the paper's models answer on the image as it is).</summary>
    public bool TestTimeD4 => Card.Config.Refinements?.Inference.TestTimeD4 ?? false;

    /// <summary>Softmax probabilities of 96-px RGB patches (cells found in a field), prepared exactly as training
    /// prepared its images: YUV, normalised with the model's own training statistics.</summary>
    public float[,] PatchProbabilities(IReadOnlyList<RgbImage> patches, int batchSize = Inference.DefaultBatch) =>
        patches.Count == 0 ? new float[0, Outputs.Count] : Inference.ProbabilitiesOf(Network, Inputs(patches), patches.Count, batchSize, TestTimeD4);

    /// <summary>The <see cref="CellNetwork.Embedding"/> of 96-px RGB patches, prepared as <see cref="PatchProbabilities"/> prepares them.</summary>
    public float[,] PatchEmbeddings(IReadOnlyList<RgbImage> patches, int batchSize = Inference.DefaultBatch) =>
        patches.Count == 0 ? new float[0, Network.EmbeddingSize] : Inference.EmbeddingsOf(Network, Inputs(patches), patches.Count, batchSize);

    private float[] Inputs(IReadOnlyList<RgbImage> patches)
    {
        const int per = 3 * CellPatch.Size * CellPatch.Size;
        var inputs = new float[patches.Count * per];
        for (int i = 0; i < patches.Count; i++)
        {
            if (patches[i].Width != CellPatch.Size || patches[i].Height != CellPatch.Size)
                throw new ArgumentException($"patch {i} is {patches[i].Width}x{patches[i].Height}; the network takes {CellPatch.Size}x{CellPatch.Size}", nameof(patches));
            Normalisation.ToInput(patches[i], inputs.AsSpan(i * per, per));
        }
        return inputs;
    }

    /// <summary>Where its training cells lie in its embedding (<see cref="FeatureEnvelope"/>), when one was fitted into
    /// its folder by <c>marrow envelope</c>; null otherwise, and a cell is then checked only by rules on its pixels.</summary>
    public FeatureEnvelope? Envelope => _envelope ??= FeatureEnvelope.TryLoad(Folder);

    private FeatureEnvelope? _envelope;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Saves into <paramref name="folder"/> (replacing an older model there).</summary>
    /// <param name="keepFolder">Keep <see cref="Folder"/> where it was (saving a copy, e.g. into an ensemble's folder).</param>
    /// <param name="extraFiles">Further text files (name → content) that belong to the model, written inside the same
    /// renamed folder so that they appear with it or not at all (a final=one model's cross-validation scores).</param>
    /// <param name="scores">Cross-validated scores for its README (<see cref="ModelReadme"/>); null: none known.</param>
    public void Save(string folder, string profileJson, bool keepFolder = false, IReadOnlyDictionary<string, string>? extraFiles = null,
                     IReadOnlyDictionary<string, double>? scores = null)
    {
        string full = AtomicFile.WriteFolder(folder, temp =>
        {
            Normalisation.Save(Path.Combine(temp, NormalisationFile));
            // The weights carry what they were saved with (the network's JSON, the normalisation's bytes), so an edited
            // model.json or normalisation.json is refused at load instead of run with numbers that do not belong.
            Safetensors.Save(Path.Combine(temp, SafetensorsFile), Network.state_dict(), new Dictionary<string, string>
            {
                ["format"] = "pt", ["variant"] = Card.Variant, ["classes"] = string.Join(";", OutputNames),
                [NetworkKey] = JsonSerializer.Serialize(Card.Config.Network),
                [NormalisationKey] = Sha256(File.ReadAllBytes(Path.Combine(temp, NormalisationFile))),
            });
            AtomicFile.WriteAllText(Path.Combine(temp, CardFile), JsonSerializer.Serialize(Card, Json));
            AtomicFile.WriteAllText(Path.Combine(temp, ClassesFile), JsonSerializer.Serialize(OutputNames, Json));
            AtomicFile.WriteAllText(Path.Combine(temp, HistoryFile), EpochRecord.Csv(History));
            AtomicFile.WriteAllText(Path.Combine(temp, ProfileFile), profileJson);
            AtomicFile.WriteAllText(Path.Combine(temp, ModelReadme.FileName), ModelReadme.For(Name, Card, Outputs, Normalisation, scores));
            foreach (var (name, text) in extraFiles ?? new Dictionary<string, string>())
            {
                if (name != Path.GetFileName(name) || name is CardFile or SafetensorsFile or ProfileFile or HistoryFile or ClassesFile or NormalisationFile or ModelReadme.FileName)
                    throw new ArgumentException($"{name}: an extra file must be a new plain file name in the model folder", nameof(extraFiles));
                AtomicFile.WriteAllText(Path.Combine(temp, name), text);
            }
        });
        if (!keepFolder) Folder = full;
    }

    /// <summary>Loads a model folder written by <see cref="Save"/>; a missing or damaged file is named.</summary>
    public static TrainedModel Load(string folder)
    {
        string F(string name)
        {
            string p = Path.Combine(folder, name);
            return File.Exists(p) ? p : throw new FileNotFoundException($"{folder} is not a MarrowDiff model: {name} is missing", p);
        }
        var card = ReadCard(F(CardFile));
        var classes = JsonSerializer.Deserialize<List<string>>(File.ReadAllText(F(ClassesFile))) ?? [];
        var outputs = (card.Outputs ?? CellTaxonomy.All).Select(c => c.Label()).ToList();
        if (!classes.SequenceEqual(outputs) || classes.Count != card.Config.Network.Classes)
            throw new InvalidDataException($"{F(ClassesFile)}: classes {string.Join(", ", classes)} do not match the network's {card.Config.Network.Classes} outputs");
        var normalisation = ColourNormalisation.Load(F(NormalisationFile));
        var network = CellNetwork.Create(card.Config.Network, pretrained: false);
        var (metadata, tensors) = Safetensors.Load(F(SafetensorsFile));
        try
        {
            // Models saved before these keys existed have none; one that has them must agree with its files.
            if (metadata.TryGetValue(NetworkKey, out string? saved) && saved != JsonSerializer.Serialize(card.Config.Network))
                throw new InvalidDataException($"{F(CardFile)}: names another network ({JsonSerializer.Serialize(card.Config.Network)}) than {SafetensorsFile} was saved with ({saved}): the file was edited");
            if (metadata.TryGetValue(NormalisationKey, out string? hash) && hash != Sha256(File.ReadAllBytes(F(NormalisationFile))))
                throw new InvalidDataException($"{F(NormalisationFile)}: changed since the model was saved (its SHA-256 differs from the one {SafetensorsFile} carries): the colour statistics would not be the ones the network learnt with");
            var expected = network.state_dict();
            var absent = expected.Keys.Except(tensors.Keys).ToList();
            var extra = tensors.Keys.Except(expected.Keys).ToList();
            if (absent.Count > 0 || extra.Count > 0)
                throw new InvalidDataException($"{F(SafetensorsFile)}: {(absent.Count > 0 ? $"lacks {string.Join(", ", absent.Take(3))}{(absent.Count > 3 ? ", …" : "")}" : "")}" +
                                               $"{(absent.Count > 0 && extra.Count > 0 ? "; " : "")}{(extra.Count > 0 ? $"holds {string.Join(", ", extra.Take(3))}{(extra.Count > 3 ? ", …" : "")} that" : "")} " +
                                               $"the network of {F(CardFile)} ({card.Config.Network}) {(extra.Count > 0 ? "does not have" : "needs")}: the weights belong to another network.");
            foreach (var (key, tensor) in tensors)
                if (expected.TryGetValue(key, out var want) && !want.shape.SequenceEqual(tensor.shape))
                    throw new InvalidDataException(
                        $"{F(SafetensorsFile)}: {key} has shape [{string.Join(", ", tensor.shape)}] where the network of {F(CardFile)} " +
                        $"({card.Config.Network}) has [{string.Join(", ", want.shape)}]: the weights belong to another network.");
            network.load_state_dict(tensors);
        }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
        network.to(Torch.TorchRuntime.Device);
        network.eval();
        var history = ReadHistory(F(HistoryFile));
        return new TrainedModel(network, normalisation, card, history, Path.GetFullPath(folder));
    }

    /// <summary>Reads model.json. A network without its kind (<c>"Kind": "vgg"</c> or <c>"resnet18-imagenet"</c>) was
    /// saved before the two networks had types of their own: refused, naming the file, rather than guessed.</summary>
    private static ModelCard ReadCard(string file)
    {
        try
        {
            return JsonSerializer.Deserialize<ModelCard>(File.ReadAllText(file), Json) ?? throw new InvalidDataException($"{file}: empty");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new InvalidDataException($"{file}: not a model card this version reads ({e.Message}). A card whose network has no \"Kind\" " +
                                           "was saved by an older MarrowDiff: train the model again with this one", e);
        }
    }

    private const string NetworkKey = "marrowdiff_network", NormalisationKey = "marrowdiff_normalisation_sha256";

    private static string Sha256(byte[] bytes) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes)).ToLowerInvariant();

    private static List<EpochRecord> ReadHistory(string file)
    {
        var rows = Csv.Parse(File.ReadAllText(file));
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        return rows.Skip(1).Where(r => r.Length >= 7).Select(r => new EpochRecord(int.Parse(r[0], inv), double.Parse(r[1], inv), double.Parse(r[2], inv),
            r[3].Length == 0 ? null : double.Parse(r[3], inv), double.Parse(r[4], inv), double.Parse(r[5], inv), double.Parse(r[6], inv))).ToList();
    }

    public void Dispose() => Network.Dispose();
}
