using System.Globalization;
using MarrowDiff.Model;
using MarrowDiff.Preparation;
using MarrowDiff.Torch;
using MarrowDiff.Training;

namespace MarrowDiff.Experiments;

/// <summary>The text of one <c>--set KEY=VALUE</c>, read as the setting needs it; a bad value names the key and the reason.</summary>
public readonly record struct SettingValue(string Key, string Text)
{
    public int Int() => int.TryParse(Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
        : throw new ArgumentException($"{Key}={Text}: give a whole number");

    public double Real() => double.TryParse(Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
        : throw new ArgumentException($"{Key}={Text}: give a number");

    public bool Bool() => Text.Trim().ToLowerInvariant() switch
    {
        "true" or "on" or "1" => true, "false" or "off" or "0" => false,
        _ => throw new ArgumentException($"{Key}={Text}: use on or off"),
    };

    public bool IsOff => Text.Trim().Equals("off", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// One setting a profile can be given (<c>--set KEY=VALUE</c>): its key and the help that shows its values, whether it
/// changes how much work training is (<see cref="ChangesWork"/>: a measured time no longer describes the profile), how
/// it is applied, and what it adds to the profile's JSON and description when the profile differs from the default. A
/// setting whose value is part of what every profile writes (epochs, the network, …) has no JSON or description of its
/// own: <see cref="ExperimentProfile.ToJson"/> and <see cref="ProfileDescription"/> write those for all.
/// </summary>
public sealed record ProfileSetting(string Key, string Usage, bool ChangesWork, Func<ExperimentProfile, SettingValue, ExperimentProfile> Apply)
{
    /// <summary>The JSON fields this setting adds, when the profile has it (null or empty: nothing).</summary>
    public Func<ExperimentProfile, IEnumerable<(string Name, object Value)>>? Json { get; init; }

    /// <summary>A phrase for the profile's description, when the profile has it (null: nothing).</summary>
    public Func<ExperimentProfile, string?>? Describe { get; init; }
}

/// <summary>
/// Every setting of <see cref="ExperimentProfile.With"/>, one row each: the one place a setting is declared. The CLI's
/// <c>--set</c> help, <c>With</c>'s refusal, the settings that clear a measured budget, the optional JSON fields (in this
/// order) and the added description phrases are all made from these rows. Adding a setting: a property of the profile,
/// a row here, and its use.
/// </summary>
public static class ProfileSettings
{
    // A refinement set on a profile without any starts from none of them: only the named one changes.
    private static Refinements Refine(ExperimentProfile p) => p.Refinements ?? Refinements.None;

    private static ExperimentProfile Optimise(ExperimentProfile p, Func<OptimisationOptions, OptimisationOptions> change) =>
        p with { Refinements = Refine(p) with { Optimisation = change(Refine(p).Optimisation) } };

    private static ExperimentProfile Augment(ExperimentProfile p, Func<AugmentationOptions, AugmentationOptions> change) =>
        p with { Refinements = Refine(p) with { Augmentation = change(Refine(p).Augmentation) } };

    // A VGG's own setting on another network would be silently ignored by it: refused, naming the way out.
    private static VggConfig Vgg(ExperimentProfile p, SettingValue v) => p.Network as VggConfig
        ?? throw new ArgumentException($"{v.Key}={v.Text}: a setting of the VGG, and profile {p.Name}'s network is {p.Network.Kind}; add --set backbone=vgg first to train the VGG instead");

    private static IEnumerable<(string, object)> When(bool present, string name, Func<object> value) => present ? [(name, value())] : [];

    public static IReadOnlyList<ProfileSetting> All { get; } =
    [
        new("epochs", "epochs", true, (p, v) => p with { Epochs = v.Int() }),
        new("local_epochs", "local_epochs", false, (p, v) => p with { LocalEpochs = v.Int() }),
        new("local_lr", "local_lr", false, (p, v) => p with { LocalLearningRate = v.Real() })
            { Json = p => When(p.LocalLearningRate is not null, "local_learning_rate", () => p.LocalLearningRate!.Value) },
        new("local_from_global", "local_from_global", false, (p, v) => p with { LocalFromGlobal = v.Bool() })
            { Json = p => When(p.LocalFromGlobal, "local_from_global", () => true) },
        new("width", "width", true, (p, v) => p with { Network = Vgg(p, v) with { Width = v.Real() } }),
        new("depth", "depth=11|13|16", true, (p, v) => p with { Network = Vgg(p, v) with { Depth = v.Int() } }),
        new("backbone", "backbone=vgg|resnet18-imagenet", true, (p, v) => p with { Network = p.Network.WithKind(v.Text) }),
        new("input", "input", true, (p, v) => p with { Network = p.Network with { InputSize = v.Int() } }),
        new("batch", "batch", true, (p, v) => p with { BatchSize = v.Int() }),
        new("oversample", "oversample=LOW,HIGH", true, (p, v) => v.Text.Split(',') is [var lo, var hi]
            ? p with { OversampleTo = (new SettingValue(v.Key, lo).Int(), new SettingValue(v.Key, hi).Int()) }
            : throw new ArgumentException($"oversample={v.Text}: give two numbers, e.g. oversample=300,600")),
        new("cv_epochs", "cv_epochs", false, (p, v) => p with { CrossValidationEpochs = v.Int() }),
        new("cv_variant", "cv_variant", false, (p, v) => p with { CrossValidationVariant = TrainingVariant.Parse(v.Text).Name }),
        new("lr", "lr", false, (p, v) => p with { Grid = [p.Grid[0] with { LearningRate = v.Real() }] }),
        new("weight_decay", "weight_decay", false, (p, v) => p with { Grid = [p.Grid[0] with { WeightDecay = v.Real() }] }),
        new("validation_fold", "validation_fold", false, (p, v) => p with { ValidationFold = v.Int() }),
        new("dropout", "dropout", false, (p, v) => p with
        {
            Network = p.Network is VggConfig g ? g with { FirstDropout = v.Real(), Dropout = v.Real(), ClassifierDropout = v.Real() } : p.Network with { ClassifierDropout = v.Real() },
        }),
        new("conv_dropout", "conv_dropout", false, (p, v) => p with { Network = Vgg(p, v) with { FirstDropout = v.Real(), Dropout = v.Real() } }),
        new("classifier_dropout", "classifier_dropout", false, (p, v) => p with { Network = p.Network with { ClassifierDropout = v.Real() } }),
        new("global_pool", "global_pool", false, (p, v) => p with { Network = Vgg(p, v) with { GlobalPool = v.Bool() } }),
        new("engine", "engine=fp32|bf16|channels-last|bf16+channels-last", true, (p, v) => p with
        {
            Engine = v.Text.Trim().ToLowerInvariant() switch
            {
                "fp32" => ConvolutionEngine.Default, "bf16" => ConvolutionEngine.BFloat16, "channels-last" => ConvolutionEngine.ChannelsLast,
                "bf16+channels-last" => ConvolutionEngine.BFloat16 | ConvolutionEngine.ChannelsLast,
                _ => throw new ArgumentException($"engine={v.Text}: use fp32, bf16, channels-last or bf16+channels-last"),
            },
        }) { Json = p => When(p.Engine != ConvolutionEngine.Default, "engine", () => p.Engine.ToString()) },
        new("ensemble_folds", "ensemble_folds", true, (p, v) => p with { EnsembleFolds = v.Int() })
        {
            // Written with the refinements, as one pair: a profile with either has both in its JSON.
            Json = p => p.Refinements is null && p.EnsembleFolds == 0 ? [] : [("refinements", (object?)p.Refinements ?? "none"), ("ensemble_folds", p.EnsembleFolds)],
        },
        new("schedule", "schedule=torch7|cosine", false, (p, v) => Optimise(p, o => o with { Schedule = Enum.Parse<LearningRateSchedule>(v.Text, ignoreCase: true) })),
        new("label_smoothing", "label_smoothing", false, (p, v) => Optimise(p, o => o with { LabelSmoothing = v.Real() })),
        new("stain_jitter", "stain_jitter", false, (p, v) => Augment(p, a => a with { StainJitter = v.Real() })),
        new("mixup", "mixup", false, (p, v) => Augment(p, a => a with { Mixup = v.Real() })),
        // 1 (or 1.0, or off) is one rate for every layer: no multiple, so the cache key stays the profile's.
        new("classifier_rate", "classifier_rate", false, (p, v) => Optimise(p, o => o with { ClassifierRate = v.IsOff ? null : v.Real() is var c && c == 1 ? null : c })),
        new("rotate", "rotate=on|off", false, (p, v) => Augment(p, a => a with { Rotation = v.Bool() })),
        new("tta", "tta=on|off", false, (p, v) => p with { Refinements = Refine(p) with { Inference = new InferenceOptions(v.Bool()) } }),
        new("final", "final=ensemble|one", true, (p, v) => p with
        {
            FinalModel = v.Text.Trim().ToLowerInvariant() switch
            {
                "ensemble" => false, "one" => true,
                _ => throw new ArgumentException($"final={v.Text}: use ensemble (the fold models together) or one (one more model on all five folds)"),
            },
        }) { Json = p => When(p.FinalModel, "final", () => "one") },
        new("side_by_side", "side_by_side=on|off", true, (p, v) => p with { SideBySide = v.Bool() })
            { Json = p => When(p.SideBySide, "side_by_side", () => true) },
        new("training_set", "training_set=OG|AG|OS<N>|AG+OS<N>", true, (p, v) => p with { TrainingSet = TrainingVariant.Parse(v.Text).Name })
            { Json = p => When(p.TrainingSet is not null, "training_set", () => p.TrainingSet!) },
        new("training_seed", "training_seed", false, (p, v) => p.WithTrainingSeed(v.Int()))
        {
            Json = p => When(p.TrainingSeed is not null, "training_seed", () => p.TrainingSeed!.Value),
            Describe = p => p.TrainingSeed is { } s ? $"training seed {s} on the split of seed {p.Seed}" : null,
        },
        new("steps", "steps=N|off", true, (p, v) => p with { EqualSteps = v.IsOff ? null : v.Int() })
        {
            Json = p => When(p.EqualSteps is not null, "equal_steps", () => p.EqualSteps!.Value),
        },
    ];

    /// <summary>What <see cref="ExperimentProfile.With"/> accepts, as the CLI's <c>--set</c> help and its refusal show it.</summary>
    public static string Names => NamesOf(All);

    /// <summary>The help of a table of settings (<see cref="All"/>, or it with more rows).</summary>
    public static string NamesOf(IReadOnlyList<ProfileSetting> settings) => string.Join(", ", settings.Select(s => s.Usage));

    /// <summary>The setting of <paramref name="key"/> (any case) in <paramref name="settings"/> (<see cref="All"/>), or a
    /// refusal that lists every setting.</summary>
    public static ProfileSetting Find(string key, IReadOnlyList<ProfileSetting>? settings = null) =>
        (settings ?? All).FirstOrDefault(s => s.Key.Equals(key.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown setting '{key}': use {NamesOf(settings ?? All)}");
}
