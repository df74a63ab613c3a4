using System.Collections.Concurrent;
using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Data;

/// <summary>
/// Decoded images kept across epochs within a byte budget. No eviction: with shuffled access
/// every image is equally likely next, so keeping the first ones that fit is as good as any policy.
/// </summary>
internal sealed class DecodedImageCache(long budgetBytes)
{
    private readonly ConcurrentDictionary<int, PixelImage> _images = new();
    private long _bytes;

    public long Bytes => Interlocked.Read(ref _bytes);

    public bool TryGet(int index, out PixelImage image) => _images.TryGetValue(index, out image!);

    public void TryAdd(int index, PixelImage image)
    {
        var size = image.Pixels.LongLength;
        if (Interlocked.Add(ref _bytes, size) > budgetBytes || !_images.TryAdd(index, image))
        {
            Interlocked.Add(ref _bytes, -size);
        }
    }
}
