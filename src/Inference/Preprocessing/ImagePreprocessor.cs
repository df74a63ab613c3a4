using System.Drawing;

namespace OnnxTrainer.Inference.Preprocessing;

/// <summary>
/// Turns images into model input following a <see cref="PreprocessingSpec"/>; the same code runs in
/// the trainer (evaluation and non-random training transforms) and when serving. Numerically it
/// reproduces torchvision's <c>Resize(resize)</c> + <c>CenterCrop</c> + <c>ToTensor</c> +
/// <c>Normalize</c> on PIL images. Thread-safe.
/// </summary>
public sealed class ImagePreprocessor
{
    private readonly float[][] _lookup;
    private readonly float[] _mean;
    private readonly float[] _std;

    /// <summary>Creates a preprocessor for <paramref name="spec"/>.</summary>
    /// <exception cref="ArgumentException">The spec is invalid.</exception>
    public ImagePreprocessor(PreprocessingSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        Spec = spec;
        _mean = [.. spec.Mean];
        _std = [.. spec.Std];

        // 256 entries per channel, computed with the same float arithmetic as NormalizeInPlace,
        // so the table path and the augmented float path agree exactly.
        _lookup = new float[spec.ChannelCount][];
        for (var c = 0; c < spec.ChannelCount; c++)
        {
            _lookup[c] = new float[256];
            for (var v = 0; v < 256; v++)
            {
                _lookup[c][v] = ((v / 255f) - _mean[c]) / _std[c];
            }
        }
    }

    /// <summary>The preprocessing this instance applies.</summary>
    public PreprocessingSpec Spec { get; }

    /// <summary>
    /// Resizes the shorter side to <see cref="PreprocessingSpec.Resize"/>, center-crops, normalizes and
    /// writes C*H*W floats (one plane per channel) to <paramref name="destination"/>.
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
    /// Writes an image of exactly the input size as normalized planes: (value / 255 - mean) / std.
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
        for (var c = 0; c < channels; c++)
        {
            var lookup = _lookup[c];
            var output = destination.Slice(c * plane, plane);
            for (var i = 0; i < plane; i++)
            {
                output[i] = lookup[pixels[i * channels + c]];
            }
        }
    }

    /// <summary>
    /// Normalizes C*H*W planes of values already on the 0..1 scale in place, (value - mean) / std:
    /// for augmentations such as color jitter that work on floats.
    /// </summary>
    public void NormalizeInPlace(Span<float> planes)
    {
        CheckInput(Spec.InputWidth, Spec.InputHeight, planes.Length);
        var plane = Spec.InputWidth * Spec.InputHeight;
        for (var c = 0; c < Spec.ChannelCount; c++)
        {
            var values = planes.Slice(c * plane, plane);
            float mean = _mean[c], std = _std[c];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = (values[i] - mean) / std;
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
