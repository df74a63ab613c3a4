using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Data;

/// <summary>Rotation about the image center with bilinear sampling; pixels from outside the image are black (torchvision's default fill).</summary>
internal static class ImageRotation
{
    public static PixelImage Rotate(PixelImage image, double degrees)
    {
        int width = image.Width, height = image.Height, channels = image.Channels;
        var radians = degrees * Math.PI / 180;
        double cos = Math.Cos(radians), sin = Math.Sin(radians);
        double cx = (width - 1) * 0.5, cy = (height - 1) * 0.5;
        var source = image.Pixels;
        var output = new byte[source.Length];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                // Inverse mapping: where in the source does this output pixel come from?
                double dx = x - cx, dy = y - cy;
                var sx = cos * dx + sin * dy + cx;
                var sy = -sin * dx + cos * dy + cy;
                var x0 = (int)Math.Floor(sx);
                var y0 = (int)Math.Floor(sy);
                double fx = sx - x0, fy = sy - y0;
                for (var c = 0; c < channels; c++)
                {
                    var value = (1 - fx) * (1 - fy) * Sample(source, width, height, channels, x0, y0, c)
                        + fx * (1 - fy) * Sample(source, width, height, channels, x0 + 1, y0, c)
                        + (1 - fx) * fy * Sample(source, width, height, channels, x0, y0 + 1, c)
                        + fx * fy * Sample(source, width, height, channels, x0 + 1, y0 + 1, c);
                    output[(y * width + x) * channels + c] = (byte)Math.Clamp((int)(value + 0.5), 0, 255);
                }
            }
        }

        return new PixelImage(width, height, image.Format, output);
    }

    private static int Sample(byte[] pixels, int width, int height, int channels, int x, int y, int c) =>
        (uint)x < (uint)width && (uint)y < (uint)height ? pixels[(y * width + x) * channels + c] : 0;
}
