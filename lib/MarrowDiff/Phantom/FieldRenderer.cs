using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Imaging;

namespace MarrowDiff.Phantom;

/// <summary>Per-slide staining: the same protocol never stains two slides alike (Choi et al. 2017 name this
/// as a main difficulty). Drawn once per slide and applied to every field of it.</summary>
public sealed record SlideStain(double DensityR, double DensityG, double DensityB, double HueDegrees, double Saturation, double Brightness)
{
    public static SlideStain Draw(Rng rng) => new(
        1 + 0.06 * rng.Normal(), 1 + 0.06 * rng.Normal(), 1 + 0.06 * rng.Normal(),
        rng.Uniform(-9, 9), rng.Uniform(0.85, 1.15), rng.Uniform(0.94, 1.04));
}

/// <summary>A white cell placed in a field, with what was measured from its own rendering.</summary>
public sealed record PlacedCell(CellClass Class, int CentreX, int CentreY, double DiameterUm, double CellAreaUm2, double NucleusAreaUm2);

/// <summary>
/// Renders one 1080×1330 field of a Wright-Giemsa bone-marrow smear: pale pink-lilac background, red cells
/// (7–8 µm, central pallor) packed around white cells that touch each other and the red cells, then blur,
/// noise and the slide's stain variation. Light is attenuated by summed optical density (Beer–Lambert).
/// </summary>
public static class FieldRenderer
{
    public const int Width = 1330, Height = 1080;

    /// <summary>White-cell centres stay this far from the edge: a 96 px patch plus room to re-crop at shifted centres.</summary>
    public const int Margin = 80;

    private static readonly Stain Background = new(0.975, 0.935, 0.960);
    private static readonly Stain RedCell = new(0.88, 0.62, 0.64);
    private static readonly (double R, double G, double B) Illumination = (0.985, 0.975, 0.98);

    public static (RgbImage Image, IReadOnlyList<PlacedCell> Cells) Render(IReadOnlyList<CellClass> classes, SlideStain stain, Rng rng)
    {
        var od = new float[3][];
        for (int c = 0; c < 3; c++) od[c] = new float[Width * Height];

        var shapes = classes.Select(c => new CellShape(c, CellPatch.PitchUm, rng)).ToList();
        var centres = Place(shapes, rng);
        AddRedCells(od, shapes, centres, rng);
        var placed = new List<PlacedCell>(shapes.Count);
        for (int i = 0; i < shapes.Count; i++)
        {
            var (cellPx, nucleusPx) = DrawCell(od, shapes[i], centres[i].X, centres[i].Y);
            double um2 = CellPatch.PitchUm * CellPatch.PitchUm;
            placed.Add(new PlacedCell(shapes[i].M.Class, (int)Math.Round(centres[i].X), (int)Math.Round(centres[i].Y),
                                      Math.Round(2 * shapes[i].Radius * CellPatch.PitchUm, 2), Math.Round(cellPx * um2, 2), Math.Round(nucleusPx * um2, 2)));
        }
        return (Develop(od, stain, rng), placed);
    }

    /// <summary>Places white cells: about half next to an already placed one (touching, slightly overlapping,
    /// as in dense marrow), the rest anywhere free.</summary>
    private static List<(double X, double Y)> Place(List<CellShape> shapes, Rng rng)
    {
        var centres = new List<(double X, double Y)>();
        foreach (CellShape s in shapes)
        {
            (double X, double Y)? spot = null;
            for (int attempt = 0; attempt < 2000 && spot is null; attempt++)
            {
                double tolerance = attempt < 1000 ? 0.9 : 0.75;
                double x, y;
                if (centres.Count > 0 && rng.Chance(0.5))
                {
                    int j = rng.Next(0, centres.Count);
                    double a = rng.Uniform(0, 2 * Math.PI), d = (s.Radius + shapes[j].Radius) * rng.Uniform(0.9, 1.0);
                    x = centres[j].X + d * Math.Cos(a); y = centres[j].Y + d * Math.Sin(a);
                }
                else { x = rng.Uniform(Margin, Width - Margin); y = rng.Uniform(Margin, Height - Margin); }
                if (x < Margin || y < Margin || x > Width - Margin || y > Height - Margin) continue;
                bool free = true;
                for (int k = 0; k < centres.Count && free; k++)
                {
                    double dx = x - centres[k].X, dy = y - centres[k].Y;
                    free = Math.Sqrt(dx * dx + dy * dy) >= (s.Radius + shapes[k].Radius) * tolerance;
                }
                if (free) spot = (x, y);
            }
            centres.Add(spot ?? throw new InvalidOperationException($"could not place {shapes.Count} white cells in one field; lower the cells per field"));
        }
        return centres;
    }

    private static void AddRedCells(float[][] od, List<CellShape> wbc, List<(double X, double Y)> centres, Rng rng)
    {
        var (sr, sg, sb) = RedCell.OpticalDensity;
        var rbcs = new List<(double X, double Y, double R)>();
        int target = (int)(Width * Height * rng.Uniform(0.30, 0.42) / (Math.PI * 24 * 24));
        for (int attempt = 0; attempt < target * 12 && rbcs.Count < target; attempt++)
        {
            double r = rng.Uniform(7.0, 8.2) / 2 / CellPatch.PitchUm;
            double x = rng.Uniform(-r, Width + r), y = rng.Uniform(-r, Height + r);
            bool ok = rbcs.All(o => Dist(x, y, o.X, o.Y) >= (r + o.R) * 0.8);
            for (int k = 0; ok && k < wbc.Count; k++) ok = Dist(x, y, centres[k].X, centres[k].Y) >= wbc[k].Radius + r * 0.75;
            if (ok) rbcs.Add((x, y, r));
        }
        foreach (var (x, y, r) in rbcs)
        {
            double aspect = rng.Uniform(0.9, 1.0), angle = rng.Uniform(0, Math.PI), density = rng.Uniform(0.85, 1.15);
            double pallor = rng.Uniform(0.6, 0.8), ca = Math.Cos(angle), sa = Math.Sin(angle);
            int x0 = Math.Max(0, (int)(x - r - 2)), x1 = Math.Min(Width - 1, (int)(x + r + 2));
            int y0 = Math.Max(0, (int)(y - r - 2)), y1 = Math.Min(Height - 1, (int)(y + r + 2));
            for (int py = y0; py <= y1; py++)
                for (int px = x0; px <= x1; px++)
                {
                    double dx = px - x, dy = py - y;
                    double u = dx * ca + dy * sa, v = (-dx * sa + dy * ca) / aspect;
                    double rr = Math.Sqrt(u * u + v * v);
                    double cover = Noise.SmoothStep(1.0, -1.0, rr - r);
                    if (cover <= 0) continue;
                    // Biconcave disc: thinner, paler centre; a slightly denser rim.
                    double t = rr / r;
                    double w = cover * density * (1 - pallor * Math.Exp(-t * t / 0.12) + 0.15 * Noise.SmoothStep(0.6, 0.9, t));
                    int i = py * Width + px;
                    od[0][i] += (float)(w * sr); od[1][i] += (float)(w * sg); od[2][i] += (float)(w * sb);
                }
        }
    }

    private static double Dist(double x0, double y0, double x1, double y1) => Math.Sqrt((x0 - x1) * (x0 - x1) + (y0 - y1) * (y0 - y1));

    /// <summary>Adds one white cell's optical density; returns its cell and nucleus areas in px (coverage &gt; ½).</summary>
    private static (int CellPx, int NucleusPx) DrawCell(float[][] od, CellShape s, double cx, double cy)
    {
        Morphology m = s.M;
        var cyto = m.Cytoplasm.OpticalDensity;
        var nuc = m.Nucleus.OpticalDensity;
        var gran = m.GranuleStain.OpticalDensity;
        double reach = s.Radius * 1.2 + 4;
        int x0 = Math.Max(0, (int)(cx - reach)), x1 = Math.Min(Width - 1, (int)(cx + reach));
        int y0 = Math.Max(0, (int)(cy - reach)), y1 = Math.Min(Height - 1, (int)(cy + reach));
        int bw = x1 - x0 + 1, bh = y1 - y0 + 1;

        // Granules are splatted once into a local map rather than tested at every pixel.
        var granules = new float[bw * bh];
        foreach (var (gu, gv, gr) in s.Granules)
        {
            double gx = cx + gu * s.Cos - gv * s.Sin, gy = cy + gu * s.Sin + gv * s.Cos;
            int r = (int)Math.Ceiling(gr * 2.5);
            for (int y = (int)gy - r; y <= (int)gy + r; y++)
                for (int x = (int)gx - r; x <= (int)gx + r; x++)
                {
                    if (x < x0 || x > x1 || y < y0 || y > y1) continue;
                    double d2 = (x - gx) * (x - gx) + (y - gy) * (y - gy);
                    granules[(y - y0) * bw + (x - x0)] += (float)Math.Exp(-d2 / (2 * gr * gr));
                }
        }

        int cellPx = 0, nucleusPx = 0;
        uint seed = s.TextureSeed;
        for (int py = y0; py <= y1; py++)
            for (int px = x0; px <= x1; px++)
            {
                double dx = px - cx, dy = py - cy;
                double u = dx * s.Cos + dy * s.Sin, v = -dx * s.Sin + dy * s.Cos;
                double dc = s.CellDistance(u, v);
                double cover = Noise.SmoothStep(1.2, -1.2, dc);
                if (cover <= 0) continue;
                if (cover > 0.5) cellPx++;
                double dn = s.NucleusDistance(u, v);
                double ncover = Noise.SmoothStep(1.0, -1.0, dn) * cover;
                if (ncover > 0.5) nucleusPx++;

                double cytoTexture = 0.9 + 0.2 * Noise.Fbm(u / 6, v / 6, seed, 2);
                double cd = cover * (1 - ncover) * m.CytoplasmDensity * cytoTexture * (1 - s.PallorWeight(u, v, dn));
                double r = cyto.R * cd, g = cyto.G * cd, b = cyto.B * cd;
                if (ncover > 0)
                {
                    double t = Noise.Fbm(u / m.ChromatinScalePx, v / m.ChromatinScalePx, seed + 101, 3);
                    // Clumped chromatin: push texture towards dark clumps and pale parachromatin.
                    double clump = Noise.SmoothStep(0.5 - 0.35 * (1 - m.ChromatinContrast), 0.5 + 0.35 * (1 - m.ChromatinContrast), t);
                    double density = 1.0 + m.ChromatinContrast * (clump - 0.5) * 1.4;
                    foreach (var (nu, nv, nr) in s.Nucleoli)
                    {
                        double d2 = (u - nu) * (u - nu) + (v - nv) * (v - nv);
                        density *= 1 - 0.55 * Noise.SmoothStep(1.0, -1.0, Math.Sqrt(d2) - nr);
                    }
                    double nd = ncover * density;
                    r += nuc.R * nd; g += nuc.G * nd; b += nuc.B * nd;
                }
                float gw = granules[(py - y0) * bw + (px - x0)];
                if (gw > 0) { double gd = Math.Min(1.5, gw) * cover; r += gran.R * gd; g += gran.G * gd; b += gran.B * gd; }
                int i = py * Width + px;
                od[0][i] += (float)r; od[1][i] += (float)g; od[2][i] += (float)b;
            }
        return (cellPx, nucleusPx);
    }

    /// <summary>Optical density → light, then the slide's hue/saturation/brightness, optics blur and sensor noise.</summary>
    private static RgbImage Develop(float[][] od, SlideStain stain, Rng rng)
    {
        var bg = Background.OpticalDensity;
        uint bgSeed = (uint)rng.NextUInt64();
        double hue = stain.HueDegrees * Math.PI / 180, ch = Math.Cos(hue), sh = Math.Sin(hue);
        var rgb = new float[3][];
        for (int c = 0; c < 3; c++) rgb[c] = new float[Width * Height];
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                int i = y * Width + x;
                double bgVar = 0.85 + 0.3 * Noise.Fbm(x / 180.0, y / 180.0, bgSeed, 2);
                double r = Illumination.R * Math.Exp(-(od[0][i] + bg.R * bgVar) * stain.DensityR);
                double g = Illumination.G * Math.Exp(-(od[1][i] + bg.G * bgVar) * stain.DensityG);
                double b = Illumination.B * Math.Exp(-(od[2][i] + bg.B * bgVar) * stain.DensityB);
                // Hue rotation and saturation in YIQ, brightness on Y.
                double yy = 0.299 * r + 0.587 * g + 0.114 * b;
                double ii = 0.596 * r - 0.274 * g - 0.322 * b;
                double qq = 0.211 * r - 0.523 * g + 0.312 * b;
                double i2 = (ii * ch - qq * sh) * stain.Saturation, q2 = (ii * sh + qq * ch) * stain.Saturation;
                yy *= stain.Brightness;
                rgb[0][i] = (float)(yy + 0.956 * i2 + 0.621 * q2);
                rgb[1][i] = (float)(yy - 0.272 * i2 - 0.647 * q2);
                rgb[2][i] = (float)(yy - 1.106 * i2 + 1.703 * q2);
            }
        // Mild optical blur: separable Gaussian, sigma 0.8 px.
        float[] k = [0.0276f, 0.2165f, 0.5118f, 0.2165f, 0.0276f];
        var tmp = new float[Width * Height];
        var image = new RgbImage(Width, Height);
        for (int c = 0; c < 3; c++)
        {
            float[] src = rgb[c];
            for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++)
                {
                    float s = 0;
                    for (int t = -2; t <= 2; t++) s += k[t + 2] * src[y * Width + Math.Clamp(x + t, 0, Width - 1)];
                    tmp[y * Width + x] = s;
                }
            for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++)
                {
                    float s = 0;
                    for (int t = -2; t <= 2; t++) s += k[t + 2] * tmp[Math.Clamp(y + t, 0, Height - 1) * Width + x];
                    double noisy = s * 255 + 1.8 * rng.Normal();
                    image.Pixels[(y * Width + x) * 3 + c] = (byte)Math.Clamp(Math.Round(noisy), 0, 255);
                }
        }
        return image;
    }
}
