using System.Globalization;

namespace MarrowDiff.Data;

/// <summary>A box around one annotated cell of a field, in the field's pixels (x0, y0 inclusive; x1, y1 exclusive).</summary>
public sealed record CellBox(double X0, double Y0, double X1, double Y1)
{
    public double CentreX => (X0 + X1) / 2;
    public double CentreY => (Y0 + Y1) / 2;
    public bool Contains(double x, double y) => x >= X0 && x <= X1 && y >= Y0 && y <= Y1;
}

/// <summary>
/// YOLO box labels, as the TXL-PBC fields carry them: one text file per image with the same stem, a line per box,
/// <c>class cx cy w h</c> with the four numbers as fractions of the image's width and height. A malformed line is an
/// error naming the file and the line, never skipped.
/// </summary>
public static class YoloLabels
{
    /// <summary>The boxes of <paramref name="classId"/> (TXL-PBC: 0 = white cell, 1 = red cell, 2 = platelet).</summary>
    public static IReadOnlyList<CellBox> Read(string path, int width, int height, int classId = 0)
    {
        var boxes = new List<CellBox>();
        int number = 0;
        foreach (string raw in File.ReadLines(path))
        {
            number++;
            string line = raw.Trim();
            if (line.Length == 0) continue;
            string[] f = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length != 5 || !int.TryParse(f[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int c)
                || !f.Skip(1).All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d >= 0 && d <= 1.0001))
                throw new InvalidDataException($"{path}, line {number}: '{line}' is not 'class cx cy w h' with four fractions of the image size");
            if (c != classId) continue;
            double cx = Parse(f[1]) * width, cy = Parse(f[2]) * height, bw = Parse(f[3]) * width, bh = Parse(f[4]) * height;
            boxes.Add(new CellBox(cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2));
        }
        return boxes;
    }

    private static double Parse(string v) => double.Parse(v, CultureInfo.InvariantCulture);
}
