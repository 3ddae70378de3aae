namespace MarrowDiff.Data;

/// <summary>A public dataset whose own folder layout MarrowDiff reads as downloaded.</summary>
/// <param name="Name">Short source name used in per-source tables ("Matek", "PBC").</param>
/// <param name="Specimen">bone_marrow or peripheral_blood.</param>
/// <param name="Citation">What a result on these images must cite.</param>
public sealed record PublicLayout(string Name, string Specimen, string Citation, string Description)
{
    /// <summary>Matek et al. 2021: <c>BM_cytomorphology_data/&lt;CODE&gt;/&lt;range&gt;/&lt;CODE&gt;_NNNNN.jpg</c>, the label is
    /// the first folder's code.</summary>
    public static PublicLayout Matek { get; } = new("Matek", "bone_marrow",
        "Matek C, Krappe S, Münzenmayer C, Haferlach T, Marr C. Blood 2021;138(20):1917-1927 (TCIA doi:10.7937/TCIA.AXH3-T579), CC BY 4.0",
        "Matek et al. 2021 bone-marrow cytomorphology: label = folder code (BM_cytomorphology_data/<CODE>/<range>/<CODE>_NNNNN.jpg)");

    /// <summary>Acevedo et al. 2020 (PBC): <c>PBC_dataset_normal_DIB/&lt;group&gt;/&lt;PREFIX&gt;_&lt;id&gt;.jpg</c>; the group
    /// folder is coarse (<c>ig</c> holds PMY, MY and MMY), so the label is the file-name prefix.</summary>
    public static PublicLayout Pbc { get; } = new("PBC", "peripheral_blood",
        "Acevedo A, Merino A, Alférez S, Molina Á, Boldú L, Rodellar J. Data in Brief 2020;30:105474 (Mendeley doi:10.17632/snkd93bnjr.1), CC BY 4.0",
        "PBC dataset (Acevedo et al. 2020), peripheral blood: label = file-name prefix (PBC_dataset_normal_DIB/<group>/<PREFIX>_<id>.jpg)");

    /// <summary>Matek et al.'s 21 folder codes.</summary>
    public static IReadOnlySet<string> MatekCodes { get; } = new HashSet<string>(StringComparer.Ordinal)
        { "ABE", "ART", "BAS", "BLA", "EBO", "EOS", "FGC", "HAC", "KSC", "LYI", "LYT", "MMZ", "MON", "MYB", "NGB", "NGS", "NIF", "OTH", "PEB", "PLM", "PMO" };

    /// <summary>The PBC dataset's eight group folders.</summary>
    public static IReadOnlySet<string> PbcGroups { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        { "basophil", "eosinophil", "erythroblast", "ig", "lymphocyte", "monocyte", "neutrophil", "platelet" };

    /// <summary>
    /// Which layout a folder-per-class tree is: PBC when every first-level folder is one of its groups (or the root is
    /// named <c>PBC_dataset_normal_DIB</c>), Matek when every one is a Matek code (or the root is
    /// <c>BM_cytomorphology_data</c>), otherwise null (plain folder-per-class).
    /// </summary>
    public static PublicLayout? Detect(string root, IReadOnlyCollection<string> firstLevelFolders)
    {
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(root));
        if (name.Equals("PBC_dataset_normal_DIB", StringComparison.OrdinalIgnoreCase)) return Pbc;
        if (name.Equals("BM_cytomorphology_data", StringComparison.OrdinalIgnoreCase)) return Matek;
        if (firstLevelFolders.Count == 0) return null;
        if (firstLevelFolders.All(PbcGroups.Contains)) return Pbc;
        if (firstLevelFolders.All(MatekCodes.Contains)) return Matek;
        return null;
    }

    /// <summary>The short source name of a manifest's dataset text ("Matek et al. 2021 …" → Matek, "Acevedo et al.
    /// 2020 …" or "PBC …" → PBC), so per-source tables read the same whichever way the data was imported.</summary>
    public static string SourceName(string dataset)
    {
        string t = dataset.Trim();
        if (t.StartsWith("Matek", StringComparison.OrdinalIgnoreCase)) return Matek.Name;
        if (t.StartsWith("Acevedo", StringComparison.OrdinalIgnoreCase) || t.StartsWith("PBC", StringComparison.OrdinalIgnoreCase)) return Pbc.Name;
        return t;
    }

    /// <summary>The label of one file of this layout: Matek's folder code, PBC's file-name prefix (the text before the
    /// first underscore). A PBC file without a prefix is an error naming the file, never a guess from its group.</summary>
    public CellLabel LabelOf(string relativePath)
    {
        string[] parts = relativePath.Split(Path.DirectorySeparatorChar);
        if (this == Matek) return CellLabel.Parse(parts[0]);
        string file = Path.GetFileNameWithoutExtension(parts[^1]);
        int underscore = file.IndexOf('_');
        if (underscore <= 0) throw new FormatException($"{relativePath}: a PBC file name starts with its class prefix and an underscore (BNE_12345.jpg)");
        return CellLabel.Parse(file[..underscore]);
    }
}
