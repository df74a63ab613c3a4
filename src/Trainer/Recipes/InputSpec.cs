using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Recipes;

/// <summary>
/// The backbone's input contract. Unset values are taken from the backbone (size, channels) or are
/// ImageNet's (mean, std); the helpers below apply those defaults once the backbone is known.
/// </summary>
public sealed record InputSpec(int? Height, int? Width, int? Resize, ChannelFormat? Channels, IReadOnlyList<double>? Mean, IReadOnlyList<double>? Std)
{
    private static readonly double[] ImageNetMean = [0.485, 0.456, 0.406];
    private static readonly double[] ImageNetStd = [0.229, 0.224, 0.225];

    /// <summary>Shorter side before the center crop; by default the crop over 0.875, torchvision's 224 -> 256.</summary>
    public int ResizeFor(int height, int width) => Resize ?? (int)Math.Round(Math.Min(height, width) / 0.875);

    /// <summary>The mean per channel; for grayscale the average of ImageNet's three.</summary>
    public IReadOnlyList<double> MeanFor(ChannelFormat channels) => Mean ?? Default(ImageNetMean, channels);

    public IReadOnlyList<double> StdFor(ChannelFormat channels) => Std ?? Default(ImageNetStd, channels);

    private static IReadOnlyList<double> Default(double[] rgb, ChannelFormat channels) =>
        channels == ChannelFormat.Rgb ? rgb : [Math.Round(rgb.Average(), 3)];
}
