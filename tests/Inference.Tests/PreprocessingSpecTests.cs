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
    public void FromMetadata_OfCaffeStyleNhwc_RoundTrips()
    {
        var spec = CaffeNhwc;

        var metadata = spec.ToMetadata();

        Assert.Equal(spec, PreprocessingSpec.FromMetadata(metadata));
        Assert.Equal("BGR", metadata["channels"]);
        Assert.Equal("255", metadata["range"]);
        Assert.Equal("NHWC", metadata["layout"]);
        Assert.Equal([1, 24, 24, 3], spec.TensorShape(1));
    }

    [Fact]
    public void FromMetadata_WrittenBeforeChannelsRangeAndLayout_LoadsWithDefaults()
    {
        var metadata = new Dictionary<string, string>(PreprocessingSpec.ImageNet().ToMetadata());
        metadata.Remove("channels");
        metadata.Remove("range");
        metadata.Remove("layout");

        var spec = PreprocessingSpec.FromMetadata(metadata);

        Assert.Equal(PreprocessingSpec.ImageNet(), spec);
        Assert.Equal((ChannelFormat.Rgb, 1, TensorLayout.Nchw), (spec.Channels, spec.Range, spec.Layout));
    }

    [Theory]
    [InlineData("range", "100", "'range' must be 1 or 255")]
    [InlineData("layout", "CHW", "'layout' must be NCHW or NHWC")]
    [InlineData("channels", "RGBA", "'channels' must be RGB, BGR or L")]
    public void FromMetadata_UnknownValue_ThrowsNamingKeyAndChoices(string key, string value, string expected)
    {
        var metadata = new Dictionary<string, string>(PreprocessingSpec.ImageNet().ToMetadata()) { [key] = value };

        var error = Assert.Throws<FormatException>(() => PreprocessingSpec.FromMetadata(metadata));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Normalize_UnitPlanes_EqualsNormalizeOfTheImage()
    {
        // The augmented (float) path and the table path must write the same tensor, channel order and layout included.
        var random = new Random(5);
        var pixels = new byte[24 * 24 * 3];
        random.NextBytes(pixels);
        var image = new PixelImage(24, 24, ChannelFormat.Rgb, pixels);
        var planes = new float[pixels.Length];
        for (var c = 0; c < 3; c++)
        {
            for (var i = 0; i < 24 * 24; i++)
            {
                planes[c * 24 * 24 + i] = pixels[i * 3 + c] / 255f;
            }
        }

        var preprocessor = new ImagePreprocessor(CaffeNhwc);
        var fromImage = new float[CaffeNhwc.TensorLength];
        var fromPlanes = new float[CaffeNhwc.TensorLength];
        preprocessor.Normalize(image, fromImage);
        preprocessor.Normalize(planes, fromPlanes);

        Assert.Equal(fromImage, fromPlanes);
        Assert.Equal(pixels[2] - 103.06f, fromImage[0]); // pixel (0, 0), tensor channel 0 = blue
        Assert.Equal(pixels[0] - 123.15f, fromImage[2]);
    }

    private static PreprocessingSpec CaffeNhwc => new()
    {
        InputHeight = 24,
        InputWidth = 24,
        Resize = 28,
        Mean = [103.06f, 115.90f, 123.15f],
        Std = [1, 1, 1],
        Channels = ChannelFormat.Bgr,
        Range = 255,
        Layout = TensorLayout.Nhwc,
    };

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
