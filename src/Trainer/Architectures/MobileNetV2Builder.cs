using System.Globalization;
using OnnxTrainer.Ir;

namespace OnnxTrainer.Architectures;

/// <summary>
/// torchvision's MobileNetV2: a 3x3 stem, inverted residual blocks (1x1 expand + BN + ReLU6, 3x3 depthwise +
/// BN + ReLU6, 1x1 project + BN, residual when stride 1 and the channels match), a 1x1 conv to the last
/// channels, global average pooling and <c>classifier.1</c>. Dropout is omitted: this is the inference graph.
/// Parameter names, channel rounding and initialization follow torchvision.
/// </summary>
public static class MobileNetV2Builder
{
    /// <summary>torchvision's setting table: expansion t, output channels c, repeats n, first stride s.</summary>
    private static readonly (int Expansion, int Channels, int Repeats, int Stride)[] Settings =
    [
        (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
    ];

    public const int SettingRows = 7;
    private const int StemChannels = 32, LastChannels = 1280, ChannelDivisor = 8;

    public static Model Build(ArchitectureOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        var writer = new LayerWriter(options);
        long channels = MakeDivisible(StemChannels * options.WidthMultiplier);
        var x = writer.Conv(writer.Input, "features.0.0", options.InputChannels, channels, kernel: 3, stride: options.SmallInputStem ? 1 : 2);
        x = writer.Relu6(writer.BatchNorm(x, "features.0.1", channels), "features.0.2");

        int index = 1;
        foreach (var (expansion, baseChannels, repeats, firstStride) in Settings.Take(options.Stages))
        {
            long outChannels = MakeDivisible(baseChannels * options.WidthMultiplier);
            for (int i = 0; i < repeats; i++)
            {
                x = InvertedResidual(writer, x, $"features.{index++}", channels, outChannels, i == 0 ? firstStride : 1, expansion);
                channels = outChannels;
            }
        }
        long lastChannels = MakeDivisible(LastChannels * Math.Max(1.0, options.WidthMultiplier));
        x = writer.Conv(x, $"features.{index}.0", channels, lastChannels, kernel: 1);
        x = writer.Relu6(writer.BatchNorm(x, $"features.{index}.1", lastChannels), $"features.{index}.2");
        writer.Classifier(writer.Pool(x, "pool"), "classifier.1", writer.SmallNormalLinearInit(lastChannels, options.Classes));
        return writer.Finish(string.Create(CultureInfo.InvariantCulture,
            $"mobilenet_v2: width multiplier {options.WidthMultiplier}, {options.Stages} of {SettingRows} setting rows, {(options.SmallInputStem ? "small-input" : "ImageNet")} stem, seed {options.Seed}"));
    }

    /// <summary>torchvision's <c>_make_divisible</c>: the nearest multiple of 8, never more than 10% below the request.</summary>
    internal static int MakeDivisible(double channels)
    {
        int rounded = Math.Max(ChannelDivisor, (int)(channels + ChannelDivisor / 2.0) / ChannelDivisor * ChannelDivisor);
        return rounded < 0.9 * channels ? rounded + ChannelDivisor : rounded;
    }

    private static Value InvertedResidual(LayerWriter writer, Value x, string module, long inChannels, long outChannels, long stride, int expansion)
    {
        long hidden = inChannels * expansion;
        int layer = 0;
        var y = x;
        if (expansion != 1)
        {
            y = writer.Conv(y, $"{module}.conv.0.0", inChannels, hidden, kernel: 1);
            y = writer.Relu6(writer.BatchNorm(y, $"{module}.conv.0.1", hidden), $"{module}.conv.0.2");
            layer = 1;
        }
        y = writer.Conv(y, $"{module}.conv.{layer}.0", hidden, hidden, kernel: 3, stride, groups: hidden);
        y = writer.Relu6(writer.BatchNorm(y, $"{module}.conv.{layer}.1", hidden), $"{module}.conv.{layer}.2");
        y = writer.Conv(y, $"{module}.conv.{layer + 1}", hidden, outChannels, kernel: 1);
        y = writer.BatchNorm(y, $"{module}.conv.{layer + 2}", outChannels);
        return stride == 1 && inChannels == outChannels ? writer.Add(x, y, module) : y;
    }

    private static void Validate(ArchitectureOptions options)
    {
        ArchitectureFactory.ValidateCommon(options);
        if (!(options.WidthMultiplier > 0) || double.IsInfinity(options.WidthMultiplier) || options.WidthMultiplier > 16)
            throw new ArgumentException($"mobilenet_v2 width multiplier must be in (0, 16] (got {options.WidthMultiplier})", nameof(options));
        if (options.Stages is < 1 or > SettingRows)
            throw new ArgumentException($"mobilenet_v2 keeps 1 to {SettingRows} setting rows (got {options.Stages})", nameof(options));
    }
}
