using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Recipes;

/// <summary>
/// The backbone's input contract. Unset values are taken from the backbone (size, channels, layout) or are
/// ImageNet's (mean, std, on the scale of <see cref="Range"/>); the helpers below apply those defaults once the
/// backbone is known.
/// </summary>
public sealed record InputSpec(
    int? Height, int? Width, int? Resize, ChannelFormat? Channels, IReadOnlyList<double>? Mean, IReadOnlyList<double>? Std,
    int? Range = null, TensorLayout? Layout = null)
{
    private static readonly double[] ImageNetMean = [0.485, 0.456, 0.406];
    private static readonly double[] ImageNetStd = [0.229, 0.224, 0.225];

    /// <summary>Shorter side before the center crop; by default the crop over 0.875, torchvision's 224 -> 256.</summary>
    public int ResizeFor(int height, int width) => Resize ?? (int)Math.Round(Math.Min(height, width) / 0.875);

    /// <summary>The mean per tensor channel on the 0..<paramref name="range"/> scale; for grayscale the average of ImageNet's three.</summary>
    public IReadOnlyList<double> MeanFor(ChannelFormat channels, int range = 1) => Mean ?? Default(ImageNetMean, channels, range);

    public IReadOnlyList<double> StdFor(ChannelFormat channels, int range = 1) => Std ?? Default(ImageNetStd, channels, range);

    private static IReadOnlyList<double> Default(double[] rgb, ChannelFormat channels, int range) => channels switch
    {
        ChannelFormat.Rgb => [.. rgb.Select(v => v * range)],
        ChannelFormat.Bgr => [.. rgb.Reverse().Select(v => v * range)],
        _ => [Math.Round(rgb.Average(), 3) * range],
    };
}
