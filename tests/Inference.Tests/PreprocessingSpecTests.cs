using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Inference.Tests;

public sealed class PreprocessingSpecTests
{
    [Fact]
    public void FromMetadata_OfToMetadata_RoundTrips()
    {
        var spec = PreprocessingSpec.ImageNet() with { InputHeight = 200, Resize = 240 };

        var metadata = spec.ToMetadata();
        var restored = PreprocessingSpec.FromMetadata(metadata);

        Assert.Equal(spec, restored);
        Assert.Equal("[200,224]", metadata["input_size"]);
        Assert.Equal("[0.485,0.456,0.406]", metadata["mean"]);
        Assert.Equal("RGB", metadata["channels"]);
        Assert.Equal("NCHW", metadata["layout"]);
    }

    [Fact]
    public void FromMetadata_MissingEntry_ThrowsNamingIt()
    {
        var metadata = new Dictionary<string, string>(PreprocessingSpec.ImageNet().ToMetadata());
        metadata.Remove("std");

        var error = Assert.Throws<FormatException>(() => PreprocessingSpec.FromMetadata(metadata));

        Assert.Contains("'std'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_CropLargerThanResize_Throws()
    {
        var spec = PreprocessingSpec.ImageNet(inputSize: 224, resize: 200);

        Assert.Throws<ArgumentException>(spec.Validate);
    }

    [Fact]
    public void Validate_MeanLengthNotChannelCount_Throws()
    {
        var spec = PreprocessingSpec.ImageNet() with { Channels = ChannelFormat.L };

        Assert.Throws<ArgumentException>(spec.Validate);
    }
}
