using MarrowDiff.Reports;

namespace MarrowDiff.Tests.Reports;

public class HtmlViewTests
{
    [Fact]
    public void ATable_IsAPipeTableInMarkdown_UnderItsCaption_WithBarsAndLineBreaksInCellsKeptInTheirCell()
    {
        var table = HtmlView.Table("Dual stage - smoke | seed 2017", ["model", "accuracy %"], [["AG+OS60", 97.44], ["a|b\nc", null]]);
        Assert.Equal("**Dual stage - smoke \\| seed 2017**\n\n| model | accuracy % |\n|---|---|\n| AG+OS60 | 97.44 |\n| a\\|b c |  |\n", table.Markdown);
        // The console's text stays space-aligned; the HTML is untouched.
        Assert.StartsWith("Dual stage - smoke | seed 2017", table.ToString());
        Assert.Contains("<td style=\"padding:2px 8px;border-bottom:1px solid #eee\">97.44</td>", table.Html);
    }

    [Fact]
    public void SeveralViews_AreParagraphsApartInMarkdown()
    {
        var both = HtmlView.Concat(HtmlView.Table("t", ["x"], [[1]]), HtmlView.Paragraph("A sentence."));
        Assert.Equal("**t**\n\n| x |\n|---|\n| 1 |\n\nA sentence.\n", both.Markdown);
    }
}
