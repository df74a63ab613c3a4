using System.Drawing;
using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Data;

/// <summary>
/// Decoded image to normalized input planes. Without augmentation this is exactly the serving
/// preprocessing (<see cref="ImagePreprocessor.Preprocess"/>); with it, random crop, flip, rotation
/// and color jitter are drawn from the given random stream.
/// </summary>
internal sealed class SampleTransform(ImagePreprocessor preprocessor, AugmentationOptions augmentation)
{
    private const int CropAttempts = 10;

    public void Apply(PixelImage image, DeterministicRandom random, Span<float> destination)
    {
        var spec = preprocessor.Spec;
        image = image.ConvertTo(spec.Channels);
        var shaped = augmentation.RandomResizedCrop
            ? ImageResampler.ResizeRegion(image, RandomCropBox(image.Width, image.Height, ref random), spec.InputWidth, spec.InputHeight)
            : preprocessor.ResizeAndCenterCrop(image);

        if (augmentation.HorizontalFlip > 0 && random.NextDouble() < augmentation.HorizontalFlip)
        {
            shaped = FlipHorizontally(shaped);
        }

        if (augmentation.RotationDegrees > 0)
        {
            shaped = ImageRotation.Rotate(shaped, random.Uniform(-augmentation.RotationDegrees, augmentation.RotationDegrees));
        }

        if (!augmentation.HasColorJitter)
        {
            preprocessor.Normalize(shaped, destination);
            return;
        }

        var planes = new float[spec.TensorLength];
        var plane = spec.InputWidth * spec.InputHeight;
        for (var c = 0; c < shaped.Channels; c++)
        {
            for (var i = 0; i < plane; i++)
            {
                planes[c * plane + i] = shaped.Pixels[i * shaped.Channels + c] / 255f;
            }
        }

        ColorJitter.Apply(
            planes,
            shaped.Channels,
            Factor(augmentation.Brightness, ref random),
            Factor(augmentation.Contrast, ref random),
            Factor(augmentation.Saturation, ref random));
        preprocessor.Normalize(planes, destination);
    }

    /// <summary>torchvision's RandomResizedCrop.get_params: ten tries at a random area and ratio, then a center crop clamped to the ratio range.</summary>
    private RectangleF RandomCropBox(int width, int height, ref DeterministicRandom random)
    {
        var area = (double)width * height;
        double logMin = Math.Log(augmentation.CropRatio.Min), logMax = Math.Log(augmentation.CropRatio.Max);
        for (var attempt = 0; attempt < CropAttempts; attempt++)
        {
            var targetArea = area * random.Uniform(augmentation.CropScale.Min, augmentation.CropScale.Max);
            var ratio = Math.Exp(random.Uniform(logMin, logMax));
            var w = (int)Math.Round(Math.Sqrt(targetArea * ratio));
            var h = (int)Math.Round(Math.Sqrt(targetArea / ratio));
            if (w > 0 && w <= width && h > 0 && h <= height)
            {
                var top = random.NextInt(height - h + 1);
                var left = random.NextInt(width - w + 1);
                return new RectangleF(left, top, w, h);
            }
        }

        var imageRatio = (double)width / height;
        int cropWidth = width, cropHeight = height;
        if (imageRatio < augmentation.CropRatio.Min)
        {
            cropHeight = Math.Max(1, (int)Math.Round(width / augmentation.CropRatio.Min));
        }
        else if (imageRatio > augmentation.CropRatio.Max)
        {
            cropWidth = Math.Max(1, (int)Math.Round(height * augmentation.CropRatio.Max));
        }

        return new RectangleF((width - cropWidth) / 2, (height - cropHeight) / 2, cropWidth, cropHeight);
    }

    private static float Factor(double strength, ref DeterministicRandom random) =>
        strength > 0 ? (float)random.Uniform(Math.Max(0, 1 - strength), 1 + strength) : 1f;

    private static PixelImage FlipHorizontally(PixelImage image)
    {
        var channels = image.Channels;
        var output = new byte[image.Pixels.Length];
        for (var y = 0; y < image.Height; y++)
        {
            var row = y * image.Width * channels;
            for (var x = 0; x < image.Width; x++)
            {
                image.Pixels.AsSpan(row + x * channels, channels).CopyTo(output.AsSpan(row + (image.Width - 1 - x) * channels, channels));
            }
        }

        return new PixelImage(image.Width, image.Height, image.Format, output);
    }
}
