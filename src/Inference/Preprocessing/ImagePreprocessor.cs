using System.Drawing;

namespace OnnxTrainer.Inference.Preprocessing;

/// <summary>
/// Turns images into model input following a <see cref="PreprocessingSpec"/>; the same code runs in
/// the trainer (evaluation and non-random training transforms) and when serving. Numerically it
/// reproduces torchvision's <c>Resize(resize)</c> + <c>CenterCrop</c> + <c>ToTensor</c> +
/// <c>Normalize</c> on PIL images, and Caffe's BGR 0..255 convention or an NHWC tensor where the spec
/// says so. Thread-safe.
/// </summary>
public sealed class ImagePreprocessor
{
    private readonly float[][] _lookup;
    private readonly float[] _mean;
    private readonly float[] _std;
    private readonly float _range;

    /// <summary>Creates a preprocessor for <paramref name="spec"/>.</summary>
    /// <exception cref="ArgumentException">The spec is invalid.</exception>
    public ImagePreprocessor(PreprocessingSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        Spec = spec;
        _mean = [.. spec.Mean];
        _std = [.. spec.Std];
        _range = spec.Range;

        // 256 entries per tensor channel, computed with the same float arithmetic as the float-plane
        // Normalize, so the table path and the augmented path agree exactly ((v / 255f) * 255f == v).
        _lookup = new float[spec.ChannelCount][];
        for (var c = 0; c < spec.ChannelCount; c++)
        {
            _lookup[c] = new float[256];
            for (var v = 0; v < 256; v++)
            {
                _lookup[c][v] = Scale(v / 255f, c);
            }
        }
    }

    /// <summary>The preprocessing this instance applies.</summary>
    public PreprocessingSpec Spec { get; }

    /// <summary>
    /// Resizes the shorter side to <see cref="PreprocessingSpec.Resize"/>, center-crops, normalizes and
    /// writes C*H*W floats in the spec's channel order and layout to <paramref name="destination"/>.
    /// The image is converted to the spec's channels first if needed.
    /// </summary>
    public void Preprocess(PixelImage image, Span<float> destination) =>
        Normalize(ResizeAndCenterCrop(image), destination);

    /// <summary>The geometric part of <see cref="Preprocess"/>: shorter-side resize and center crop, in the spec's channels.</summary>
    public PixelImage ResizeAndCenterCrop(PixelImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        image = image.ConvertTo(Spec.Channels);
        var (width, height) = ShorterSideSize(image.Width, image.Height, Spec.Resize);

        // torchvision: int(round((size - crop) / 2.0)); Python rounds half to even, as Math.Round does.
        var left = (int)Math.Round((width - Spec.InputWidth) / 2.0);
        var top = (int)Math.Round((height - Spec.InputHeight) / 2.0);
        return ImageResampler.ResizeAndCrop(image, width, height, new Rectangle(left, top, Spec.InputWidth, Spec.InputHeight));
    }

    /// <summary>
    /// Writes an image of exactly the input size as the model's tensor: (value / 255 * range - mean) / std
    /// per tensor channel, in the spec's channel order and layout.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong size, or destination shorter than <see cref="PreprocessingSpec.TensorLength"/>.</exception>
    public void Normalize(PixelImage image, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        image = image.ConvertTo(Spec.Channels);
        CheckInput(image.Width, image.Height, destination.Length);
        var channels = image.Channels;
        var plane = image.Width * image.Height;
        var pixels = image.Pixels;
        var (channelStride, pixelStride) = Strides(plane);
        for (var c = 0; c < channels; c++)
        {
            var lookup = _lookup[c];
            var source = SourceChannel(c);
            var output = destination[(c * channelStride)..];
            for (var i = 0; i < plane; i++)
            {
                output[i * pixelStride] = lookup[pixels[i * channels + source]];
            }
        }
    }

    /// <summary>
    /// Writes the model's tensor from C*H*W planes of values on the 0..1 scale in the image's channel order
    /// (RGB or L): for augmentations such as color jitter that work on floats.
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than <see cref="PreprocessingSpec.TensorLength"/>.</exception>
    public void Normalize(ReadOnlySpan<float> unitPlanes, Span<float> destination)
    {
        CheckInput(Spec.InputWidth, Spec.InputHeight, Math.Min(unitPlanes.Length, destination.Length));
        var plane = Spec.InputWidth * Spec.InputHeight;
        var (channelStride, pixelStride) = Strides(plane);
        for (var c = 0; c < Spec.ChannelCount; c++)
        {
            var values = unitPlanes.Slice(SourceChannel(c) * plane, plane);
            var output = destination[(c * channelStride)..];
            for (var i = 0; i < plane; i++)
            {
                output[i * pixelStride] = Scale(values[i], c);
            }
        }
    }

    /// <summary>
    /// Size after resizing the shorter side to <paramref name="shorter"/>, keeping the aspect ratio
    /// with torchvision's rounding (the longer side is truncated: int(shorter * long / short)).
    /// </summary>
    public static (int Width, int Height) ShorterSideSize(int width, int height, int shorter)
    {
        if (width <= height)
        {
            return (shorter, (int)((double)shorter * height / width));
        }

        return ((int)((double)shorter * width / height), shorter);
    }

    /// <summary>A 0..1 value of tensor channel <paramref name="c"/> on the model's scale, normalized.</summary>
    private float Scale(float unit, int c) => ((unit * _range) - _mean[c]) / _std[c];

    /// <summary>The image channel (RGB order) that tensor channel <paramref name="c"/> reads.</summary>
    private int SourceChannel(int c) => Spec.Channels == ChannelFormat.Bgr ? 2 - c : c;

    /// <summary>Where channel c of pixel i goes: c * channel stride + i * pixel stride.</summary>
    private (int Channel, int Pixel) Strides(int plane) =>
        Spec.Layout == TensorLayout.Nhwc ? (1, Spec.ChannelCount) : (plane, 1);

    private void CheckInput(int width, int height, int length)
    {
        if (width != Spec.InputWidth || height != Spec.InputHeight)
        {
            throw new ArgumentException($"Expected a {Spec.InputWidth}x{Spec.InputHeight} image, got {width}x{height}.");
        }

        if (length < Spec.TensorLength)
        {
            throw new ArgumentException($"Destination holds {length} floats, {Spec.TensorLength} needed.");
        }
    }
}
