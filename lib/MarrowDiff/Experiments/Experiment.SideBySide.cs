using System.Collections.Concurrent;
using MarrowDiff.Model;
using MarrowDiff.Torch;
using MarrowDiff.Training;

namespace MarrowDiff.Experiments;

/// <summary>Training several models at once, one a core on one thread each (<see cref="ExperimentProfile.SideBySide"/>).</summary>
public sealed partial class Experiment
{
    // Models trained side by side (TrainSideBySide), waiting to be handed out by LoadOrTrain, by folder.
    private readonly ConcurrentDictionary<string, TrainedModel> _trainedSideBySide = new(StringComparer.Ordinal);

    /// <summary>
    /// Trains the jobs whose folders do not exist yet side by side, one single-threaded stream a core (<see
    /// cref="TorchStreams"/>), under <see cref="ExperimentProfile.SideBySide"/>; otherwise leaves them to LoadOrTrain,
    /// one after another. Each model is single-threaded either way (<see cref="TrainingConfig.SingleThreaded"/>), so
    /// which stream trains it, and when, changes no byte of it (tested). The first failure stops the others at their
    /// next batch (their checkpoints of the epochs done are kept, and a rerun resumes them) and is rethrown.
    /// </summary>
    private void TrainSideBySide(IReadOnlyList<ModelJob> jobs)
    {
        var missing = jobs.Where(j => !Directory.Exists(j.Folder)).ToList();
        int streams = Profile.SideBySide ? Math.Min(Inference.StreamsFor(TorchRuntime.Device), missing.Count) : 1;
        if (streams < 2) return;
        try
        {
            Note($"{string.Join(", ", missing.Select(j => j.Name))}: trained side by side on {streams} single-threaded streams");
            TorchStreams.Run(missing, streams, (job, cancel) => _trainedSideBySide[job.Folder] = job.Train(cancel), gradients: true, name: "training stream");
        }
        catch
        {
            foreach (var folder in _trainedSideBySide.Keys)
                if (_trainedSideBySide.TryRemove(folder, out var model)) model.Dispose();
            throw;
        }
    }
}
