using MarrowDiff.Data;

namespace MarrowDiff.Tests.Data;

public class CellLabelTests
{
    [Theory]
    [InlineData("C1", CellClass.Pronormoblast)]
    [InlineData("c10", CellClass.SegmentedNeutrophil)]
    [InlineData("C9", CellClass.BandNeutrophil)]
    [InlineData("band_neutrophil", CellClass.BandNeutrophil)]
    [InlineData("Band neutrophil", CellClass.BandNeutrophil)]
    [InlineData("BAND-NEUTROPHIL", CellClass.BandNeutrophil)]
    [InlineData("polychromatic_normoblast", CellClass.PolychromaticNormoblast)]
    [InlineData("Orthochromatic normoblast", CellClass.OrthochromaticNormoblast)]
    [InlineData("segmented", CellClass.SegmentedNeutrophil)]
    // Matek et al. 2021 folder codes
    [InlineData("PEB", CellClass.Pronormoblast)]
    [InlineData("BLA", CellClass.Myeloblast)]
    [InlineData("PMO", CellClass.Promyelocyte)]
    [InlineData("MYB", CellClass.Myelocyte)]
    [InlineData("MMZ", CellClass.Metamyelocyte)]
    [InlineData("NGB", CellClass.BandNeutrophil)]
    [InlineData("NGS", CellClass.SegmentedNeutrophil)]
    // PBC file prefixes
    [InlineData("PMY", CellClass.Promyelocyte)]
    [InlineData("MY", CellClass.Myelocyte)]
    [InlineData("MMY", CellClass.Metamyelocyte)]
    [InlineData("BNE", CellClass.BandNeutrophil)]
    [InlineData("SNE", CellClass.SegmentedNeutrophil)]
    public void Parse_KnownAlias_GivesPaperClass(string text, CellClass expected)
    {
        CellLabel label = CellLabel.Parse(text);
        Assert.False(label.IsOther);
        Assert.Equal(expected, label.Class);
    }

    [Fact]
    public void Parse_EveryClassByCodeSnakeAndDisplayName_RoundTrips()
    {
        foreach (CellClass c in CellTaxonomy.All)
        {
            Assert.Equal(c, CellLabel.Parse(c.Code()).Class);
            Assert.Equal(c, CellLabel.Parse(c.SnakeName()).Class);
            Assert.Equal(c, CellLabel.Parse(c.DisplayName()).Class);
            Assert.Equal(c, CellLabel.Parse(CellLabel.Of(c).ToManifestValue()).Class);
        }
    }

    [Theory]
    [InlineData("EBO")]   // Matek: erythroblast without stage
    [InlineData("ERB")]   // PBC: erythroblast without stage
    [InlineData("LYT")]
    [InlineData("MON")]
    [InlineData("EOS")]
    [InlineData("NIF")]
    [InlineData("XYZ")]   // unknown
    [InlineData("C11")]   // not a paper class number
    [InlineData("C0")]
    public void Parse_NonPaperCode_IsExplicitOther(string code)
    {
        CellLabel label = CellLabel.Parse(code);
        Assert.True(label.IsOther);
        Assert.Null(label.Class);
        Assert.Equal(code.ToUpperInvariant(), label.OtherCode);
        Assert.Equal($"other:{code.ToUpperInvariant()}", label.ToManifestValue());
    }

    [Fact]
    public void Parse_UnstagedErythroblast_IsDescribed()
    {
        Assert.Contains("stage not given", CellLabel.Parse("EBO").OtherDescription);
        Assert.Contains("stage not given", CellLabel.Parse("ERB").OtherDescription);
        Assert.Equal("LYT", CellLabel.Parse("other:lyt").OtherCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Parse_Empty_Throws(string text) => Assert.Throws<FormatException>(() => CellLabel.Parse(text));

    [Fact]
    public void Taxonomy_SeriesAndStageOrder_FollowThePaper()
    {
        Assert.Equal(10, CellTaxonomy.All.Count);
        Assert.All(CellTaxonomy.All.Take(4), c => Assert.Equal(Series.Erythroid, c.Series()));
        Assert.All(CellTaxonomy.All.Skip(4), c => Assert.Equal(Series.Myeloid, c.Series()));
        Assert.Equal([1, 2, 3, 4, 1, 2, 3, 4, 5, 6], CellTaxonomy.All.Select(c => c.Stage()));
        Assert.Equal(Enumerable.Range(0, 10), CellTaxonomy.All.Select(c => c.Index()));
        Assert.Equal("C9 Band neutrophil", CellClass.BandNeutrophil.Label());
        Assert.Equal(CellClass.Lymphocyte, CellTaxonomy.FromIndex(10)); // the outcomes outside the stages follow the ten
        Assert.Throws<ArgumentOutOfRangeException>(() => CellTaxonomy.FromIndex(CellTaxonomy.Outcomes.Count));
    }
}
