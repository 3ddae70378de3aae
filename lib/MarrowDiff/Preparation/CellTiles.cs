using MarrowDiff.Core;
using MarrowDiff.Data;
using MarrowDiff.Imaging;

namespace MarrowDiff.Preparation;

/// <summary>Where a cell's pixels come from, which decides whether it can be re-cropped at all.</summary>
public enum CropSource
{
    /// <summary>A whole field image and the cell's centre in it (the phantom, or any manifest with field_path and
    /// centre_x/centre_y): re-crops are taken from the field, as the paper did.</summary>
    Field,
    /// <summary>A larger image centred on one cell (public datasets ship 250×250 or 360×363 crops): brought to the
    /// tile size once, re-crops are taken inside it.</summary>
    SourceCrop,
    /// <summary>A bare 96×96 patch: there is no image around it, so it cannot be re-cropped.</summary>
    BarePatch,
}

/// <summary>How far an oversampled crop may move its centre: at most <paramref name="MaxShiftPx"/> pixels and at
/// most <paramref name="MaxShiftCellFraction"/> of the cell's diameter (when the diameter is known), in any
/// direction. The paper cropped "at slightly different centres"; a shift of a fifth of the cell keeps the whole cell
/// recognisably in the patch while moving its context.</summary>
public sealed record OversamplingSettings(int MaxShiftPx = 12, double MaxShiftCellFraction = 0.2)
{
    /// <summary>Side of a cell's tile: the patch plus the largest shift on every side.</summary>
    public int TileSize => CellPatch.Size + 2 * MaxShiftPx;

    public void Validate()
    {
        if (MaxShiftPx is < 0 or > 48) throw new ArgumentOutOfRangeException(nameof(MaxShiftPx), $"{MaxShiftPx}: use 0…48 px (half a patch)");
        if (MaxShiftCellFraction is < 0 or > 0.5) throw new ArgumentOutOfRangeException(nameof(MaxShiftCellFraction), $"{MaxShiftCellFraction}: use 0…0.5");
    }

    public override string ToString() => $"shift ≤ {MaxShiftPx} px and ≤ {MaxShiftCellFraction:0.##} of the cell diameter";
}

/// <summary>
/// One cell's neighbourhood at patch scale: the 96×96 patch plus <see cref="OversamplingSettings.MaxShiftPx"/>
/// pixels on every side. Every patch of the cell (the original and all re-crops) is cut from it, so the whole
/// training set needs only these small tiles in memory (≈ 43 KB a cell), never the fields or the patches.
/// </summary>
/// <param name="MaxShift">How far this cell's crop centre may move (0 when it cannot be re-cropped): the smallest of
/// the setting, the cell-diameter bound and the room left inside the source image.</param>
/// <param name="Reach">How far a crop centre can physically move inside the tile and the source image (≥
/// <paramref name="MaxShift"/>): the location-invariance analysis shifts test cells this far, beyond what
/// oversampling used for training.</param>
public sealed record CellTile(CellImage Cell, RgbImage Tile, int Margin, int MaxShift, CropSource Source, string Bound, int Reach)
{
    private int _renders;

    /// <summary>How many times a patch of this cell has been rendered: lets a test prove that no test cell was
    /// looked at before the final evaluation.</summary>
    public int Renders => Volatile.Read(ref _renders);

    /// <summary>The 96×96 patch whose centre is shifted by (dx, dy) from the cell's centre.</summary>
    public RgbImage Patch(int dx, int dy)
    {
        Interlocked.Increment(ref _renders);
        Check(dx, dy);
        return Tile.Crop(Margin + dx, Margin + dy, CellPatch.Size, CellPatch.Size);
    }

    // Oversampling keeps to MaxShift (SampleSet.Offsets draws within it); anything up to Reach is a real crop of the
    // source, and beyond it the patch would show padding that is not in the image.
    private void Check(int dx, int dy)
    {
        if (Math.Abs(dx) > Reach || Math.Abs(dy) > Reach)
            throw new ArgumentOutOfRangeException(nameof(dx), $"shift ({dx},{dy}) exceeds the ±{Reach} px the source image allows around {Cell.Path}");
    }

    /// <summary>Writes the patch shifted by (dx, dy) and transformed by <paramref name="g"/> into 3 network input
    /// planes, without allocating an intermediate image.</summary>
    internal void FillPlanes(int dx, int dy, D4 g, Span<float> chw)
    {
        Interlocked.Increment(ref _renders);
        Check(dx, dy);
        const int n = CellPatch.Size;
        const float scale = 1f / 255f;
        byte[] p = Tile.Pixels;
        int w = Tile.Width, x0 = Margin + dx, y0 = Margin + dy;
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
            {
                (int sx, int sy) = g.SourceOf(x, y, n);
                int s = ((y0 + sy) * w + x0 + sx) * 3, d = y * n + x;
                var (yy, u, v) = Yuv.FromRgb(p[s] * scale, p[s + 1] * scale, p[s + 2] * scale);
                chw[d] = yy; chw[n * n + d] = u; chw[2 * n * n + d] = v;
            }
    }

    /// <summary><see cref="FillPlanes"/> followed by a turn of <paramref name="angle"/> radians about the patch centre
    /// (bilinear). A turned corner reaches √2 × 48 ≈ 68 px from the centre, past the tile's 48 + margin: there the tile
    /// is mirrored at its edge, so the corner shows background like the rest of the tile rather than a black wedge whose
    /// position would tell the network the angle.</summary>
    internal void FillPlanesTurned(int dx, int dy, D4 g, double angle, Span<float> chw)
    {
        Interlocked.Increment(ref _renders);
        Check(dx, dy);
        const int n = CellPatch.Size;
        const float scale = 1f / 255f;
        byte[] p = Tile.Pixels;
        int w = Tile.Width, h = Tile.Height;
        double c = (n - 1) / 2.0, cos = Math.Cos(angle), sin = Math.Sin(angle);
        static int Mirror(int i, int length) { while (i < 0 || i >= length) i = i < 0 ? -i : 2 * (length - 1) - i; return i; }
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
            {
                // Undo the turn (applied last), then the D4 pose, in continuous patch coordinates.
                double rx = cos * (x - c) + sin * (y - c) + c, ry = -sin * (x - c) + cos * (y - c) + c;
                (double ux, double uy) = g.SourceOf(rx, ry, n);
                double sx = Margin + dx + ux, sy = Margin + dy + uy;
                int x0 = (int)Math.Floor(sx), y0 = (int)Math.Floor(sy);
                double fx = sx - x0, fy = sy - y0;
                int xa = Mirror(x0, w), xb = Mirror(x0 + 1, w), ya = Mirror(y0, h), yb = Mirror(y0 + 1, h);
                int aa = (ya * w + xa) * 3, ba = (ya * w + xb) * 3, ab = (yb * w + xa) * 3, bb = (yb * w + xb) * 3;
                double Blend(int k) => (1 - fy) * ((1 - fx) * p[aa + k] + fx * p[ba + k]) + fy * ((1 - fx) * p[ab + k] + fx * p[bb + k]);
                var (yy, u, v) = Yuv.FromRgb((float)Blend(0) * scale, (float)Blend(1) * scale, (float)Blend(2) * scale);
                int d = y * n + x;
                chw[d] = yy; chw[n * n + d] = u; chw[2 * n * n + d] = v;
            }
    }
}

/// <summary>The tiles of a set of cells, built once: each field image is decoded once and all its cells cut out.</summary>
public sealed class CellTiles
{
    private readonly Dictionary<CellImage, int> _index;

    private CellTiles(IReadOnlyList<CellTile> tiles, OversamplingSettings settings, IReadOnlyList<string> notes, IReadOnlyDictionary<string, SourceScale> scales)
    {
        Tiles = tiles; Settings = settings; Notes = notes; Scales = scales;
        _index = new Dictionary<CellImage, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < tiles.Count; i++) _index[tiles[i].Cell] = i;
    }

    public IReadOnlyList<CellTile> Tiles { get; }

    public OversamplingSettings Settings { get; }

    /// <summary>The pitch of each source that was resampled to the project's (given or estimated), by source.</summary>
    public IReadOnlyDictionary<string, SourceScale> Scales { get; }

    /// <summary>How each kind of source was turned into tiles (scales, bounds), for the reader.</summary>
    public IReadOnlyList<string> Notes { get; }

    public int IndexOf(CellImage cell) => _index.TryGetValue(cell, out int i) ? i
        : throw new KeyNotFoundException($"no tile for {cell.Path}: tiles were built for another set of cells");

    public CellTile this[CellImage cell] => Tiles[IndexOf(cell)];

    /// <summary>Bytes held by the tiles.</summary>
    public long Bytes => Tiles.Sum(t => (long)t.Tile.Pixels.Length);

    /// <summary>Builds tiles for <paramref name="cells"/>. Unreadable images stop the build with the file and the reason.
    /// Source crops of a source in <paramref name="scales"/> are first resampled from its pitch to the project's
    /// (<see cref="CellPatch.PitchUm"/>), so a cell is as many pixels across whichever dataset it came from.</summary>
    public static CellTiles Build(IReadOnlyList<CellImage> cells, OversamplingSettings settings, CellImageReader? reader = null, IProgress<WorkProgress>? progress = null,
                                  IReadOnlyDictionary<string, SourceScale>? scales = null)
    {
        scales ??= new Dictionary<string, SourceScale>();
        settings.Validate();
        reader ??= new CellImageReader();
        var tiles = new CellTile[cells.Count];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int done = 0;
        void Tick() { done++; if (done % 50 == 0 || done == cells.Count) progress?.Report(new WorkProgress("cutting cell tiles", done, cells.Count, clock.Elapsed)); }

        int fields = CutFromFields(cells, tiles, settings, reader, Tick);
        var tally = new CropTally();
        for (int i = 0; i < cells.Count; i++)
        {
            if (tiles[i] is not null) continue;
            tiles[i] = CutFromCrop(cells[i], reader.Read(cells[i].Path), settings, scales, tally);
            Tick();
        }
        return new CellTiles(tiles, settings, NotesOn(cells.Count, fields, tally, settings, scales), scales);
    }

    /// <summary>What the crops were, for the notes: how many of each kind, and their sizes.</summary>
    private sealed class CropTally
    {
        public int Squares, Bare;
        public SortedSet<string> SquareSizes { get; } = new(StringComparer.Ordinal);
        public SortedDictionary<string, (int Cells, SortedSet<string> Sizes)> Resampled { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>How far a cell's re-crops may move: the setting, the room the source image leaves, and a share of the
    /// cell's diameter when it is known, whichever is least; <paramref name="bound"/> says which.</summary>
    private static int BoundByCell(CellImage c, int room, OversamplingSettings settings, out string bound)
    {
        int margin = settings.MaxShiftPx;
        int shift = Math.Min(margin, room);
        bound = shift < margin ? "room left in the source image" : $"the {margin} px setting";
        if (c.DiameterPx is { } d)
        {
            int byCell = (int)Math.Floor(settings.MaxShiftCellFraction * d);
            if (byCell < shift) { shift = byCell; bound = $"{settings.MaxShiftCellFraction:0.##} of the cell diameter"; }
        }
        return Math.Max(0, shift);
    }

    /// <summary>The cells with a field and a centre, cut from their field at its native scale: one decode per field.
    /// Returns the number of fields read.</summary>
    private static int CutFromFields(IReadOnlyList<CellImage> cells, CellTile[] tiles, OversamplingSettings settings, CellImageReader reader, Action tick)
    {
        const int patch = CellPatch.Size;
        var byField = Enumerable.Range(0, cells.Count).Where(i => cells[i].FieldPath is not null && cells[i].CentreX is not null && cells[i].CentreY is not null)
                                .GroupBy(i => cells[i].FieldPath!, StringComparer.Ordinal);
        int fieldCount = 0;
        foreach (var field in byField)
        {
            RgbImage image = reader.Read(field.Key);
            fieldCount++;
            foreach (int i in field)
            {
                CellImage c = cells[i];
                int cx = c.CentreX!.Value, cy = c.CentreY!.Value;
                if (cx < 0 || cy < 0 || cx >= image.Width || cy >= image.Height)
                    throw new InvalidDataException($"{c.Path}: centre ({cx},{cy}) lies outside its field {field.Key} ({image.Width}x{image.Height})");
                int room = new[] { cx - patch / 2, image.Width - (cx + patch / 2), cy - patch / 2, image.Height - (cy + patch / 2) }.Min();
                int shift = BoundByCell(c, room, settings, out string bound);
                tiles[i] = new CellTile(c, image.CropCentred(cx, cy, settings.TileSize), settings.MaxShiftPx, shift, CropSource.Field, bound, Math.Clamp(room, 0, settings.MaxShiftPx));
                tick();
            }
        }
        return fieldCount;
    }

    /// <summary>A cell that is its own image: a bare patch as it is, a crop of a source of known pitch resampled to the
    /// project's, or else the crop's central square resampled to fill the tile.</summary>
    private static CellTile CutFromCrop(CellImage c, RgbImage image, OversamplingSettings settings, IReadOnlyDictionary<string, SourceScale> scales, CropTally tally)
    {
        const int patch = CellPatch.Size;
        int margin = settings.MaxShiftPx, size = settings.TileSize;
        if (image.Width == patch && image.Height == patch)
        {
            tally.Bare++;
            return new CellTile(c, image.CropCentred(patch / 2, patch / 2, size), margin, 0, CropSource.BarePatch, "bare 96x96 patch, no image around it", 0);
        }
        if (scales.TryGetValue(c.Source, out SourceScale? scale))
        {
            // One physical scale: the whole crop resampled to the project's pitch, then the tile cut at its centre.
            // Re-crops move within what the crop really shows, never into padding.
            double f = scale.PitchUm / CellPatch.PitchUm;
            int w2 = (int)Math.Round(image.Width * f), h2 = (int)Math.Round(image.Height * f);
            if (Math.Min(w2, h2) < patch)
                throw new InvalidDataException($"{c.Path}: at the project's pitch ({CellPatch.PitchUm} µm/px) this {image.Width}x{image.Height} crop of source " +
                                               $"{c.Source} ({scale.PitchUm:0.###} µm/px) is only {w2}x{h2} px, smaller than a {patch}-px patch");
            RgbImage scaled = image.Resize(w2, h2);
            int room = (Math.Min(w2, h2) - patch) / 2;
            int shift = BoundByCell(c, room, settings, out string bound);
            if (!tally.Resampled.TryGetValue(c.Source, out var r)) tally.Resampled[c.Source] = r = (0, new SortedSet<string>(StringComparer.Ordinal));
            tally.Resampled[c.Source] = (r.Cells + 1, r.Sizes);
            r.Sizes.Add($"{image.Width}x{image.Height}");
            return new CellTile(c, scaled.CropCentred(w2 / 2, h2 / 2, size), margin, shift, CropSource.SourceCrop, bound, Math.Clamp(room, 0, margin));
        }
        // The central square of the source crop, resampled so that it fills the tile: the 96-px patch then
        // shows the central 96/tile of it, and re-crops move within the rest. One scale for every image of
        // one size, so a cell's size stays comparable between cells of the same source.
        int side = Math.Min(image.Width, image.Height);
        RgbImage square = image.CropCentred(image.Width / 2, image.Height / 2, side);
        tally.SquareSizes.Add($"{image.Width}x{image.Height}");
        tally.Squares++;
        return new CellTile(c, square.Resize(size, size), margin, BoundByCell(c, margin, settings, out string squareBound), CropSource.SourceCrop, squareBound, margin);
    }

    /// <summary>One line a kind of tile: where the cells were cut from, at what scale, how far their re-crops may move.</summary>
    private static List<string> NotesOn(int cells, int fieldCount, CropTally tally, OversamplingSettings settings, IReadOnlyDictionary<string, SourceScale> scales)
    {
        const int patch = CellPatch.Size;
        int margin = settings.MaxShiftPx, size = settings.TileSize;
        var notes = new List<string>();
        if (fieldCount > 0) notes.Add($"{cells - tally.Squares - tally.Bare} cells cut from {fieldCount} field images at their native scale; {settings}");
        if (tally.Squares > 0) notes.Add($"{tally.Squares} cells from source crops ({string.Join(", ", tally.SquareSizes)}): the central square of each is resampled to {size}x{size} px, " +
                                         $"so a 96-px patch shows its central {100.0 * patch / size:0}%; shifts ≤ {margin} px (no cell diameter is known for them)");
        foreach (var (source, (n, sizes)) in tally.Resampled)
        {
            var sc = scales[source];
            notes.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{n} cells of {source} ({string.Join(", ", sizes)}) resampled from {sc.PitchUm:0.###} to {CellPatch.PitchUm} µm/px (x{sc.PitchUm / CellPatch.PitchUm:0.###}; pitch {sc.How}); shifts ≤ {margin} px within the crop"));
        }
        if (tally.Bare > 0) notes.Add($"{tally.Bare} cells are bare 96x96 patches: they can be used as they are, but not re-cropped");
        return notes;
    }
}
