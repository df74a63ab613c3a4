using SkiaSharp;

namespace OnnxTrainer.Inference.Preprocessing;

/// <summary>Applies an EXIF orientation so pixels are stored as they are meant to be viewed (phones store rotated JPEGs).</summary>
internal static class ImageOrientation
{
    public static PixelImage Apply(PixelImage image, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or (SKEncodedOrigin)0)
        {
            return image;
        }

        int w = image.Width, h = image.Height, channels = image.Channels;
        var swapsAxes = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop
            or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int outWidth = swapsAxes ? h : w, outHeight = swapsAxes ? w : h;
        var source = image.Pixels;
        var output = new byte[source.Length];
        for (var dy = 0; dy < outHeight; dy++)
        {
            for (var dx = 0; dx < outWidth; dx++)
            {
                // Destination pixel (dx, dy) of the upright image comes from stored pixel (sx, sy).
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - dx, dy),
                    SKEncodedOrigin.BottomRight => (w - 1 - dx, h - 1 - dy),
                    SKEncodedOrigin.BottomLeft => (dx, h - 1 - dy),
                    SKEncodedOrigin.LeftTop => (dy, dx),
                    SKEncodedOrigin.RightTop => (dy, h - 1 - dx),
                    SKEncodedOrigin.RightBottom => (w - 1 - dy, h - 1 - dx),
                    SKEncodedOrigin.LeftBottom => (w - 1 - dy, dx),
                    _ => (dx, dy),
                };
                source.AsSpan((sy * w + sx) * channels, channels).CopyTo(output.AsSpan((dy * outWidth + dx) * channels, channels));
            }
        }

        return new PixelImage(outWidth, outHeight, image.Format, output);
    }
}
