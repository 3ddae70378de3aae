using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Text;

namespace MarrowDiff.Notebooks;

/// <summary>
/// Papermill's convention for C#: the cell tagged <c>parameters</c> declares the defaults
/// (<c>string profile = "smoke";</c>); overrides are injected as a new cell right after it, tagged
/// <c>injected-parameters</c>, that assigns the new values. Types come from the declarations, so a value that
/// does not fit (seed = "abc") or a name the notebook does not declare is an error before any cell runs.
/// </summary>
public static partial class NotebookParameters
{
    public const string Tag = "parameters", InjectedTag = "injected-parameters";

    [GeneratedRegex(@"^\s*(?:var|(?<type>[A-Za-z_][\w.]*\??))\s+(?<name>[A-Za-z_]\w*)\s*=\s*(?<value>[^;]+);", RegexOptions.Multiline)]
    private static partial Regex Declaration();

    /// <summary>Names and C# types declared in the notebook's parameters cell.</summary>
    public static IReadOnlyDictionary<string, string> Declared(NotebookDocument notebook)
    {
        JsonNode? cell = notebook.Cells.FirstOrDefault(c => c is not null && NotebookDocument.Tags(c).Contains(Tag));
        if (cell is null) return new Dictionary<string, string>();
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in Declaration().Matches(NotebookDocument.Source(cell)))
        {
            string type = m.Groups["type"].Success ? m.Groups["type"].Value : InferType(m.Groups["value"].Value.Trim());
            result[m.Groups["name"].Value] = type.TrimEnd('?');
        }
        return result;
    }

    /// <summary>The default a parameter is declared with, a string literal unquoted (null if not declared).</summary>
    public static string? Default(NotebookDocument notebook, string name)
    {
        JsonNode? cell = notebook.Cells.FirstOrDefault(c => c is not null && NotebookDocument.Tags(c).Contains(Tag));
        if (cell is null) return null;
        Match? m = Declaration().Matches(NotebookDocument.Source(cell)).FirstOrDefault(m => m.Groups["name"].Value == name);
        if (m is null) return null;
        string value = m.Groups["value"].Value.Trim();
        return value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? value[1..^1] : value;
    }

    private static string InferType(string literal) =>
        literal.StartsWith('"') ? "string" : literal is "true" or "false" ? "bool" :
        int.TryParse(literal, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) ? "int" : "double";

    /// <summary>Inserts the injected-parameters cell after the parameters cell. Throws for unknown names and bad values.</summary>
    public static void Inject(NotebookDocument notebook, IReadOnlyDictionary<string, string> overrides)
    {
        if (overrides.Count == 0) return;
        var declared = Declared(notebook);
        int index = -1;
        for (int i = 0; i < notebook.Cells.Count; i++)
            if (NotebookDocument.Tags(notebook.Cells[i]!).Contains(Tag)) { index = i; break; }
        if (index < 0)
            throw new ArgumentException($"{notebook.Path}: has no cell tagged '{Tag}', so it takes no parameters (given: {string.Join(", ", overrides.Keys)})");

        var code = new StringBuilder("// Parameters injected by the MarrowDiff notebook runner\n");
        foreach (var (name, value) in overrides)
        {
            if (!declared.TryGetValue(name, out string? type))
                throw new ArgumentException($"{notebook.Path}: no parameter '{name}' (it declares: {string.Join(", ", declared.Keys)})");
            code.Append(name).Append(" = ").Append(Literal(name, type, value)).Append(";\n");
        }
        notebook.Cells.Insert(index + 1, NotebookDocument.NewCodeCell(code.ToString(), InjectedTag));
    }

    private static string Literal(string name, string type, string value)
    {
        switch (type)
        {
            case "string" or "System.String":
                return "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n").Replace("\r", "\\r") + "\"";
            case "int" or "long" or "System.Int32" or "System.Int64":
                return long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l) ? l.ToString(CultureInfo.InvariantCulture)
                    : throw new ArgumentException($"parameter '{name}' is {type}: '{value}' is not a whole number");
            case "double" or "float" or "System.Double":
                return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d.ToString("R", CultureInfo.InvariantCulture)
                    : throw new ArgumentException($"parameter '{name}' is {type}: '{value}' is not a number");
            case "bool" or "System.Boolean":
                return bool.TryParse(value, out bool b) ? (b ? "true" : "false")
                    : throw new ArgumentException($"parameter '{name}' is bool: '{value}' is not true or false");
            default:
                throw new ArgumentException($"parameter '{name}' has type {type}, which the runner cannot set (string, int, long, double, bool)");
        }
    }
}
