namespace OnnxTrainer.Data;

/// <summary>
/// torchvision's brightness, contrast and saturation adjustments on C*H*W planes on the 0..1 scale,
/// each followed by clamping to 0..1. Gray uses ITU-R 601-2 weights, as torchvision does.
/// </summary>
internal static class ColorJitter
{
    public static void Apply(Span<float> planes, int channels, float brightness, float contrast, float saturation)
    {
        if (brightness != 1f)
        {
            foreach (ref var value in planes)
            {
                value = Math.Clamp(value * brightness, 0f, 1f);
            }
        }

        var plane = planes.Length / channels;
        if (contrast != 1f)
        {
            var mean = 0.0;
            for (var i = 0; i < plane; i++)
            {
                mean += Gray(planes, channels, plane, i);
            }

            var gray = (float)(mean / plane);
            foreach (ref var value in planes)
            {
                value = Math.Clamp(contrast * value + (1 - contrast) * gray, 0f, 1f);
            }
        }

        if (saturation != 1f && channels == 3)
        {
            for (var i = 0; i < plane; i++)
            {
                var gray = Gray(planes, channels, plane, i);
                for (var c = 0; c < 3; c++)
                {
                    ref var value = ref planes[c * plane + i];
                    value = Math.Clamp(saturation * value + (1 - saturation) * gray, 0f, 1f);
                }
            }
        }
    }

    private static float Gray(Span<float> planes, int channels, int plane, int i) =>
        channels == 3 ? 0.299f * planes[i] + 0.587f * planes[plane + i] + 0.114f * planes[2 * plane + i] : planes[i];
}
