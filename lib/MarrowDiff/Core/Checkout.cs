namespace MarrowDiff.Core;

/// <summary>
/// The MarrowDiff checkout a process works in, and paths written relative to it: what is saved beside a model or in a
/// metrics file says where a thing is in any clone (<c>data/splits/…</c>, <c>../shared/real-cells</c>), not where it
/// was on the machine that wrote it.
/// </summary>
public static class Checkout
{
    /// <summary>The nearest folder above the current directory (or this library) that holds global.json and notebooks/;
    /// null outside a checkout.</summary>
    public static string? Find()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, Path.GetDirectoryName(typeof(Checkout).Assembly.Location)! })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "global.json")) && Directory.Exists(Path.Combine(dir.FullName, "notebooks")))
                    return dir.FullName;
        return null;
    }

    /// <summary><paramref name="path"/> relative to the checkout when it is inside it or beside it (<c>data/…</c>,
    /// <c>../shared/…</c>: what the project's own outputs name); any other path, or any outside a checkout, as given
    /// in full.</summary>
    public static string Relative(string path)
    {
        if (path.Length == 0 || Find() is not { } root) return path;
        string full = Path.GetFullPath(path), parent = Path.GetDirectoryName(root) is { Length: > 1 } p ? p + Path.DirectorySeparatorChar : root + Path.DirectorySeparatorChar;
        return full.StartsWith(parent, StringComparison.Ordinal) ? Path.GetRelativePath(root, full) : full;
    }

    /// <summary>A path written by <see cref="Relative"/> read back: relative ones against the checkout.</summary>
    public static string Resolve(string path) =>
        Path.IsPathRooted(path) || Find() is not { } root ? path : Path.GetFullPath(Path.Combine(root, path));
}
