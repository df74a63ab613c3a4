namespace OnnxTrainer.Data;

/// <summary>
/// Random training-time transforms, all off by default. Each sample's draws depend only on
/// (seed, epoch, sample index). Order: crop (random resized, or the evaluation resize + center crop),
/// horizontal flip, rotation, then color jitter (brightness, contrast, saturation, in that order).
/// </summary>
public sealed record AugmentationOptions
{
    /// <summary>Crop a random area and aspect ratio, then resize it to the input size (torchvision's RandomResizedCrop).</summary>
    public bool RandomResizedCrop { get; init; }

    /// <summary>Range of the crop's area as a fraction of the image area.</summary>
    public (double Min, double Max) CropScale { get; init; } = (0.08, 1.0);

    /// <summary>Range of the crop's aspect ratio (width / height), drawn log-uniformly.</summary>
    public (double Min, double Max) CropRatio { get; init; } = (3.0 / 4.0, 4.0 / 3.0);

    /// <summary>Probability of mirroring left-right (torchvision's RandomHorizontalFlip(p)); 0 = off.</summary>
    public double HorizontalFlip { get; init; }

    /// <summary>Rotate by an angle uniform in [-d, d] degrees (bilinear, corners filled with black); 0 = off.</summary>
    public double RotationDegrees { get; init; }

    /// <summary>Multiply intensities by a factor uniform in [max(0, 1 - b), 1 + b]; 0 = off.</summary>
    public double Brightness { get; init; }

    /// <summary>Blend with the image's mean gray by a factor uniform in [max(0, 1 - c), 1 + c]; 0 = off.</summary>
    public double Contrast { get; init; }

    /// <summary>Blend with the pixel's own gray by a factor uniform in [max(0, 1 - s), 1 + s]; 0 = off (no effect on L images).</summary>
    public double Saturation { get; init; }

    /// <summary>No augmentation.</summary>
    public static AugmentationOptions None { get; } = new();

    /// <summary>Whether any color jitter is on.</summary>
    public bool HasColorJitter => Brightness > 0 || Contrast > 0 || Saturation > 0;

    /// <summary>Throws on values outside their ranges.</summary>
    /// <exception cref="ArgumentException">Names the offending option.</exception>
    public void Validate()
    {
        if (!(CropScale.Min > 0 && CropScale.Min <= CropScale.Max && CropScale.Max <= 1))
        {
            throw new ArgumentException($"Crop scale must satisfy 0 < min <= max <= 1, got ({CropScale.Min}, {CropScale.Max}).");
        }

        if (!(CropRatio.Min > 0 && CropRatio.Min <= CropRatio.Max))
        {
            throw new ArgumentException($"Crop ratio must satisfy 0 < min <= max, got ({CropRatio.Min}, {CropRatio.Max}).");
        }

        if (!(HorizontalFlip >= 0 && HorizontalFlip <= 1))
        {
            throw new ArgumentException($"Horizontal flip probability must be within 0..1, got {HorizontalFlip}.");
        }

        if (!(RotationDegrees >= 0 && RotationDegrees <= 180))
        {
            throw new ArgumentException($"Rotation must be within 0..180 degrees, got {RotationDegrees}.");
        }

        foreach (var (name, value) in new[] { ("Brightness", Brightness), ("Contrast", Contrast), ("Saturation", Saturation) })
        {
            if (!(value >= 0 && double.IsFinite(value)))
            {
                throw new ArgumentException($"{name} jitter must be a finite number >= 0 (factors are drawn from [max(0, 1 - x), 1 + x]), got {value}.");
            }
        }
    }
}
