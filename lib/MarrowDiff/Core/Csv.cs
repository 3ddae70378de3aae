using System.Text;

namespace MarrowDiff.Core;

/// <summary>Minimal RFC 4180 CSV: quoted fields, doubled quotes, commas and newlines inside quotes.</summary>
public static class Csv
{
    /// <summary>The rows of <paramref name="text"/>. A quote that is opened and never closed would swallow the rest of
    /// the file into one field: it is refused, naming <paramref name="name"/> and the line where it opened.</summary>
    public static List<string[]> Parse(string text, string name = "CSV")
    {
        var rows = new List<string[]>();
        var row = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        int line = 1, openedOn = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\n') line++;
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') { quoted = true; openedOn = line; }
            else if (c == ',') { row.Add(field.ToString()); field.Clear(); }
            else if (c == '\n' || c == '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
                row.Add(field.ToString()); field.Clear();
                if (row.Count > 1 || row[0].Length > 0) rows.Add([.. row]);
                row.Clear();
            }
            else field.Append(c);
        }
        if (quoted) throw new InvalidDataException($"{name}:{openedOn}: a quoted field opens here and is never closed (it would take in the rest of the file)");
        if (field.Length > 0 || row.Count > 0) { row.Add(field.ToString()); rows.Add([.. row]); }
        return rows;
    }

    public static string Escape(string? value)
    {
        value ??= "";
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }

    public static string Line(params object?[] values) =>
        string.Join(",", values.Select(v => Escape(v switch
        {
            null => "",
            double d => d.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
            _ => v.ToString(),
        })));
}
