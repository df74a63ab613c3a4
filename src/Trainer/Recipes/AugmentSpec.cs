namespace OnnxTrainer.Recipes;

/// <summary>Training-time augmentation; <see cref="HorizontalFlip"/> is a probability and <see cref="Rotation"/> a maximum angle in degrees.</summary>
public sealed record AugmentSpec(RandomResizedCropSpec? RandomResizedCrop, double HorizontalFlip, double Rotation, ColorJitterSpec? ColorJitter)
{
    public static AugmentSpec None { get; } = new(null, 0, 0, null);

    /// <summary>False when every epoch sees the same pixels, so a frozen prefix's activations can be cached.</summary>
    public bool IsRandom => RandomResizedCrop is not null || HorizontalFlip > 0 || Rotation > 0
        || ColorJitter is { Brightness: > 0 } or { Contrast: > 0 } or { Saturation: > 0 };
}
