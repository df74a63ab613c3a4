using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Data;

/// <summary>Where a dataset's pixels come from; a sample's key identifies its image in the source.</summary>
internal interface IPixelSource
{
    /// <summary>Decodes image <paramref name="key"/> in <paramref name="channels"/>; thread-safe.</summary>
    /// <exception cref="ImageDecodeException">The image cannot be used.</exception>
    PixelImage Decode(int key, ChannelFormat channels);
}
