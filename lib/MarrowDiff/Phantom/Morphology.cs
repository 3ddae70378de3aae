using MarrowDiff.Data;

namespace MarrowDiff.Phantom;

/// <summary>Outline of a nucleus as a hematologist names it.</summary>
public enum NucleusShape
{
    /// <summary>Round to oval (C1–C6).</summary>
    Round,
    /// <summary>Round with one side flattened (C7, myelocyte).</summary>
    Flattened,
    /// <summary>Indented on one side: kidney or bean (C8, metamyelocyte).</summary>
    Kidney,
    /// <summary>A curved band of even width: C or U (C9, band neutrophil).</summary>
    Band,
    /// <summary>2–5 lobes joined by thin filaments (C10, segmented neutrophil).</summary>
    Segmented,
    /// <summary>Small, dense, round, often eccentric (C4, orthochromatic normoblast).</summary>
    Pyknotic,
}

/// <summary>Transmitted colour of a stained structure at unit density (0…1 per channel), turned into optical
/// density (Beer–Lambert): overlapping structures then darken each other as they do under a microscope.</summary>
public readonly record struct Stain(double R, double G, double B)
{
    public (double R, double G, double B) OpticalDensity => (-Math.Log(R), -Math.Log(G), -Math.Log(B));
}

/// <summary>
/// What distinguishes one maturation stage in the phantom: the features a hematologist reads off a
/// Wright-Giemsa smear. Ranges overlap between consecutive stages on purpose: that overlap is what makes the
/// real task hard (Choi et al. 2017, Introduction).
/// </summary>
/// <param name="Class">The stage.</param>
/// <param name="Shape">Outline of the nucleus.</param>
/// <param name="DiameterUm">Cell diameter range, µm (the table, from standard hematology texts).</param>
/// <param name="NuclearFraction">Nucleus area / cell area range (N:C ratio falls with maturation).</param>
/// <param name="Cytoplasm">Cytoplasm colour: deep blue (RNA-rich) → grey-lilac → pink-orange (haemoglobin) or pink (neutrophilic).</param>
/// <param name="CytoplasmDensity">How strongly the cytoplasm takes the stain.</param>
/// <param name="Nucleus">Chromatin colour.</param>
/// <param name="ChromatinScalePx">Size of chromatin texture, px: fine (blasts) → coarse.</param>
/// <param name="ChromatinContrast">0 = smooth, 1 = strongly clumped.</param>
/// <param name="Nucleoli">Range of nucleolus count (blasts show 1–3).</param>
/// <param name="Granules">Granule count per 100 µm² of cytoplasm.</param>
/// <param name="GranuleRadiusPx">Granule radius, px (coarse azurophilic C6 vs fine neutrophilic C7–C10).</param>
/// <param name="GranuleStain">Granule colour.</param>
/// <param name="PerinuclearPallor">Pale zone beside the nucleus (Golgi; promyelocyte), 0…1.</param>
/// <param name="Eccentricity">How far off-centre the nucleus sits, as a fraction of the free room.</param>
public sealed record Morphology(
    CellClass Class, NucleusShape Shape,
    (double Min, double Max) DiameterUm, (double Min, double Max) NuclearFraction,
    Stain Cytoplasm, double CytoplasmDensity, Stain Nucleus,
    double ChromatinScalePx, double ChromatinContrast, (int Min, int Max) Nucleoli,
    double Granules, double GranuleRadiusPx, Stain GranuleStain, double PerinuclearPallor, double Eccentricity)
{
    private static readonly Stain Chromatin = new(0.36, 0.20, 0.52);
    private static readonly Stain DenseChromatin = new(0.24, 0.12, 0.38);
    private static readonly Stain DeepBlue = new(0.45, 0.56, 0.82);
    private static readonly Stain Neutrophilic = new(0.90, 0.80, 0.86);
    private static readonly Stain FineGranule = new(0.86, 0.72, 0.82);
    private static readonly Stain Azurophilic = new(0.42, 0.22, 0.52);
    private static readonly Stain None = new(1, 1, 1);

    public static Morphology Of(CellClass c) => Table[c];

    private static readonly Dictionary<CellClass, Morphology> Table = new()
    {
        // Erythroid series: the cell shrinks, the nucleus condenses, cytoplasm turns from blue to pink as haemoglobin fills it.
        [CellClass.Pronormoblast] = new(CellClass.Pronormoblast, NucleusShape.Round, (14, 19), (0.62, 0.74), DeepBlue, 1.25, Chromatin, 2.4, 0.28, (1, 3), 0, 0, None, 0.25, 0.15),
        [CellClass.BasophilicNormoblast] = new(CellClass.BasophilicNormoblast, NucleusShape.Round, (12, 17), (0.50, 0.62), new(0.40, 0.50, 0.80), 1.35, Chromatin, 3.6, 0.50, (0, 0), 0, 0, None, 0.15, 0.15),
        [CellClass.PolychromaticNormoblast] = new(CellClass.PolychromaticNormoblast, NucleusShape.Round, (10, 15), (0.34, 0.46), new(0.70, 0.64, 0.78), 1.0, DenseChromatin, 4.2, 0.75, (0, 0), 0, 0, None, 0, 0.2),
        [CellClass.OrthochromaticNormoblast] = new(CellClass.OrthochromaticNormoblast, NucleusShape.Pyknotic, (8, 12), (0.14, 0.24), new(0.90, 0.66, 0.64), 1.0, new(0.20, 0.10, 0.30), 3.0, 0.12, (0, 0), 0, 0, None, 0, 0.45),

        // Myeloid (neutrophil) series: blast → promyelocyte (largest, azurophilic granules) → myelocyte → metamyelocyte
        // → band → segmented; the nucleus indents, bends and segments; cytoplasm turns pink with fine granules.
        [CellClass.Myeloblast] = new(CellClass.Myeloblast, NucleusShape.Round, (14, 20), (0.66, 0.80), new(0.55, 0.63, 0.85), 1.1, Chromatin, 2.2, 0.22, (2, 4), 0, 0, None, 0, 0.1),
        [CellClass.Promyelocyte] = new(CellClass.Promyelocyte, NucleusShape.Round, (16, 25), (0.46, 0.60), new(0.62, 0.66, 0.86), 1.0, Chromatin, 2.8, 0.32, (0, 2), 55, 1.5, Azurophilic, 0.6, 0.45),
        [CellClass.Myelocyte] = new(CellClass.Myelocyte, NucleusShape.Flattened, (12, 18), (0.34, 0.46), new(0.84, 0.76, 0.86), 1.0, Chromatin, 3.6, 0.5, (0, 0), 70, 0.6, FineGranule, 0.2, 0.55),
        [CellClass.Metamyelocyte] = new(CellClass.Metamyelocyte, NucleusShape.Kidney, (10, 15), (0.26, 0.36), Neutrophilic, 1.0, DenseChromatin, 4.2, 0.6, (0, 0), 70, 0.6, FineGranule, 0, 0.35),
        [CellClass.BandNeutrophil] = new(CellClass.BandNeutrophil, NucleusShape.Band, (10, 14), (0.19, 0.27), Neutrophilic, 1.0, DenseChromatin, 4.4, 0.62, (0, 0), 70, 0.6, FineGranule, 0, 0.1),
        [CellClass.SegmentedNeutrophil] = new(CellClass.SegmentedNeutrophil, NucleusShape.Segmented, (10, 14), (0.16, 0.24), Neutrophilic, 1.0, DenseChromatin, 4.4, 0.65, (0, 0), 70, 0.6, FineGranule, 0, 0.1),
    };
}
