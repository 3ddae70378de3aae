namespace MarrowDiff.Reports;

/// <summary>One column of a table: its header and how a row fills it.</summary>
public sealed record Column<T>(string Header, Func<T, string> Cell);

/// <summary>
/// A table's columns, once: its HTML (a notebook), CSV (a file a spreadsheet reads) and Markdown (a file GitHub shows)
/// are all rendered from this one list, so a column added, renamed or reordered changes all three together.
/// </summary>
public sealed class Columns<T>(IReadOnlyList<Column<T>> columns)
{
    public IReadOnlyList<string> Headers { get; } = [.. columns.Select(c => c.Header)];

    /// <summary>A row's cells, in column order.</summary>
    public string[] Cells(T row) => [.. columns.Select(c => c.Cell(row))];

    public HtmlView Html(string caption, IEnumerable<T> rows) => HtmlView.Table(caption, Headers, rows.Select(r => (IReadOnlyList<object?>)Cells(r)));

    /// <summary>The caption as a leading comment line, the header, one line a row; ends with a newline.</summary>
    public string Csv(string caption, IEnumerable<T> rows) =>
        string.Join("\n", new[] { $"# {caption}", Core.Csv.Line([.. Headers]) }.Concat(rows.Select(r => Core.Csv.Line(Cells(r))))) + "\n";

    /// <summary>A pipe table (header, rule, one line a row), without a caption: the caller puts its caption and notes
    /// around it.</summary>
    public string Markdown(IEnumerable<T> rows) => HtmlView.PipeTable(Headers, rows.Select(r => (IReadOnlyList<string>)Cells(r)));
}
