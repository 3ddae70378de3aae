namespace MarrowDiff.Core;

/// <summary>Progress of a long job: <paramref name="Done"/> of <paramref name="Total"/> units, with elapsed time.</summary>
/// <param name="Stage">What is being done, the same for every report of one job (a log keys its 10% lines on it).</param>
/// <param name="Detail">What changes as it goes (a model's epoch and loss), shown after the bar.</param>
public sealed record WorkProgress(string Stage, int Done, int Total, TimeSpan Elapsed, string? Detail = null)
{
    public TimeSpan? Remaining => Done == 0 ? null : TimeSpan.FromTicks(Elapsed.Ticks * (Total - Done) / Done);

    /// <summary>"rendering fields [#######.............] 70/200  0:21 elapsed, ETA 0:39"</summary>
    public override string ToString()
    {
        const int width = 30;
        int filled = Total == 0 ? width : Done * width / Total;
        string eta = Remaining is { } r ? $", ETA {r:m\\:ss}" : "";
        string detail = Detail is null ? "" : $"  {Detail}";
        return $"{Stage} [{new string('#', filled)}{new string('.', width - filled)}] {Done}/{Total}  {Elapsed:m\\:ss} elapsed{eta}{detail}";
    }
}
