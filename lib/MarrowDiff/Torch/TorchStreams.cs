using System.Collections.Concurrent;
using static TorchSharp.torch;

namespace MarrowDiff.Torch;

/// <summary>
/// Work items run side by side on single-threaded LibTorch streams: each stream is its own thread, running LibTorch
/// with one intra-op thread and taking whole items (a batch to classify, a model to train). Why: a small network's
/// layers are too little work for oneDNN to split across two cores well, so two items side by side, one core each,
/// keep both cores busier than one item on both (inference: <see cref="Model.Inference.StreamsFor(Model.CellNetwork, int, int)"/>; training: <see
/// cref="Experiments.Experiment.TrainFoldEnsemble"/>). An item is always computed whole by one single-threaded stream,
/// so which stream takes it never changes a number: the result is the same on every run and for any number of streams
/// above one (tested).
/// </summary>
public static class TorchStreams
{
    /// <summary>
    /// Runs <paramref name="body"/> on every item of <paramref name="work"/>. One stream: on this thread with the intra-op
    /// threads as they are. More: on that many stream threads, and the thread count is restored afterwards. The first
    /// failure cancels the token the other bodies were given and is rethrown here; every item not run is still released.
    /// </summary>
    /// <param name="gradients">Whether the bodies record gradients (training); false runs them under no_grad (inference).</param>
    /// <param name="release">Called once for every item, run or not (to dispose a prefetched batch).</param>
    public static void Run<T>(IEnumerable<T> work, int streams, Action<T, CancellationToken> body, bool gradients, Action<T>? release = null, string name = "stream")
    {
        if (streams <= 1)
        {
            using var noGrad = gradients ? null : no_grad();
            foreach (T item in work)
                try { body(item, CancellationToken.None); }
                finally { release?.Invoke(item); }
            return;
        }
        int threads = get_num_threads();
        using var queue = new BlockingCollection<T>(streams);
        using var stop = new CancellationTokenSource();
        Exception? failure = null;
        var workers = Enumerable.Range(0, streams).Select(index => new Thread(() =>
        {
            try
            {
                // Per thread in LibTorch: the OpenMP thread count of this thread, and gradient mode.
                set_num_threads(1);
                using var noGrad = gradients ? null : no_grad();
                foreach (T item in queue.GetConsumingEnumerable(stop.Token))
                    try { body(item, stop.Token); }
                    finally { release?.Invoke(item); }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref failure, e, null);
                stop.Cancel();
            }
        }, maxStackSize: 16 << 20) { IsBackground = true, Name = $"{name} {index + 1}" }).ToList();
        workers.ForEach(w => w.Start());
        try
        {
            foreach (T item in work)
            {
                try { queue.Add(item, stop.Token); }
                catch (OperationCanceledException)
                {
                    release?.Invoke(item);
                    break;
                }
            }
        }
        finally
        {
            queue.CompleteAdding();
            workers.ForEach(w => w.Join());
            while (queue.TryTake(out T? left)) release?.Invoke(left);
            set_num_threads(threads);
        }
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
    }
}
