using MarrowDiff.Imaging;

namespace MarrowDiff.Tests.Detection;

/// <summary>Fields drawn by hand for the finder's tests: glass, pink red cells, purple nuclei and platelets at known
/// places, sizes given in µm at a chosen pitch.</summary>
public sealed class SyntheticField
{
    public static readonly (byte, byte, byte) Glass = (236, 226, 228), RedCell = (214, 132, 140), Chromatin = (92, 40, 130), Cytoplasm = (206, 186, 214), Platelet = (120, 70, 150);

    public SyntheticField(int width, int height, double pitchUm)
    {
        Image = new RgbImage(width, height);
        Image.Fill(Glass);
        Pitch = pitchUm;
    }

    public RgbImage Image { get; }
    public double Pitch { get; }

    public SyntheticField Disc(double xUm, double yUm, double diameterUm, (byte, byte, byte) colour)
    {
        double cx = xUm / Pitch, cy = yUm / Pitch, r = diameterUm / 2 / Pitch;
        for (int y = (int)Math.Max(0, cy - r - 1); y <= Math.Min(Image.Height - 1, cy + r + 1); y++)
            for (int x = (int)Math.Max(0, cx - r - 1); x <= Math.Min(Image.Width - 1, cx + r + 1); x++)
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r) Image[x, y] = colour;
        return this;
    }

    /// <summary>A white cell: cytoplasm of <paramref name="cellUm"/> and a round nucleus of <paramref name="nucleusUm"/>.</summary>
    public SyntheticField Cell(double xUm, double yUm, double cellUm = 12, double nucleusUm = 7) =>
        Disc(xUm, yUm, cellUm, Cytoplasm).Disc(xUm, yUm, nucleusUm, Chromatin);

    /// <summary>A field of red cells on a grid (for the pitch to be measured), leaving room where cells go.</summary>
    public SyntheticField RedCells(int count, double spacingUm = 10, Func<double, double, bool>? free = null)
    {
        int placed = 0;
        for (double y = 6; y < Image.Height * Pitch - 6 && placed < count; y += spacingUm)
            for (double x = 6; x < Image.Width * Pitch - 6 && placed < count; x += spacingUm)
                if (free?.Invoke(x, y) ?? true) { Disc(x, y, 7.5, RedCell); placed++; }
        return this;
    }
}
