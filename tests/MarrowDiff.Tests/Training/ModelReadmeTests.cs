using MarrowDiff.Data;
using MarrowDiff.Imaging;
using MarrowDiff.Model;
using MarrowDiff.Training;

namespace MarrowDiff.Tests.Training;

public class ModelReadmeTests
{
    private static readonly TrainingConfig Recipe = new(new VggConfig(Width: 0.125, InputSize: 48), new Hyperparameters(0.01, 0.9, 1e-4, 5e-4), 10);
    private static readonly ColourNormalisation Normalisation = new(ColourNormalisation.YuvBt601, [0.5, 0, 0], [0.2, 0.1, 0.1], 2000, "test");

    private static ModelCard Card(IReadOnlyDictionary<string, int>? trained) =>
        new ModelCard("OS400", Recipe, "real-table1", "real-cells", "abcdef", "split.csv", 2000, null, "abc1234", Synthetic: false) { TrainedClasses = trained };

    [Fact]
    public void AModelTrainedOnFiveStages_SaysWhichFive_AndThatTheOtherOutputsNeverHadATrainingImage()
    {
        var five = new Dictionary<string, int> { ["C6"] = 400, ["C7"] = 400, ["C8"] = 400, ["C9"] = 400, ["C10"] = 400 };
        string text = ModelReadme.For("OS400", Card(five), CellTaxonomy.All, Normalisation, scores: null);
        Assert.Contains("| classes it was trained on | C6 Promyelocyte (400 training images), C7 Myelocyte (400 training images), C8 Metamyelocyte (400 training images), " +
                        "C9 Band neutrophil (400 training images), C10 Segmented neutrophil (400 training images) |", text);
        Assert.Contains("| network outputs, in order | 10: C1, C2, C3, C4, C5, C6, C7, C8, C9, C10; C1, C2, C3, C4, C5 never had a training image |", text);
        Assert.DoesNotContain("classes, in output order", text);
    }

    [Fact]
    public void AModelTrainedOnEveryOutput_OrACardThatDoesNotSay_ListsTheClassesInOutputOrder()
    {
        var all = CellTaxonomy.All.ToDictionary(c => c.Code(), _ => 100);
        foreach (var card in new[] { Card(all), Card(null) })
            Assert.Contains("| classes, in output order | C1 Pronormoblast, C2 Basophilic normoblast", ModelReadme.For("m", card, CellTaxonomy.All, Normalisation, scores: null));
    }

    /// <summary>A real-cell model's card says what it is for, where not to trust it, its sources with their licences and
    /// what to cite; a phantom model's card says it is synthetic instead.</summary>
    [Fact]
    public void ARealCellModel_SaysItsIntendedUse_Limits_SourcesAndLicences()
    {
        IReadOnlyList<CellClass> outputs = [.. CellTaxonomy.All.Skip(5), CellClass.Lymphocyte];
        var card = Card(null) with { Pitches = new Dictionary<string, double> { ["PBC"] = 0.1, ["Matek"] = 0.2 } };
        string text = ModelReadme.For("m", card, outputs, Normalisation, scores: null);
        Assert.Contains("**Research only, not diagnosis.**", text);
        Assert.Contains("**Only these classes**: C6, C7, C8, C9, C10, Lym.", text);
        Assert.Contains("**Peripheral blood, not marrow**", text);
        Assert.Contains($"- **PBC** (peripheral blood): {PublicLayout.Pbc.Citation}", text);
        Assert.Contains($"- **Matek** (bone marrow): {PublicLayout.Matek.Citation}", text);
        Assert.Contains("CC BY 4.0", text);
        Assert.Contains("CITATION.cff", text);
        Assert.True(text.IndexOf("## Intended use", StringComparison.Ordinal) < text.IndexOf("## Use", StringComparison.Ordinal));

        string phantom = ModelReadme.For("m", Card(null) with { Synthetic = true }, CellTaxonomy.All, Normalisation, scores: null);
        Assert.DoesNotContain("## Intended use", phantom);
        Assert.Contains("synthetic phantom", phantom);
    }
}
