using MarrowDiff.Core;
using MarrowDiff.Evaluation;
using MarrowDiff.Experiments;
using MarrowDiff.Preparation;
using MarrowDiff.Reports;
using MarrowDiff.Tests.Evaluation;

namespace MarrowDiff.Tests.Reports;

/// <summary>Both Table 1s (the phantom's and the real cells') render their HTML, CSV and Markdown from one column list:
/// the header and first row are pinned here, and the three renderings must agree on them.</summary>
public class Table1ColumnsTests
{
    private static readonly string[] Names = ["OG", "AG", "OS40", "OS80", "AG+OS40", "AG+OS80"];

    // Six rows given out of the paper's order, so a table that placed rows by position would show it.
    private static List<Table1Row> Rows() =>
        [.. Names.Select((n, j) => new Table1Row(n, 100 * (j + 1), PairedTable1Tests.Model(n, i => (i + j) % (j + 2) != 0))).Reverse()];

    [Fact]
    public void ThePhantomTable_PinsItsHeaderAndFirstRow_InAllThreeRenderings_WithThePaperRowOfTheSameRole()
    {
        var table = new Table1(Rows(), ExperimentProfile.Parse("smoke"), new Provenance("smoke", "phantom", 7, "abc", true), new SplitOptions(7));
        const string header = "training set,training images,accuracy %,accuracy 95% CI,precision % (weighted),recall % (weighted),F1 % (weighted),F1 % (macro),paper's set (images),paper's accuracy %";
        var csv = table.Csv().Split('\n');
        Assert.Equal(header, csv[1]);
        // Rows stand in the order given (AG+OS80 first here); the paper's row beside each is the one of the same role.
        Assert.Equal("AG+OS80,600,86.00,77.86-91.47,86.04,86.00,86.00,86.00,\"AG+OS600 (48,000)\",95.68", csv[2]);
        Assert.Equal("OS300", table.PaperRowOf(table.Rows.Single(r => r.Variant == "OS40")).Name);
        Assert.Equal("OG", table.PaperRowOf(table.Of(Table1Role.OG)).Name);
        Assert.Contains("| training set | training images | accuracy % | accuracy 95% CI | precision % (weighted) | recall % (weighted) | F1 % (weighted) | F1 % (macro) | paper's set (images) | paper's accuracy % |\n|---|", table.Markdown());
        Assert.Contains("| AG+OS80 | 600 | 86.00 | 77.86-91.47 | 86.04 | 86.00 | 86.00 | 86.00 | AG+OS600 (48,000) | 95.68 |", table.Markdown());
        Assert.Contains("<th style=\"border-bottom:1px solid #999;padding:2px 8px;text-align:left\">paper&#39;s accuracy %</th>", table.Html().Html);
    }

    [Fact]
    public void TheRealCellTable_PinsItsHeaderAndFirstRow_InAllThreeRenderings()
    {
        var table = PairedTable1.Build("test task", Rows(), new Table1Row(Table1Roles.DualStageName, 160, PairedTable1Tests.Model("dual", i => i % 4 != 0)), seed: 3);
        const string header = "training set,training images,accuracy %,95% CI,macro F1 %,95% CI,vs OG: McNemar p,vs OG: macro F1 diff (95% CI),vs row above: McNemar p,vs row above: macro F1 diff (95% CI)";
        var csv = table.Csv().Split('\n');
        Assert.Equal(header, csv[1]);
        Assert.Equal("OG,100,50.0,40.4-59.6,50.0,39.1-59.7,,,,", csv[2]);
        // Put in the paper's order by name, whatever order they came in; the dual stage last, against its global model.
        Assert.Equal("dual stage (AG+OS80 + local C9/C10),160,75.0,65.7-82.5,75.0,65.5-82.9,<0.001 (0/25),+25.0 (+16.8 to +34.2),0.080 (22/11),-11.0 (-22.9 to +0.6)", csv[^2]);
        string md = table.Markdown();
        Assert.Contains("| training set | training images | accuracy % | 95% CI | macro F1 % | 95% CI | vs OG: McNemar p |", md);
        Assert.Contains("| OG | 100 | 50.0 | 40.4-59.6 | 50.0 | 39.1-59.7 |  |  |  |  |", md);
        Assert.Contains("<td style=\"padding:2px 8px;border-bottom:1px solid #eee\">39.1-59.7</td>", table.Html().Html);
    }
}
