using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using MarrowDiff.Data;
using MarrowDiff.Preparation;
using MarrowDiff.Training;

namespace MarrowDiff.Experiments;

/// <summary>
/// The identity of a cached model (or of a cached hyper-parameter search): exactly what is hashed, and nothing else.
/// Every part that decides a model's bytes is a field here, written out in full, so a new setting changes the key
/// of the models it changes by being a field of <see cref="Recipe"/>; no setting hides from the JSON to keep an older
/// key alive. <see cref="Version"/> is raised instead when the training code changes a model's bytes while every
/// field stays the same; it is saved beside the model (<see cref="FileName"/>) and a cache entry of another version,
/// or without one, is refused by <see cref="Check"/>, never reused.
/// </summary>
/// <param name="Kind">What the entry is: <c>cv</c> (the search), <c>model</c> (a Table 1 model), <c>fold-model</c>,
/// <c>final-model</c> or <c>local</c> (a dual stage's local model).</param>
/// <param name="Data">SHA-256 of the cells of the task: id, label, file name and size, the tiles' settings and each
/// source's pixel pitch (<see cref="DataFingerprint"/>).</param>
/// <param name="Split">SHA-256 of which part (test, fold 1…5) each cell is on (<see cref="SplitFingerprint"/>).</param>
/// <param name="Variant">The training set: OG, AG, OS N, AG+OS N.</param>
/// <param name="Recipe">Network, hyper-parameters, epochs, batch, seed, refinements, engine and threads.</param>
/// <param name="HeldOutFold">The fold the model never trained on; null: it trained on all five.</param>
/// <param name="CellShare">The share of each class's training cells it was given (a learning curve's point; 1: all).</param>
/// <param name="Outputs">A local model's classes; null: all ten.</param>
/// <param name="StartFrom">The cached model whose weights it started from (its folder name, which carries that
/// model's own key); null: from the network's initialisation.</param>
/// <param name="Grid">The search's hyper-parameter candidates (<c>cv</c> only; its <see cref="Recipe"/> holds the
/// first, with the search's epochs).</param>
public sealed record ModelKey(
    string Kind, string Data, string Split, string Variant, TrainingConfig Recipe, int? HeldOutFold,
    double CellShare = 1, IReadOnlyList<CellClass>? Outputs = null, string? StartFrom = null, IReadOnlyList<Hyperparameters>? Grid = null)
{
    /// <summary>The version of what a key means. 3: the first explicit key (before it, keys were hashes of
    /// ad-hoc lists under the name "trainer-2"). Raise it when training code changes the bytes of a model whose
    /// fields did not change, so that every cached model of the older code is refused.</summary>
    public const int CurrentVersion = 3;

    /// <summary>The file beside every cached model that holds its key.</summary>
    public const string FileName = "model-key.json";

    public int Version { get; init; } = CurrentVersion;

    /// <summary>The seed that drew the split, the re-crops, the order of the training images and the weights.</summary>
    [JsonIgnore] // in the recipe already
    public int Seed => Recipe.Seed;

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        // Every field written, nulls and defaults too: what is hashed is all there is, in one place.
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter() },
        // Read by people deciding whether to delete an entry: "AG+OS150", not "AG\u002BOS150".
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The key as JSON: what <see cref="Hash"/> hashes and <see cref="FileName"/> holds.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>The first 12 hex digits of SHA-256 over <see cref="ToJson"/> without the version, so that a model of an
    /// older version lands in the same folder name and is refused there by <see cref="Check"/> rather than passed by.</summary>
    [JsonIgnore]
    public string Hash => Sha256(JsonSerializer.Serialize(this with { Version = 0 }, Options))[..12];

    /// <summary>Reads a cache entry's key and refuses the entry unless it is this key, at this version.</summary>
    /// <exception cref="InvalidDataException">The entry has no key file, a key of another version, or another key
    /// (a copied or edited folder); the message names the file and says which.</exception>
    public void Check(string keyFile)
    {
        if (!File.Exists(keyFile))
            throw new InvalidDataException($"{keyFile} is missing: {Path.GetDirectoryName(keyFile)} was cached before model keys were saved " +
                                           $"(version {CurrentVersion}), so nothing says how it was trained; delete it, or give another --models folder");
        string text = File.ReadAllText(keyFile);
        int version;
        try
        {
            using var doc = JsonDocument.Parse(text);
            version = doc.RootElement.TryGetProperty(nameof(Version), out var v) && v.TryGetInt32(out int n) ? n : 0;
        }
        catch (JsonException e) { throw new InvalidDataException($"{keyFile}: not a model key ({e.Message})", e); }
        if (version != Version)
            throw new InvalidDataException($"{keyFile}: a model cached under model-key version {version}, and this build is version {Version}: " +
                                           "training has changed since, so it is not reused; delete it, or give another --models folder");
        if (text != ToJson())
            throw new InvalidDataException($"{keyFile}: the cached model's key differs from the one asked for (a copied or edited cache entry); delete it");
    }

    /// <summary>The data part of every key: each cell (id, label, file name, size), the tiles' settings and each
    /// source's pitch, in a fixed order.</summary>
    public static string DataFingerprint(DataPreparation prep)
    {
        var text = new StringBuilder();
        foreach (var c in prep.Split.Cells.OrderBy(c => c.Path, StringComparer.Ordinal))
            text.Append(CultureInfo.InvariantCulture, $"{c.CellId}|{c.Label.ToManifestValue()}|{Path.GetFileName(c.Path)}|{new FileInfo(c.Path).Length}\n");
        text.Append(prep.Tiles.Settings);
        foreach (var scale in prep.Tiles.Scales.Values.OrderBy(s => s.Source, StringComparer.Ordinal))
            text.Append(CultureInfo.InvariantCulture, $"\n{scale.Source}={scale.PitchUm:R}");
        return Sha256(text.ToString());
    }

    /// <summary>The split part of every key: the part of each cell, in the order of <see cref="DataFingerprint"/>.</summary>
    public static string SplitFingerprint(DatasetSplit split)
    {
        var text = new StringBuilder();
        foreach (var c in split.Cells.OrderBy(c => c.Path, StringComparer.Ordinal))
            text.Append(CultureInfo.InvariantCulture, $"{c.CellId}|{split.PartOf(c)}\n");
        return Sha256(text.ToString());
    }

    private static string Sha256(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();
}
