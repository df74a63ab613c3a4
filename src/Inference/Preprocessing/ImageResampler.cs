using System.Drawing;
using System.Numerics;

namespace OnnxTrainer.Inference.Preprocessing;

/// <summary>
/// Antialiased bilinear resizing, bit-exact with Pillow's <c>Image.resize(..., BILINEAR)</c>
/// (separable: a horizontal pass into an 8-bit intermediate, then a vertical pass).
/// </summary>
public static class ImageResampler
{
    private const int Half = 1 << (ResampleAxis.PrecisionBits - 1);

    /// <summary>Resizes the whole image to <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static PixelImage Resize(PixelImage source, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(source);
        return ResizeAndCrop(source, width, height, new Rectangle(0, 0, width, height));
    }

    /// <summary>
    /// Resizes the region <paramref name="sourceBox"/> (source pixel coordinates, fractional allowed,
    /// Pillow's <c>box</c> argument) to <paramref name="width"/> x <paramref name="height"/>.
    /// Used by random resized crop: cropping and scaling in one pass.
    /// </summary>
    public static PixelImage ResizeRegion(PixelImage source, RectangleF sourceBox, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (sourceBox.Left < 0 || sourceBox.Top < 0 || sourceBox.Right > source.Width || sourceBox.Bottom > source.Height
            || sourceBox.Width <= 0 || sourceBox.Height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sourceBox), sourceBox, $"Box must lie inside the {source.Width}x{source.Height} image.");
        }

        return Resample(source, sourceBox.Left, sourceBox.Right, width, 0, width, sourceBox.Top, sourceBox.Bottom, height, 0, height);
    }

    /// <summary>
    /// The <paramref name="crop"/> region of the image resized to <paramref name="resizedWidth"/> x
    /// <paramref name="resizedHeight"/>, computing only the cropped pixels. Identical to resizing then
    /// cropping (the filter taps are those of the full resize).
    /// </summary>
    public static PixelImage ResizeAndCrop(PixelImage source, int resizedWidth, int resizedHeight, Rectangle crop)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(resizedWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(resizedHeight);
        if (crop.Left < 0 || crop.Top < 0 || crop.Right > resizedWidth || crop.Bottom > resizedHeight || crop.Width <= 0 || crop.Height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(crop), crop, $"Crop must lie inside the {resizedWidth}x{resizedHeight} resized image.");
        }

        return Resample(source, 0, source.Width, resizedWidth, crop.Left, crop.Width, 0, source.Height, resizedHeight, crop.Top, crop.Height);
    }

    private static PixelImage Resample(
        PixelImage source,
        float x0, float x1, int outWidth, int outLeft, int cropWidth,
        float y0, float y1, int outHeight, int outTop, int cropHeight)
    {
        var channels = source.Channels;
        var vertical = ResampleAxis.Compute(source.Height, y0, y1, outHeight, outTop, cropHeight);
        var needVertical = !ResampleAxis.IsIdentity(source.Height, y0, y1, outHeight, outTop, cropHeight);

        // Horizontal pass on the source rows the vertical pass will read, as Pillow does.
        var firstRow = needVertical ? vertical.First[0] : 0;
        var lastRow = needVertical ? vertical.First[^1] + vertical.Count[^1] : source.Height;
        byte[] rows;
        int rowWidth;
        if (ResampleAxis.IsIdentity(source.Width, x0, x1, outWidth, outLeft, cropWidth))
        {
            rows = source.Pixels;
            rowWidth = source.Width;
        }
        else
        {
            var horizontal = ResampleAxis.Compute(source.Width, x0, x1, outWidth, outLeft, cropWidth);
            rows = GC.AllocateUninitializedArray<byte>((lastRow - firstRow) * cropWidth * channels);
            ResampleRows(source.Pixels, source.Width, channels, firstRow, lastRow, horizontal, rows);
            rowWidth = cropWidth;
            if (!needVertical)
            {
                return new PixelImage(cropWidth, cropHeight, source.Format, rows);
            }
        }

        if (!needVertical)
        {
            return new PixelImage(cropWidth, cropHeight, source.Format, (byte[])rows.Clone());
        }

        var rowOffset = rows == source.Pixels ? 0 : firstRow;
        var output = GC.AllocateUninitializedArray<byte>(cropWidth * cropHeight * channels);
        ResampleColumns(rows, rowWidth * channels, rowOffset, vertical, output);
        return new PixelImage(cropWidth, cropHeight, source.Format, output);
    }

    private static void ResampleRows(byte[] source, int sourceWidth, int channels, int firstRow, int lastRow, ResampleAxis axis, byte[] destination)
    {
        var outWidth = axis.Length;
        var sourceStride = sourceWidth * channels;
        var destinationStride = outWidth * channels;
        for (var y = firstRow; y < lastRow; y++)
        {
            var sourceRow = source.AsSpan(y * sourceStride, sourceStride);
            var destinationRow = destination.AsSpan((y - firstRow) * destinationStride, destinationStride);
            for (var x = 0; x < outWidth; x++)
            {
                var taps = axis.Weights.AsSpan(x * axis.KernelSize, axis.Count[x]);
                var start = axis.First[x] * channels;
                if (channels == 3)
                {
                    int r = Half, g = Half, b = Half;
                    for (var k = 0; k < taps.Length; k++)
                    {
                        var w = taps[k];
                        var s = start + 3 * k;
                        r += sourceRow[s] * w;
                        g += sourceRow[s + 1] * w;
                        b += sourceRow[s + 2] * w;
                    }

                    destinationRow[3 * x] = ResampleAxis.Clip(r);
                    destinationRow[3 * x + 1] = ResampleAxis.Clip(g);
                    destinationRow[3 * x + 2] = ResampleAxis.Clip(b);
                }
                else
                {
                    var sum = Half;
                    for (var k = 0; k < taps.Length; k++)
                    {
                        sum += sourceRow[start + k] * taps[k];
                    }

                    destinationRow[x] = ResampleAxis.Clip(sum);
                }
            }
        }
    }

    private static void ResampleColumns(byte[] rows, int stride, int rowOffset, ResampleAxis axis, byte[] destination)
    {
        // Accumulate whole rows at a time: contiguous memory, SIMD over the row (integer arithmetic, so
        // exactly Pillow's result; the vertical pass of 500x375 -> 298x256 took 0.45 ms scalar, 0.11 ms so).
        var accumulator = new int[stride];
        for (var y = 0; y < axis.Length; y++)
        {
            accumulator.AsSpan().Fill(Half);
            var taps = axis.Weights.AsSpan(y * axis.KernelSize, axis.Count[y]);
            for (var k = 0; k < taps.Length; k++)
            {
                MultiplyAdd(rows.AsSpan((axis.First[y] + k - rowOffset) * stride, stride), taps[k], accumulator);
            }

            ClipRow(accumulator, destination.AsSpan(y * stride, stride));
        }
    }

    /// <summary>accumulator[i] += row[i] * weight.</summary>
    private static void MultiplyAdd(ReadOnlySpan<byte> row, int weight, Span<int> accumulator)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var w = new Vector<int>(weight);
            var lanes = Vector<int>.Count;
            for (; i <= row.Length - Vector<byte>.Count; i += Vector<byte>.Count)
            {
                Vector.Widen(new Vector<byte>(row[i..]), out var low, out var high);
                Vector.Widen(low, out var v0, out var v1);
                Vector.Widen(high, out var v2, out var v3);
                AddProduct(accumulator.Slice(i, lanes), v0, w);
                AddProduct(accumulator.Slice(i + lanes, lanes), v1, w);
                AddProduct(accumulator.Slice(i + 2 * lanes, lanes), v2, w);
                AddProduct(accumulator.Slice(i + 3 * lanes, lanes), v3, w);
            }
        }

        for (; i < row.Length; i++)
        {
            accumulator[i] += row[i] * weight;
        }
    }

    private static void AddProduct(Span<int> accumulator, Vector<uint> values, Vector<int> weight) =>
        (new Vector<int>(accumulator) + (Vector.AsVectorInt32(values) * weight)).CopyTo(accumulator);

    /// <summary>destination[i] = Clip(accumulator[i]), which is clamp(accumulator >> PrecisionBits, 0, 255).</summary>
    private static void ClipRow(ReadOnlySpan<int> accumulator, Span<byte> destination)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var lanes = Vector<int>.Count;
            for (; i <= destination.Length - Vector<byte>.Count; i += Vector<byte>.Count)
            {
                var low = Vector.Narrow(Clipped(accumulator.Slice(i, lanes)), Clipped(accumulator.Slice(i + lanes, lanes)));
                var high = Vector.Narrow(Clipped(accumulator.Slice(i + 2 * lanes, lanes)), Clipped(accumulator.Slice(i + 3 * lanes, lanes)));
                Vector.Narrow(low, high).CopyTo(destination[i..]);
            }
        }

        for (; i < destination.Length; i++)
        {
            destination[i] = ResampleAxis.Clip(accumulator[i]);
        }
    }

    private static Vector<uint> Clipped(ReadOnlySpan<int> accumulator) =>
        Vector.AsVectorUInt32(Vector.Min(Vector.Max(Vector.ShiftRightArithmetic(new Vector<int>(accumulator), ResampleAxis.PrecisionBits), Vector<int>.Zero), new Vector<int>(255)));
}
