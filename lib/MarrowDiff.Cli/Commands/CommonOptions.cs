using System.CommandLine;
using MarrowDiff.Experiments;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Cli.Commands;

/// <summary>The options several commands share, made once here so that their names, defaults and accepted values
/// agree everywhere (a new option object per command: System.CommandLine gives each symbol one parent).</summary>
internal static class CommonOptions
{
    public static Option<string> Profile(string defaultValue = "smoke") =>
        // Listed from the registry, so a new profile is in the help the day it exists.
        new Option<string>("--profile") { Description = $"experiment profile, one of {string.Join(", ", ExperimentProfile.All.Select(p => p.Name))} (paper: the paper's settings, a GPU job; smoke: CI-sized; each profile's settings: its profile.json)", DefaultValueFactory = _ => defaultValue }
            .AcceptingOnly([.. ExperimentProfile.All.Select(p => p.Name)]);

    public static Option<string> Data(bool required = false) =>
        new("--data") { Description = "a dataset folder (manifest, folder-per-class, PBC, Matek) or \"phantom\" for the synthetic phantom", Required = required, DefaultValueFactory = required ? null! : _ => Workbook.PhantomData, HelpName = "DIR|phantom" };

    public static Option<int> Seed() =>
        new("--seed") { Description = "seeds the phantom, the split, the re-crop centres, the training order and the initial weights", DefaultValueFactory = _ => 2017, HelpName = "N" };

    public static Option<string> GroupBy() =>
        new Option<string>("--group-by") { Description = "cell: no cell on two sides of the split; subject: no patient on two sides", DefaultValueFactory = _ => "cell" }
            .AcceptingOnly("cell", "subject");

    public static Option<string?> Pitch() =>
        new("--pitch") { Description = "pixel pitch of sources, e.g. \"PBC=0.1;Matek=0.08\" (µm/px); any source not given is read from the model (evaluate, errors: the pitch it was trained at) or else estimated from its red cells", HelpName = "SOURCE=UM_PER_PX;..." };

    public static Option<string[]> Set() =>
        new("--set") { Description = $"overrides a profile value ({ExperimentProfile.SettingNames}); repeatable", HelpName = "KEY=VALUE" };

    public static Option<string?> Models(string what = "models, cross-validation results and checkpoints") =>
        new("--models") { Description = $"where {what} are cached (default data/models); an interrupted run resumes from its checkpoint there", HelpName = "DIR" };

    public static Option<string> Part(string defaultValue) =>
        new Option<string>("--part") { Description = "all: every cell of the 10 classes; test: the test part of the split the model was trained with", DefaultValueFactory = _ => defaultValue }
            .AcceptingOnly("all", "test");

    public static Option<string> Out(string description, bool required = true, string helpName = "DIR") =>
        new("--out") { Description = description, Required = required, HelpName = helpName };

    private static Option<T> AcceptingOnly<T>(this Option<T> option, params string[] values)
    {
        option.AcceptOnlyFromAmong(values);
        return option;
    }
}
