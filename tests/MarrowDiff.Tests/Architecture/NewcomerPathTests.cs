using System.Text.RegularExpressions;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Tests.Architecture;

/// <summary>
/// A newcomer's clone has nothing beside it. <c>.ci/run</c> runs every test that reads the data outside the repository
/// (<see cref="Workbook.SharedRoot"/>) a second time with <see cref="Workbook.SharedVariable"/> pointing at an empty
/// folder, choosing them by their trait. A test that reads those data without the trait would escape that pass, and a
/// test that finds them by a path of its own (<c>"..", "shared"</c>) would escape the variable: both are refused here.
/// </summary>
public class NewcomerPathTests
{
    private static readonly Regex ReadsShared = new(@"Workbook\.Shared(Root|RealCells|Fields)\b");
    private static readonly Regex OwnPath = new(@"""\.\.""\s*,\s*""shared""");

    [Fact]
    public void EveryTestThatReadsTheSharedData_CarriesTheTraitTheNewcomerPassSelects()
    {
        string tests = Path.Combine(Workbook.RepositoryRoot, "tests");
        var offenders = new List<string>();
        foreach (string file in Directory.EnumerateFiles(tests, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")))
        {
            string text = File.ReadAllText(file);
            if (file.EndsWith(nameof(NewcomerPathTests) + ".cs", StringComparison.Ordinal)) continue;
            if (OwnPath.IsMatch(text)) offenders.Add($"{Path.GetRelativePath(tests, file)}: finds ../shared by its own path; use Workbook.SharedRealCells or SharedFields");
            if (ReadsShared.IsMatch(text) && !text.Contains($"[Trait(Workbook.SharedVariable, \"reads\")]", StringComparison.Ordinal))
                offenders.Add($"{Path.GetRelativePath(tests, file)}: reads Workbook.Shared* without [Trait(Workbook.SharedVariable, \"reads\")]");
        }
        Assert.True(offenders.Count == 0, string.Join("\n", offenders));
    }

    [Fact]
    public void TheCiScript_RunsTheNewcomerPass_WithTheSameVariableAndTrait()
    {
        string ci = File.ReadAllText(Path.Combine(Workbook.RepositoryRoot, ".ci", "run"));
        Assert.Contains("dotnet test -c Release 2>&1", ci); // the README's command, as written
        Assert.Contains($"{Workbook.SharedVariable}=\"$empty\" dotnet test", ci);
        Assert.Contains($"--filter \"{Workbook.SharedVariable}=reads\"", ci);
    }

    [Fact]
    public void SharedRoot_FollowsTheVariable()
    {
        // The pure function: setting the variable in this process would race the tests that read it.
        string empty = Path.Combine(Path.GetTempPath(), "marrow-newcomer-empty");
        Assert.Equal(empty, Workbook.SharedRootFor(empty));
        Assert.Equal(Path.GetFullPath(Path.Combine(Workbook.RepositoryRoot, "..", "shared")), Workbook.SharedRootFor(null));
        Assert.Equal(Workbook.SharedRootFor(""), Workbook.SharedRootFor(null));
    }
}
