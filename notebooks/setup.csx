// The first thing every notebook runs (`#load "setup.csx"`), before it loads the library: is the library built, and
// not older than its sources? `#r` loads whatever dll is there and keeps it loaded until the kernel restarts, so a
// stale one would run old code silently. Paths are relative to the notebooks folder.
var library = new System.IO.FileInfo("../lib/MarrowDiff/bin/Release/net10.0/MarrowDiff.dll");
var newestSource = System.IO.Directory.EnumerateFiles("../lib/MarrowDiff", "*.*", System.IO.SearchOption.AllDirectories)
    .Where(f => (f.EndsWith(".cs") || f.EndsWith(".csproj")) && !f.Contains("/bin/") && !f.Contains("/obj/"))
    .Select(f => new System.IO.FileInfo(f)).MaxBy(f => f.LastWriteTimeUtc);
if (!library.Exists)
    throw new System.Exception($"{library.FullName} is not built: run `dotnet build -c Release lib/MarrowDiff` in the repository, then run this cell again.");
if (newestSource is not null && newestSource.LastWriteTimeUtc > library.LastWriteTimeUtc)
    throw new System.Exception($"{library.FullName} is older than {newestSource.FullName}: run `dotnet build -c Release lib/MarrowDiff`, then restart the kernel (#r keeps the old dll loaded).");
var LibraryStatus = $"library built {library.LastWriteTime:yyyy-MM-dd HH:mm}, newer than its sources";
