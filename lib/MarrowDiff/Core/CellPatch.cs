namespace MarrowDiff.Core;

/// <summary>
/// The two physical facts every room shares: the paper's 96×96-pixel single-cell patch, and the pixel pitch the
/// project works at, 0.16 µm/px (×1000 with a typical camera), so that a patch spans 15.4 µm, a whole white cell
/// with a margin. The phantom renders at this pitch; public datasets are resampled to it before cutting patches.
/// </summary>
public static class CellPatch
{
    /// <summary>Side of the square patch the network sees, in pixels (the paper: 96).</summary>
    public const int Size = 96;

    /// <summary>µm per pixel at which patches are cut.</summary>
    public const double PitchUm = 0.16;

    /// <summary>Side of a patch in µm.</summary>
    public const double SideUm = Size * PitchUm;
}
