namespace MarrowDiff.Notebooks;

/// <summary>Entry point of the notebook worker process. Not for people: `marrow notebooks` starts it.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["worker", var request]) return await NotebookWorker.RunAsync(request);
        Console.Error.WriteLine("MarrowDiff.Notebooks is the notebook worker started by `marrow notebooks`; run that instead.");
        return 2;
    }
}
