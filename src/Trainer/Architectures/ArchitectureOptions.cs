namespace OnnxTrainer.Architectures;

/// <summary>
/// Settings of a classifier built from scratch. The common ones apply to every family; the others are
/// read only by the family they name and keep torchvision's defaults (ResNet-18, MobileNetV2 1.0).
/// </summary>
public sealed record ArchitectureOptions
{
    public int Classes { get; init; } = 1000;
    public int InputChannels { get; init; } = 3;
    /// <summary>Height and width of the square input image; the batch dimension stays symbolic.</summary>
    public int InputSize { get; init; } = 224;
    /// <summary>
    /// A stem for 28-64 px images: a 3x3 stride-1 first convolution (and no max-pool in ResNet), so that
    /// small images are not reduced to a few pixels before the first stage.
    /// </summary>
    public bool SmallInputStem { get; init; }
    /// <summary>Seed of the weight initialization: the same seed gives bit-identical weights.</summary>
    public int Seed { get; init; }

    /// <summary>ResNet: channels of the first stage; each later stage doubles them (torchvision: 64).</summary>
    public int Width { get; init; } = 64;
    /// <summary>ResNet: BasicBlocks per stage; [2, 2, 2, 2] is ResNet-18, [3, 4, 6, 3] ResNet-34.</summary>
    public IReadOnlyList<int> BlocksPerStage { get; init; } = [2, 2, 2, 2];

    /// <summary>MobileNetV2: scales every layer's channels (rounded to multiples of 8, as torchvision does).</summary>
    public double WidthMultiplier { get; init; } = 1.0;
    /// <summary>MobileNetV2: how many rows of the inverted-residual setting table to keep (1-7); fewer suit small inputs.</summary>
    public int Stages { get; init; } = MobileNetV2Builder.SettingRows;
}
