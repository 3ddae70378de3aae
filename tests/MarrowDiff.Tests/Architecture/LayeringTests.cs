using System.Text.RegularExpressions;

namespace MarrowDiff.Tests.Architecture;

/// <summary>
/// Issue 15: every arrow between the library's rooms points downstream, in the order a cell travels (ARCHITECTURE.md).
/// A room may use the rooms above it in <see cref="Rooms"/>, never one below it or beside it; so there is no cycle, and a
/// reader can take the rooms in order. Checked on the source: <c>using MarrowDiff.X;</c> lines and qualified names such
/// as <c>Reports.HtmlView</c> or <c>MarrowDiff.Reports.HtmlView</c> in code (comments and strings left out).
/// </summary>
public class LayeringTests
{
    /// <summary>The rooms, upstream first; rooms on one rank (Imaging, Torch) may not use each other either.</summary>
    public static readonly string[][] Rooms =
    [
        ["Core"], ["Imaging", "Torch"], ["Data"], ["Phantom"], ["Detection"], ["Preparation"], ["Model"], ["Training"], ["Evaluation"],
        ["Analysis"], ["Counting"], ["Experiments"], ["Reports"], ["Workbooks"],
    ];

    private static int Rank(string room) => Array.FindIndex(Rooms, r => r.Contains(room));

    private static readonly string RoomNames = string.Join("|", Rooms.SelectMany(r => r));
    private static readonly Regex Using = new($@"^using (?:static )?MarrowDiff\.({RoomNames})\b", RegexOptions.Multiline);
    private static readonly Regex Qualified = new($@"(?<![\w.])(?:MarrowDiff\.)?({RoomNames})\.[A-Z]\w*");
    private static readonly Regex Namespace = new(@"^namespace ([\w.]+);", RegexOptions.Multiline);

    /// <summary>The arrows of one source file that break the rule, as "Room -> Other (how)".</summary>
    public static IEnumerable<string> Violations(string room, string source)
    {
        int own = Rank(room);
        string code = CodeOnly(source);
        var used = Using.Matches(source).Select(m => (m.Groups[1].Value, "using"))
            .Concat(Qualified.Matches(code).Select(m => (m.Groups[1].Value, m.Value)));
        foreach (var (other, how) in used)
            if (other != room && Rank(other) >= own) yield return $"{room} -> {other} ({how})";
    }

    // Comments and the contents of string literals removed, so "Training loss" or <c>Model.X</c> in a doc comment is
    // not an arrow. Using directives are read from the original text.
    private static string CodeOnly(string source)
    {
        string noComments = Regex.Replace(source, @"//[^\n]*|/\*.*?\*/", "", RegexOptions.Singleline);
        noComments = Regex.Replace(noComments, @"^using [^\n]*$", "", RegexOptions.Multiline);
        return Regex.Replace(noComments, "\"(?:[^\"\\\\\\n]|\\\\.)*\"", "\"\"");
    }

    private static IEnumerable<(string Room, string File)> LibraryFiles()
    {
        string lib = Path.Combine(RepositoryRoot(), "lib", "MarrowDiff");
        foreach (string file in Directory.EnumerateFiles(lib, "*.cs", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(lib, file);
            if (rel.StartsWith("obj", StringComparison.Ordinal) || rel.StartsWith("bin", StringComparison.Ordinal)) continue;
            yield return (rel.Contains(Path.DirectorySeparatorChar) ? rel[..rel.IndexOf(Path.DirectorySeparatorChar)] : "", file);
        }
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "global.json")) && Directory.Exists(Path.Combine(dir.FullName, "lib"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no repository root (global.json and lib/) above {AppContext.BaseDirectory}");
    }

    [Fact]
    public void EveryFile_SitsInARoom_AndDeclaresItsNamespace()
    {
        var files = LibraryFiles().ToList();
        Assert.True(files.Count > 50, $"only {files.Count} source files found");
        var wrong = files.Where(f => Rank(f.Room) < 0 || Namespace.Match(File.ReadAllText(f.File)).Groups[1].Value != $"MarrowDiff.{f.Room}")
                         .Select(f => Path.GetRelativePath(RepositoryRoot(), f.File)).ToList();
        Assert.True(wrong.Count == 0, "outside a room, or a namespace other than its folder's (nothing may live in the root namespace, " +
                                      "which every room would see without an arrow): " + string.Join(", ", wrong));
    }

    [Fact]
    public void EveryArrow_PointsDownstream()
    {
        var violations = LibraryFiles().SelectMany(f => Violations(f.Room, File.ReadAllText(f.File)).Select(v => $"{Path.GetFileName(f.File)}: {v}")).ToList();
        Assert.True(violations.Count == 0, "arrows against the flow (data -> preparation -> model -> training -> evaluation -> analysis -> " +
                                           "experiments -> reports -> workbooks):\n" + string.Join("\n", violations));
    }

    [Fact]
    public void TheCheck_FindsAnUpstreamImportAQualifiedNameAndASideways_AndIgnoresCommentsAndStrings()
    {
        Assert.Equal(["Data -> Reports (using)"], Violations("Data", "using MarrowDiff.Reports;\nnamespace MarrowDiff.Data;\n"));
        Assert.Equal(["Phantom -> Preparation (MarrowDiff.Preparation.CellTiles)"],
                     Violations("Phantom", "namespace MarrowDiff.Phantom;\nclass A { object x = MarrowDiff.Preparation.CellTiles.Empty; }"));
        Assert.Empty(Violations("Preparation", "namespace MarrowDiff.Preparation;\nclass A { object x = MarrowDiff.Phantom.MarrowPhantom.Describe(\"\"); }"));
        Assert.Equal(["Imaging -> Torch (Torch.TorchRuntime)"], Violations("Imaging", "class A { int n = Torch.TorchRuntime.Threads; }"));
        Assert.Empty(Violations("Data", "/// <see cref=\"Reports.HtmlView\"/>\n// Training.Trainer\nclass A { string s = \"Model.Weights\"; }\nusing MarrowDiff.Core;"));
        Assert.Empty(Violations("Reports", "using MarrowDiff.Analysis;\nclass A { object o = Evaluation.Intervals.Wilson(0.5, 10); }"));
    }
}
