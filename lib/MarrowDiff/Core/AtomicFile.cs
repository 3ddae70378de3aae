using System.Text;

namespace MarrowDiff.Core;

/// <summary>Writes files so that a crash never leaves half a file behind: write to a temp file in the same
/// folder, then rename over the target (atomic on POSIX file systems). A temp file a crash leaves behind has a name
/// (<c>*.marrowdiff-tmp</c>) that nothing reads.</summary>
public static class AtomicFile
{
    /// <summary>
    /// For the kill tests only: <c>MARROW_KILL_WHILE_WRITING=&lt;part of a file name&gt;[#n]</c> makes the n-th write
    /// (default the first) of a file whose name contains it stop halfway: half its bytes written to the temp file and
    /// flushed, then this process killed with SIGKILL, as a power cut or the kernel's out-of-memory killer would. It
    /// proves, deterministically, what a kill at a random moment can only hit by chance. Unset, it costs one comparison.
    /// </summary>
    public const string KillWhileWritingVariable = "MARROW_KILL_WHILE_WRITING";

    private static readonly (string Name, int Nth)? KillWhileWriting = ParseKill(Environment.GetEnvironmentVariable(KillWhileWritingVariable));
    private static int _matchingWrites;

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = $"{full}.{Environment.ProcessId}.{Guid.NewGuid():N}.marrowdiff-tmp";
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                if (KillWhileWriting is { } kill && Path.GetFileName(full).Contains(kill.Name, StringComparison.Ordinal)
                    && Interlocked.Increment(ref _matchingWrites) == kill.Nth)
                {
                    fs.Write(bytes[..(bytes.Length / 2)]);
                    fs.Flush(flushToDisk: true);
                    System.Diagnostics.Process.GetCurrentProcess().Kill();
                    Thread.Sleep(Timeout.Infinite);
                }
                fs.Write(bytes);
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, new UTF8Encoding(false).GetBytes(text));

    /// <summary>
    /// Writes a folder so that it appears whole or not at all: <paramref name="fill"/> writes every file into a
    /// temporary sibling (<c>&lt;folder&gt;.writing</c>, cleared first if a crash left one), which then replaces
    /// <paramref name="folder"/> by a rename. A folder that exists is therefore complete. Returns the folder's full path.
    /// </summary>
    public static string WriteFolder(string folder, Action<string> fill)
    {
        string full = Path.GetFullPath(folder), temp = full + ".writing";
        if (Directory.Exists(temp)) Directory.Delete(temp, true);
        Directory.CreateDirectory(temp);
        fill(temp);
        if (Directory.Exists(full)) Directory.Delete(full, true);
        Directory.Move(temp, full);
        return full;
    }

    private static (string, int)? ParseKill(string? value)
    {
        if (string.IsNullOrEmpty(value)) return null;
        string[] parts = value.Split('#', 2);
        return (parts[0], parts.Length == 2 && int.TryParse(parts[1], out int n) && n > 0 ? n : 1);
    }
}
