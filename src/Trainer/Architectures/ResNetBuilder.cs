using System.Globalization;
using OnnxTrainer.Ir;

namespace OnnxTrainer.Architectures;

/// <summary>
/// torchvision's ResNet with BasicBlocks (ResNet-18/34 layout) at any base width and number of stages:
/// stem, stages of blocks (the first block of every stage after the first halves the size and doubles the
/// channels, with a 1x1 conv + BN shortcut), global average pooling and <c>fc</c>. Parameter names and
/// initialization follow torchvision (kaiming-normal fan_out convs, fresh BatchNorms, default nn.Linear).
/// </summary>
public static class ResNetBuilder
{
    public static Model Build(ArchitectureOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        var writer = new LayerWriter(options);
        long channels = options.Width;
        var x = options.SmallInputStem
            ? writer.Conv(writer.Input, "conv1", options.InputChannels, channels, kernel: 3)
            : writer.Conv(writer.Input, "conv1", options.InputChannels, channels, kernel: 7, stride: 2);
        x = writer.Relu(writer.BatchNorm(x, "bn1", channels), "relu");
        if (!options.SmallInputStem) x = writer.MaxPool(x, "maxpool", kernel: 3, stride: 2, pad: 1);

        for (int stage = 0; stage < options.BlocksPerStage.Count; stage++)
        {
            long planes = options.Width << stage;
            for (int block = 0; block < options.BlocksPerStage[stage]; block++)
            {
                long stride = stage > 0 && block == 0 ? 2 : 1;
                x = BasicBlock(writer, x, $"layer{stage + 1}.{block}", channels, planes, stride);
                channels = planes;
            }
        }
        writer.Classifier(writer.Pool(x, "avgpool"), "fc", writer.DefaultLinearInit(channels, options.Classes));
        return writer.Finish(string.Create(CultureInfo.InvariantCulture,
            $"resnet: width {options.Width}, blocks [{string.Join(", ", options.BlocksPerStage)}], {(options.SmallInputStem ? "small-input" : "ImageNet")} stem, seed {options.Seed}"));
    }

    private static Value BasicBlock(LayerWriter writer, Value x, string module, long inChannels, long planes, long stride)
    {
        var y = writer.Conv(x, $"{module}.conv1", inChannels, planes, kernel: 3, stride);
        y = writer.Relu(writer.BatchNorm(y, $"{module}.bn1", planes), $"{module}.relu");
        y = writer.BatchNorm(writer.Conv(y, $"{module}.conv2", planes, planes, kernel: 3), $"{module}.bn2", planes);
        var shortcut = stride != 1 || inChannels != planes
            ? writer.BatchNorm(writer.Conv(x, $"{module}.downsample.0", inChannels, planes, kernel: 1, stride), $"{module}.downsample.1", planes)
            : x;
        return writer.Relu(writer.Add(y, shortcut, module), $"{module}.relu_out");
    }

    private static void Validate(ArchitectureOptions options)
    {
        ArchitectureFactory.ValidateCommon(options);
        if (options.Width < 1) throw new ArgumentException($"resnet width must be at least 1 (got {options.Width})", nameof(options));
        if (options.BlocksPerStage.Count == 0 || options.BlocksPerStage.Any(n => n < 1))
            throw new ArgumentException($"resnet needs at least one stage and at least one block per stage (got [{string.Join(", ", options.BlocksPerStage)}])", nameof(options));
        if (options.BlocksPerStage.Count > 8)
            throw new ArgumentException($"resnet supports at most 8 stages (got {options.BlocksPerStage.Count}): each doubles the channels", nameof(options));
    }
}
