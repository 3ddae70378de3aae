using MarrowDiff.Imaging;
using MarrowDiff.Torch;
using static TorchSharp.torch;

namespace MarrowDiff.Model;

/// <summary>
/// A network that takes normalised 96-px cell patches (three YUV planes, <see cref="ColourNormalisation"/>) and gives
/// one logit a class: the paper's <see cref="VggNet"/>, or the ImageNet-pretrained <see cref="ResNet18"/> of the
/// transfer profile (<see cref="ResNetConfig"/>). Training, checkpoints, saved models and inference work on
/// this, so a backbone is one choice of <see cref="NetworkConfig"/>, not a second pipeline.
/// </summary>
public abstract class CellNetwork(string name) : nn.Module<Tensor, Tensor>(name)
{
    public abstract NetworkConfig Config { get; }

    /// <summary>Builds the network <paramref name="config"/> describes. <paramref name="initialisationSeed"/> seeds
    /// every weight drawn at random (all of VGG's; ResNet-18's new classifier). <paramref name="pretrained"/>: read a
    /// pretrained backbone's weights (false when a saved model's weights replace them at once).</summary>
    public static CellNetwork Create(NetworkConfig config, ulong initialisationSeed = 0, bool pretrained = true) => config switch
    {
        VggConfig vgg => new VggNet(vgg, initialisationSeed),
        ResNetConfig resnet => new ResNet18(resnet, initialisationSeed, pretrained),
        _ => throw new ArgumentException($"{config.GetType().Name}: no network is built from it", nameof(config)),
    };

    /// <summary>The generator every <see cref="SeededDropout"/> layer of this network draws its masks from, in layer
    /// order. Each network hands it to its dropout layers; seeding and freeing it are the same for every backbone.</summary>
    private protected DropoutDraws DropoutDraws { get; } = new();

    /// <summary>
    /// Restarts the dropout masks from <paramref name="seed"/> (the trainer does at every epoch, so a resumed run
    /// draws the same masks). The masks come from a generator of this network's own, never from libtorch's global
    /// one: two networks training side by side on two threads (<see cref="Experiments.Experiment.TrainFoldEnsemble"/>)
    /// would otherwise take turns drawing from one stream, and their masks, so their weights, would depend on the
    /// timing of the threads. It draws exactly what torch.manual_seed(seed) followed by torch's dropout draws (the same
    /// Bernoulli kernel on a generator of the same kind and seed), so every network trained before keeps its bytes (tested).
    /// A network without dropout layers draws nothing from it.
    /// </summary>
    public void SeedDropout(long seed, Device device) => DropoutDraws.Reseed(seed, device);

    /// <summary>Tells the network how its inputs were normalised, before training starts. A pretrained backbone needs
    /// it to give its first layer the pixels it was trained on (<see cref="ResNet18"/>); the paper's network learns
    /// from the normalised planes as they are. Stored in the network's state, so a saved model carries it.</summary>
    public virtual void AdaptInput(ColourNormalisation normalisation) { }

    /// <summary>How the convolutions run on the CPU (<see cref="ConvolutionEngine"/>): VGG's and ResNet-18's levers. A network without
    /// them runs libtorch's own convolutions and ignores the setting.</summary>
    public virtual ConvolutionEngine Engine { get => ConvolutionEngine.Default; set { } }

    /// <summary>True for a parameter of a layer that starts new when the rest of the network is pretrained (ResNet-18's
    /// classifier), the layers <c>OptimisationOptions.ClassifierRate</c> (Training) speeds up. False for every parameter of a network
    /// trained from nothing (VGG): there is no pretrained rest for a new layer to catch up with.</summary>
    public virtual bool IsNewOnPretrained(string parameterName) => false;

    /// <summary>Folds BatchNorm into the convolutions for inference, where the network can (VGG); undone by
    /// <see cref="UnfoldBatchNorm"/>.</summary>
    public virtual void FoldBatchNorm() { }

    public virtual void UnfoldBatchNorm() { }

    public virtual bool BatchNormFolded => false;

    /// <summary>
    /// The input to the network's last layer: what the classifier's final linear map turns into the class scores
    /// (VGG's second fully connected layer after its ReLU, ResNet-18's 512 pooled features), so that
    /// <c>forward(x)</c> is that layer applied to it. Where a cell lies in this space, against where the training
    /// cells lie, is what tells a cell unlike any the model was trained on (<c>Counting.FeatureEnvelope</c>); the
    /// softmax alone cannot, as it is confident far from every training cell.
    /// </summary>
    public abstract Tensor Embedding(Tensor input);

    /// <summary>Length of <see cref="Embedding"/>'s rows.</summary>
    public abstract int EmbeddingSize { get; }

    /// <summary>Trainable parameters.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    protected override void Dispose(bool disposing)
    {
        if (disposing) DropoutDraws.Dispose();
        base.Dispose(disposing);
    }
}
