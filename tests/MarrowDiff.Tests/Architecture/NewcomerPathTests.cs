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

/// <summary>What is committed under figures/ says where things are in any clone: no path of the machine that made it.</summary>
public class CommittedOutputsTests
{
    // The before-stop hook's pattern: an absolute path of two or more levels, after a space, quote, bracket, = or comma.
    private static readonly Regex AbsolutePath = new(@"(^|[\s""'(=,])/[a-z]+/[A-Za-z0-9_.+-]+/", RegexOptions.Multiline);
    private static readonly Regex EmbeddedImage = new(@"""image/(png|jpeg)"":\s*""[A-Za-z0-9+/=]*""");

    public static IEnumerable<string> Offenders(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetExtension(f) is ".md" or ".csv" or ".json" or ".ipynb" or ".txt" or ".html")
            .SelectMany(f => AbsolutePath.Matches(EmbeddedImage.Replace(File.ReadAllText(f), "")).Select(m => $"{Path.GetRelativePath(root, f)}: {m.Value.Trim()}"));

    [Fact]
    public void NothingUnderFigures_NamesAPathOfTheMachineThatMadeIt()
    {
        var offenders = Offenders(Workbook.FiguresRoot).Take(20).ToList();
        Assert.True(offenders.Count == 0, string.Join("\n", offenders));
    }

    [Fact]
    public void TheCheck_FindsAnAbsolutePath_AndLetsARelativeOneAndAnImagePass()
    {
        string dir = Directory.CreateTempSubdirectory("marrow-paths-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "ok.md"), "split saved in data/phantom-smoke-seed2017/splits.csv; real cells in ../shared/real-cells\n");
            File.WriteAllText(Path.Combine(dir, "img.ipynb"), "{\"image/jpeg\": \"/9j/abc/def/ghi\"}");
            Assert.Empty(Offenders(dir));
            File.WriteAllText(Path.Combine(dir, "bad.json"), "{\"data\": \"/work/runs/rto-pbc\"}");
            Assert.Equal(["bad.json: \"/work/runs/"], Offenders(dir));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}

/// <summary>The README's headline numbers are the committed figures' numbers: each decimal number in a "What it shows"
/// item stands (at the README's decimals) in one of the figure files that item links to, so a figure regenerated
/// without its README, or a README edited by hand, fails here.</summary>
public class ReadmeNumbersTests
{
    /// <summary>A figure as committed: the README speaks of the committed figures, and the README's first command rewrites
    /// them in the working tree (on another kind of CPU with other digits). Read from git's HEAD where git is there.</summary>
    private static string Committed(string relative)
    {
        try
        {
            var git = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("git", ["-C", Workbook.RepositoryRoot, "show", $"HEAD:{relative}"])
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
            })!;
            string text = git.StandardOutput.ReadToEnd();
            git.WaitForExit();
            if (git.ExitCode == 0) return text;
        }
        catch (System.ComponentModel.Win32Exception) { } // no git: the working tree's file
        return File.ReadAllText(Path.Combine(Workbook.RepositoryRoot, relative));
    }

    [Fact]
    public void EveryDecimalInWhatItShows_StandsInAFigureTheItemLinks()
    {
        string readme = File.ReadAllText(Path.Combine(Workbook.RepositoryRoot, "README.md"));
        int start = readme.IndexOf("## What it shows", StringComparison.Ordinal), end = readme.IndexOf("\n## ", start + 5, StringComparison.Ordinal);
        string section = readme[start..end];
        var items = Regex.Split(section, @"\n- ").Skip(1).ToList();
        Assert.NotEmpty(items);
        int checkedNumbers = 0;
        var missing = new List<string>();
        foreach (string item in items)
        {
            var linked = Regex.Matches(item, @"\((figures/[^)#]+\.md)\)").Select(m => Committed(m.Groups[1].Value)).ToList();
            if (linked.Count == 0) continue;
            foreach (Match number in Regex.Matches(item, @"(?<![\w.])\d+\.\d+(?![\w.])"))
            {
                checkedNumbers++;
                // A figure's 71.79 is the README's 71.8: compared at the README's own decimals.
                int decimals = number.Value.Length - number.Value.IndexOf('.') - 1;
                double wanted = double.Parse(number.Value, System.Globalization.CultureInfo.InvariantCulture);
                if (!linked.Any(text => Regex.Matches(text, @"(?<![\w.])\d+\.\d+").Any(m =>
                        Math.Round(double.Parse(m.Value, System.Globalization.CultureInfo.InvariantCulture), decimals, MidpointRounding.AwayFromZero) == wanted)))
                    missing.Add($"{number.Value} in \"{item[..Math.Min(60, item.Length)]}…\"");
            }
        }
        Assert.True(checkedNumbers >= 6, $"only {checkedNumbers} numbers checked: the section changed shape");
        Assert.True(missing.Count == 0, "numbers in README's What it shows that no linked figure holds:\n" + string.Join("\n", missing));
    }
}
