using System.Globalization;
using System.Text;

namespace MarrowDiff.Model;

/// <summary>The four hyper-parameters the paper tuned by cross-validation, with Torch7's SGD semantics.</summary>
/// <param name="LearningRateDecay">Torch7 optim.sgd's decay: the rate at step t is lr / (1 + t·decay).</param>
public sealed record Hyperparameters(double LearningRate, double Momentum, double LearningRateDecay, double WeightDecay)
{
    public void Validate()
    {
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), $"{LearningRate}: must be > 0");
        if (Momentum is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(Momentum), $"{Momentum}: use [0, 1)");
        if (LearningRateDecay < 0) throw new ArgumentOutOfRangeException(nameof(LearningRateDecay), $"{LearningRateDecay}: must be ≥ 0");
        if (WeightDecay < 0) throw new ArgumentOutOfRangeException(nameof(WeightDecay), $"{WeightDecay}: must be ≥ 0");
    }

    public double RateAt(long step) => LearningRate / (1 + step * LearningRateDecay);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"lr {LearningRate:G3}, momentum {Momentum:G3}, lr decay {LearningRateDecay:G3}, weight decay {WeightDecay:G3}");
}

/// <summary>Everything that decides a trained model's weights (with the data): network, hyper-parameters,
/// epochs, batch size, seed. Hashed for the model cache and saved beside every model.</summary>
public sealed record TrainingConfig(NetworkConfig Network, Hyperparameters Hyper, int Epochs, int BatchSize = 40, int Seed = 2017)
{
    public void Validate()
    {
        Network.Validate(); Hyper.Validate();
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), "at least 1 epoch");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), "batch size at least 1");
    }
}

/// <summary>One epoch of training (the paper's Fig 4A plots these).</summary>
/// <param name="StepSeconds">Sum of the time spent inside training steps (forward, backward, update): compared
/// with <paramref name="Seconds"/> it shows whether data loading ever made training wait.</param>
public sealed record EpochRecord(int Epoch, double TrainLoss, double TrainAccuracy, double? ValidationAccuracy, double LearningRate, double Seconds, double StepSeconds)
{
    /// <summary>The history as CSV (the paper's Fig 4A data).</summary>
    public static string Csv(IEnumerable<EpochRecord> history)
    {
        var csv = new StringBuilder("epoch,train_loss,train_accuracy,validation_accuracy,learning_rate,seconds,step_seconds\n");
        foreach (var e in history)
            csv.Append(string.Create(CultureInfo.InvariantCulture, $"{e.Epoch},{e.TrainLoss:R},{e.TrainAccuracy:R},{e.ValidationAccuracy?.ToString("R", CultureInfo.InvariantCulture) ?? ""},{e.LearningRate:R},{e.Seconds:0.###},{e.StepSeconds:0.###}\n"));
        return csv.ToString();
    }
}
