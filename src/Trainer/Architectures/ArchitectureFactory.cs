using OnnxTrainer.Ir;

namespace OnnxTrainer.Architectures;

/// <summary>Builds a from-scratch classifier by family name: opset 17, input <c>input</c> [N, C, H, W], output <c>logits</c> [N, classes].</summary>
public static class ArchitectureFactory
{
    public const string ResNet = "resnet";
    public const string MobileNetV2 = "mobilenet_v2";

    public static IReadOnlyList<string> Names { get; } = [ResNet, MobileNetV2];

    public static Model Create(string name, ArchitectureOptions options)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.ToLowerInvariant() switch
        {
            ResNet => ResNetBuilder.Build(options),
            MobileNetV2 => MobileNetV2Builder.Build(options),
            _ => throw new ArgumentException($"unknown architecture '{name}'; known: {string.Join(", ", Names)}", nameof(name)),
        };
    }

    /// <summary>Checks the settings every family reads.</summary>
    internal static void ValidateCommon(ArchitectureOptions options)
    {
        if (options.Classes < 1) throw new ArgumentException($"classes must be at least 1 (got {options.Classes})", nameof(options));
        if (options.InputChannels < 1) throw new ArgumentException($"input channels must be at least 1 (got {options.InputChannels})", nameof(options));
        if (options.InputSize < 1) throw new ArgumentException($"input size must be at least 1 pixel (got {options.InputSize})", nameof(options));
    }
}
