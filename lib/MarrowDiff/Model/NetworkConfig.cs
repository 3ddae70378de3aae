using System.Text.Json.Serialization;

namespace MarrowDiff.Model;

/// <summary>
/// The shape of a cell network: what every network has (input side, classes, dropout before the classifier), and,
/// by its type, the rest: <see cref="VggConfig"/> (the paper's VGG, trained from nothing) or <see cref="ResNetConfig"/>
/// (an ImageNet-pretrained ResNet-18). One type a network, so a setting that means nothing to a network cannot be
/// set on it. Its JSON names the kind first (<c>"Kind": "vgg"</c> or <c>"resnet18-imagenet"</c>), and that JSON is
/// part of every model's identity (<see cref="Experiments.ModelKey"/>) and saved with every model.
/// </summary>
/// <param name="InputSize">Side of the square input patch the network sees.</param>
/// <param name="Classes">Outputs: 10 for the maturation stages, 2 for a dual stage's local model.</param>
/// <param name="ClassifierDropout">Dropout before each fully connected layer.</param>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "Kind")]
[JsonDerivedType(typeof(VggConfig), VggConfig.KindName)]
[JsonDerivedType(typeof(ResNetConfig), ResNetConfig.ResNet18ImageNet)]
public abstract record NetworkConfig(int InputSize, int Classes, double ClassifierDropout)
{
    /// <summary>What the JSON calls this kind of network, as <c>--set backbone=</c> names it.</summary>
    [JsonIgnore]
    public abstract string Kind { get; }

    /// <summary>True when the network starts from weights learned elsewhere, so that a new classifier sits on a
    /// pretrained rest (<see cref="CellNetwork.IsNewOnPretrained"/> names it); false for the VGG, which trains from nothing.</summary>
    [JsonIgnore]
    public bool Pretrained => this is ResNetConfig;

    /// <summary>Floating-point operations of one forward pass of one image (a multiply-add counts two): the
    /// convolutions and fully connected layers, which are nearly all of it. A training step costs about three times
    /// this per image (forward, and the gradients of the input and of the weights).</summary>
    public abstract double ForwardFlops();

    /// <summary>Floats of the largest activation one image makes in a forward pass (a convolution's output): what
    /// decides whether a stream's batch fits a glibc heap (<see cref="Inference.StreamsFor(CellNetwork, int, int)"/>).</summary>
    public abstract long WidestActivation();

    /// <summary>Checks every value; a network that fails is never built.</summary>
    public abstract void Validate();

    /// <summary>The network a profile's <c>--set backbone=</c> asks for: <c>vgg</c> (or <c>none</c>) or
    /// <see cref="ResNetConfig.ResNet18ImageNet"/>. The settings both kinds share (input, classes, classifier dropout)
    /// carry over; the other kind's own settings start at their defaults.</summary>
    public NetworkConfig WithKind(string kind) => kind.Trim().ToLowerInvariant() switch
    {
        "vgg" or "none" => this as VggConfig ?? new VggConfig(InputSize: InputSize, Classes: Classes, ClassifierDropout: ClassifierDropout),
        ResNetConfig.ResNet18ImageNet => this as ResNetConfig ?? new ResNetConfig(InputSize, Classes, ClassifierDropout),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), $"backbone {kind}: use vgg or {ResNetConfig.ResNet18ImageNet}"),
    };

    private protected void ValidateShared()
    {
        if (Classes < 2) throw new ArgumentOutOfRangeException(nameof(Classes), "at least 2 classes");
        if (ClassifierDropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(ClassifierDropout), $"dropout {ClassifierDropout}: use [0, 1)");
    }
}

/// <summary>
/// He et al.'s ResNet-18 with ImageNet weights (<see cref="ResNet18"/>), which sees the patch resized to
/// <see cref="NetworkConfig.InputSize"/>, with dropout <see cref="NetworkConfig.ClassifierDropout"/> before its one
/// fully connected layer.
/// </summary>
public sealed record ResNetConfig(int InputSize = 128, int Classes = 10, double ClassifierDropout = 0)
    : NetworkConfig(InputSize, Classes, ClassifierDropout)
{
    /// <summary>The backbone <see cref="ResNet18"/> builds: CNTK's ImageNet model, as ML.NET ships it in
    /// Microsoft.ML.DnnImageFeaturizer.ResNet18, fine-tuned with a new classifier.</summary>
    public const string ResNet18ImageNet = "resnet18-imagenet";

    [JsonIgnore]
    public override string Kind => ResNet18ImageNet;

    public override double ForwardFlops() => ResNet18.ForwardFlops(InputSize, Classes);

    /// <summary>The stem's output, at half the input side.</summary>
    public override long WidestActivation() => ResNet18.WidestActivation(InputSize);

    public override void Validate()
    {
        // CNTK's padding halves an even side exactly, and each stride-2 block's shortcut must meet its 3×3 path:
        // every side down the network must be even, so the input a multiple of 32.
        if (InputSize is < 32 or > 448 || InputSize % 32 != 0)
            throw new ArgumentOutOfRangeException(nameof(InputSize), $"{InputSize}: ResNet-18 here takes a multiple of 32 px from 32 to 448 (96, 128, 160, …)");
        ValidateShared();
    }
}
