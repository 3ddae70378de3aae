using MarrowDiff.Core;
using MarrowDiff.Data;

namespace MarrowDiff.Phantom;

/// <summary>
/// One white cell of the phantom, in its own frame (px, origin at the cell centre, already rotated): outline,
/// nucleus, nucleoli and granules, drawn from its stage's <see cref="Morphology"/>. Geometry is signed distance
/// functions (negative inside), so edges can be anti-aliased and areas measured exactly.
/// </summary>
internal sealed class CellShape
{
    public readonly Morphology M;
    public readonly double Radius;           // px, mean cell radius
    private readonly double _aspect;         // minor/major of the outline
    private readonly double[] _wobA = new double[3], _wobP = new double[3];
    private readonly double _nu;             // nucleus centre (on the u axis)
    private readonly double _nr;             // nucleus radius (round/flattened/kidney/pyknotic), band arc radius, lobe radius
    private readonly double _bandAlpha, _bandWidth;
    private readonly (double U, double V, double R)[] _lobes = [];
    private readonly double _filament;
    private readonly double[] _nWobA = new double[2], _nWobP = new double[2];
    public readonly (double U, double V, double R)[] Nucleoli;
    public readonly (double U, double V, double R)[] Granules;
    public readonly uint TextureSeed;
    public readonly double Cos, Sin;         // rotation of the cell frame in the field

    public CellShape(CellClass cls, double pitchUm, Rng rng)
    {
        M = Morphology.Of(cls);
        double diameter = rng.Uniform(M.DiameterUm.Min, M.DiameterUm.Max);
        Radius = diameter / 2 / pitchUm;
        _aspect = rng.Uniform(0.88, 1.0);
        for (int k = 0; k < 3; k++) { _wobA[k] = rng.Uniform(0, 0.035) / (k + 1); _wobP[k] = rng.Uniform(0, 2 * Math.PI); }
        for (int k = 0; k < 2; k++) { _nWobA[k] = rng.Uniform(0, 0.05) / (k + 1); _nWobP[k] = rng.Uniform(0, 2 * Math.PI); }
        double angle = rng.Uniform(0, 2 * Math.PI);
        Cos = Math.Cos(angle); Sin = Math.Sin(angle);
        TextureSeed = (uint)rng.NextUInt64();

        double fraction = rng.Uniform(M.NuclearFraction.Min, M.NuclearFraction.Max);
        double cellArea = Math.PI * Radius * Radius * _aspect;
        double nucleusArea = fraction * cellArea;
        // Eccentric nuclei sit towards -u; the flat side, indentation or open side of a band faces +u (the cell centre).
        switch (M.Shape)
        {
            case NucleusShape.Round or NucleusShape.Pyknotic:
                _nr = Math.Sqrt(nucleusArea / Math.PI);
                _nu = -M.Eccentricity * (Radius * _aspect - _nr) * rng.Uniform(0.6, 1.0);
                break;
            case NucleusShape.Flattened: // a disc cut by a chord at 0.6 r keeps ~0.88 of its area
                _nr = Math.Sqrt(nucleusArea / (Math.PI * 0.88));
                _nu = -M.Eccentricity * Math.Max(0, Radius * _aspect - _nr);
                break;
            case NucleusShape.Kidney: // the indentation (radius 0.62 r at 1.05 r) takes ~0.2 of the disc
                _nr = Math.Sqrt(nucleusArea / (Math.PI * 0.80));
                _nu = -M.Eccentricity * Math.Max(0, Radius * _aspect - _nr);
                break;
            case NucleusShape.Band:
                _nr = Radius * rng.Uniform(0.40, 0.52);               // arc radius
                _bandAlpha = rng.Uniform(1.15, 1.75);                  // half the arc, rad: from C to U
                _bandWidth = nucleusArea / (2 * _bandAlpha * _nr); // even width along the band: area ≈ arc length × width
                _bandWidth = Math.Min(_bandWidth, _nr * 0.9);
                _nu = _nr * 0.35;
                break;
            case NucleusShape.Segmented:
            {
                double p = rng.NextDouble();
                int lobes = p < 0.15 ? 2 : p < 0.6 ? 3 : p < 0.9 ? 4 : 5;
                double r = Math.Sqrt(nucleusArea / (lobes * Math.PI));
                double arc = Radius * rng.Uniform(0.42, 0.55);
                double gap = rng.Uniform(2.5, 5.0);                   // px between lobes, bridged by a filament
                double half = (lobes - 1) * (2 * r + gap) / (2 * arc);
                if (half > 2.4) { arc *= half / 2.4; half = 2.4; }
                if (arc + r > Radius * 0.9) { r = Math.Max(3, Radius * 0.9 - arc); }
                _lobes = new (double, double, double)[lobes];
                for (int i = 0; i < lobes; i++)
                {
                    double t = lobes == 1 ? 0 : -half + 2 * half * i / (lobes - 1) + rng.Uniform(-0.12, 0.12);
                    double rr = arc + rng.Uniform(-0.15, 0.15) * r;
                    _lobes[i] = (arc * 0.35 - rr * Math.Cos(t), rr * Math.Sin(t), r * rng.Uniform(0.85, 1.12));
                }
                _filament = rng.Uniform(0.7, 1.1);                    // half-width, px: thin chromatin strands
                break;
            }
        }

        int nucleoli = rng.Next(M.Nucleoli.Min, M.Nucleoli.Max + 1);
        Nucleoli = new (double, double, double)[nucleoli];
        for (int i = 0; i < nucleoli; i++)
        {
            double a = rng.Uniform(0, 2 * Math.PI), d = rng.Uniform(0, 0.55) * _nr;
            Nucleoli[i] = (_nu + d * Math.Cos(a), d * Math.Sin(a), rng.Uniform(0.5, 1.0) / pitchUm);
        }

        double cytoplasmUm2 = (cellArea - nucleusArea) * pitchUm * pitchUm;
        int granules = (int)Math.Round(M.Granules * cytoplasmUm2 / 100 * rng.Uniform(0.8, 1.2));
        var g = new List<(double, double, double)>(granules);
        for (int tries = 0; g.Count < granules && tries < granules * 20; tries++)
        {
            double u = rng.Uniform(-Radius, Radius), v = rng.Uniform(-Radius, Radius);
            if (CellDistance(u, v) > -1.5) continue;
            // Azurophilic granules (promyelocyte) also lie over the nucleus; fine neutrophilic ones stay in the cytoplasm.
            if (M.Class != CellClass.Promyelocyte && NucleusDistance(u, v) < 1) continue;
            g.Add((u, v, M.GranuleRadiusPx * rng.Uniform(0.7, 1.3)));
        }
        Granules = [.. g];
    }

    /// <summary>Signed distance to the cell outline, px (negative inside).</summary>
    public double CellDistance(double u, double v)
    {
        double vv = v / _aspect;
        double r = Math.Sqrt(u * u + vv * vv);
        double t = Math.Atan2(vv, u);
        double wob = 1 + _wobA[0] * Math.Cos(2 * t + _wobP[0]) + _wobA[1] * Math.Cos(3 * t + _wobP[1]) + _wobA[2] * Math.Cos(5 * t + _wobP[2]);
        return (r - Radius * wob) * Math.Min(1, _aspect + 0.1);
    }

    /// <summary>Signed distance to the nucleus outline, px (negative inside).</summary>
    public double NucleusDistance(double u, double v)
    {
        double qu = u - _nu, qv = v;
        switch (M.Shape)
        {
            case NucleusShape.Round or NucleusShape.Pyknotic:
            {
                double t = Math.Atan2(qv, qu);
                double wob = 1 + _nWobA[0] * Math.Cos(2 * t + _nWobP[0]) + _nWobA[1] * Math.Cos(3 * t + _nWobP[1]);
                return Math.Sqrt(qu * qu + qv * qv) - _nr * wob;
            }
            case NucleusShape.Flattened:
                {
                double t = Math.Atan2(qv, qu);
                double wob = 1 + _nWobA[0] * Math.Cos(2 * t + _nWobP[0]) + _nWobA[1] * Math.Cos(3 * t + _nWobP[1]);
                // Soft union of disc and chord (smooth max), so the flat side has rounded corners.
                double a = Math.Sqrt(qu * qu + qv * qv) - _nr * wob, b = qu - 0.6 * _nr + 0.04 * qv * qv / _nr;
                double k = 0.25 * _nr, h = Math.Clamp(0.5 + 0.5 * (a - b) / k, 0, 1);
                return a * h + b * (1 - h) + k * h * (1 - h);
            }
            case NucleusShape.Kidney:
            {
                double disc = Math.Sqrt(qu * qu + qv * qv) - _nr;
                double du = qu - 1.05 * _nr;
                double notch = 0.62 * _nr - Math.Sqrt(du * du + qv * qv);
                return Math.Max(disc, notch);
            }
            case NucleusShape.Band:
            {
                // Arc centred at (_nu, 0) opening towards +u; the band's midline is at radius _nr.
                double au = -qu, av = qv;
                double phi = Math.Clamp(Math.Atan2(av, au), -_bandAlpha, _bandAlpha);
                double pu = _nr * Math.Cos(phi), pv = _nr * Math.Sin(phi);
                double du = au - pu, dv = av - pv;
                return Math.Sqrt(du * du + dv * dv) - _bandWidth / 2;
            }
            case NucleusShape.Segmented:
            {
                double d = double.MaxValue;
                for (int i = 0; i < _lobes.Length; i++)
                {
                    var (lu, lv, lr) = _lobes[i];
                    d = Math.Min(d, Math.Sqrt((u - lu) * (u - lu) + (v - lv) * (v - lv)) - lr);
                    if (i > 0) d = Math.Min(d, Segment(u, v, _lobes[i - 1].U, _lobes[i - 1].V, lu, lv) - _filament);
                }
                return d;
            }
            default:
                throw new InvalidOperationException(M.Shape.ToString());
        }
    }

    private static double Segment(double u, double v, double au, double av, double bu, double bv)
    {
        double pu = u - au, pv = v - av, eu = bu - au, ev = bv - av;
        double h = Math.Clamp((pu * eu + pv * ev) / (eu * eu + ev * ev), 0, 1);
        double du = pu - eu * h, dv = pv - ev * h;
        return Math.Sqrt(du * du + dv * dv);
    }

    /// <summary>How much paler the cytoplasm is at (u, v), 0…1: the perinuclear (Golgi) zone of a promyelocyte on the
    /// side of the nucleus facing the cell centre, or a thin halo round the nucleus of a blast or early normoblast.</summary>
    public double PallorWeight(double u, double v, double nucleusDistance)
    {
        if (M.PerinuclearPallor <= 0) return 0;
        if (M.Class == CellClass.Promyelocyte)
        {
            double gu = _nu + _nr * 1.15, du = u - gu, r = _nr * 0.5;
            return M.PerinuclearPallor * Math.Exp(-(du * du + v * v) / (r * r));
        }
        // Blast and early normoblast: a thin pale halo round the nucleus.
        return nucleusDistance is > 0 and < 6 ? M.PerinuclearPallor * (1 - nucleusDistance / 6) : 0;
    }
}
