namespace MarrowDiff.Preparation;

/// <summary>The rows of the paper's Table 1 and its dual stage, by what each one is, never by where it stands.</summary>
public enum Table1Role
{
    /// <summary>The original training cells.</summary>
    OG,
    /// <summary>Each original cell in its eight rotations and flips.</summary>
    AG,
    /// <summary>Re-crops at shifted centres up to the lower N a class (the paper: 300).</summary>
    OSLow,
    /// <summary>Re-crops up to the higher N (the paper: 600).</summary>
    OSHigh,
    /// <summary>Both, at the lower N.</summary>
    AGOSLow,
    /// <summary>Both, at the higher N: the dual stage's global model.</summary>
    AGOSHigh,
    /// <summary>AG+OS high with the local band/segmented model.</summary>
    DualStage,
}

/// <summary>
/// Table 1's rows named by role. The names are the training sets' own (OG, AG, OS N, AG+OS N, and
/// <see cref="DualStageName"/>); which N is low and which high is read from the names, so a table of other N, or with
/// its rows in another order, is addressed the same way, and a table that lacks a role or has two of one is refused.
/// </summary>
public static class Table1Roles
{
    /// <summary>The name under which a table's dual stage is saved.</summary>
    public const string DualStageName = "dual-stage";

    /// <summary>The role's label with the paper's N (OS-high, not OS600): for claims, which hold at any N.</summary>
    public static string Label(Table1Role role) => role switch
    {
        Table1Role.OSLow => "OS-low", Table1Role.OSHigh => "OS-high", Table1Role.AGOSLow => "AG+OS-low", Table1Role.AGOSHigh => "AG+OS-high",
        Table1Role.DualStage => "dual stage", _ => role.ToString(),
    };

    /// <summary>Which name plays which role among <paramref name="names"/> (training sets and the dual stage).</summary>
    /// <param name="requireDualStage">False: a table of the six training sets alone is accepted (its claims about the dual stage go untested).</param>
    /// <exception cref="ArgumentException">A role is missing or played twice, or a name is no training set.</exception>
    public static IReadOnlyDictionary<Table1Role, string> Of(IEnumerable<string> names, bool requireDualStage = true)
    {
        var list = names.ToList();
        var roles = new Dictionary<Table1Role, string>();
        var oversampled = new List<(string Name, bool Augment, int N)>();
        foreach (string name in list)
        {
            if (name == DualStageName) { Add(Table1Role.DualStage, name); continue; }
            var v = TrainingVariant.Parse(name);
            if (v.OversampleTo is { } n) oversampled.Add((name, v.Augment, n));
            else Add(v.Augment ? Table1Role.AG : Table1Role.OG, name);
        }
        var levels = oversampled.Select(o => o.N).Distinct().Order().ToList();
        if (levels.Count != 2)
            throw new ArgumentException($"a Table 1 has two oversampling levels (low and high); these rows have {levels.Count}: {string.Join(", ", list)}");
        foreach (var (name, augment, n) in oversampled)
            Add((augment, n == levels[0]) switch
            {
                (false, true) => Table1Role.OSLow, (false, false) => Table1Role.OSHigh,
                (true, true) => Table1Role.AGOSLow, (true, false) => Table1Role.AGOSHigh,
            }, name);
        foreach (var role in Enum.GetValues<Table1Role>())
            if (!roles.ContainsKey(role) && (role != Table1Role.DualStage || requireDualStage)) throw new ArgumentException($"no row plays {Label(role)} among {string.Join(", ", list)}");
        return roles;

        void Add(Table1Role role, string name)
        {
            if (!roles.TryAdd(role, name)) throw new ArgumentException($"both {roles[role]} and {name} play {Label(role)}");
        }
    }
}
