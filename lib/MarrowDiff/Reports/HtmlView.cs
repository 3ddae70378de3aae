using System.Net;
using System.Text.Encodings.Web;
using System.Text;
using Microsoft.AspNetCore.Html;

namespace MarrowDiff.Reports;

/// <summary>A piece of HTML that a notebook displays as is (IHtmlContent is what the .NET Interactive formatter
/// renders as text/html), that a console shows as plain text, and that a committed .md file holds as Markdown (GitHub
/// runs space-aligned text together into one paragraph, so files get pipe tables).</summary>
public sealed class HtmlView(string html, string text, string? markdown = null) : IHtmlContent
{
    public string Html { get; } = html;

    /// <summary>The view as Markdown: a table as a pipe table under its caption in bold; other text as it is.</summary>
    public string Markdown { get; } = markdown ?? text;

    public void WriteTo(TextWriter writer, HtmlEncoder encoder) => writer.Write(Html);

    public override string ToString() => text;

    /// <summary>A table: header row, body rows, an optional caption (provenance goes there).</summary>
    public static HtmlView Table(string caption, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<object?>> rows)
    {
        var body = rows.ToList();
        var html = new StringBuilder("<table style=\"border-collapse:collapse;font:13px sans-serif\">");
        html.Append("<caption style=\"text-align:left;font-weight:bold;padding:4px 0\">").Append(Encode(caption)).Append("</caption><tr>");
        foreach (string h in header) html.Append("<th style=\"border-bottom:1px solid #999;padding:2px 8px;text-align:left\">").Append(Encode(h)).Append("</th>");
        html.Append("</tr>");
        foreach (var row in body)
        {
            html.Append("<tr>");
            foreach (object? cell in row) html.Append("<td style=\"padding:2px 8px;border-bottom:1px solid #eee\">").Append(Encode(Format(cell))).Append("</td>");
            html.Append("</tr>");
        }
        html.Append("</table>");

        var text = new StringBuilder(caption).AppendLine();
        var widths = header.Select((h, i) => Math.Max(h.Length, body.Select(r => Format(r[i]).Length).DefaultIfEmpty(0).Max())).ToArray();
        text.AppendLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))));
        foreach (var row in body) text.AppendLine(string.Join("  ", row.Select((c, i) => Format(c).PadRight(widths[i]))));
        string markdown = $"**{MarkdownCell(caption)}**\n\n" + PipeTable(header, body.Select(r => (IReadOnlyList<string>)[.. r.Select(Format)]));
        return new HtmlView(html.ToString(), text.ToString(), markdown);
    }

    /// <summary>A Markdown pipe table without a caption: the header, the rule, one line a row; every cell escaped.</summary>
    public static string PipeTable(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var markdown = new StringBuilder("| ").Append(string.Join(" | ", header.Select(MarkdownCell))).Append(" |\n");
        markdown.Append('|').Append(string.Concat(header.Select(_ => "---|"))).Append('\n');
        foreach (var row in rows) markdown.Append("| ").Append(string.Join(" | ", row.Select(MarkdownCell))).Append(" |\n");
        return markdown.ToString();
    }

    // A cell of a pipe table: a '|' would end the cell, a line break the row.
    private static string MarkdownCell(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace("\r", "", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    public static string Encode(string s) => WebUtility.HtmlEncode(s);

    /// <summary>A paragraph of plain text.</summary>
    public static HtmlView Paragraph(string text) => new($"<p style=\"font:13px sans-serif;max-width:60em\">{Encode(text)}</p>", text);

    private static string Format(object? v) => v switch
    {
        null => "",
        double d => d.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    /// <summary>Several views one after another.</summary>
    public static HtmlView Concat(params HtmlView[] views) =>
        new(string.Concat(views.Select(v => v.Html + "<br/>")), string.Join(Environment.NewLine, views.Select(v => v.ToString())),
            string.Join("\n\n", views.Select(v => v.Markdown.TrimEnd('\n'))) + "\n");
}
