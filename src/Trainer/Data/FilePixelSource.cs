using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Data;

/// <summary>Image files on disk, decoded on demand.</summary>
internal sealed class FilePixelSource(IReadOnlyList<string> paths, long maxPixels) : IPixelSource
{
    public IReadOnlyList<string> Paths { get; } = paths;

    public PixelImage Decode(int key, ChannelFormat channels) => ImageDecoder.DecodeFile(Paths[key], channels, maxPixels);

    /// <summary>
    /// Checks every file (header, or full decode when asked) on all cores and logs the unusable
    /// ones; returns which keys are usable.
    /// </summary>
    public bool[] Scan(ScanOptions options, SkipLog log)
    {
        var usable = new bool[Paths.Count];
        Parallel.For(0, Paths.Count, key =>
        {
            try
            {
                if (options.VerifyPixels)
                {
                    Decode(key, ChannelFormat.L);
                }
                else
                {
                    ImageDecoder.ProbeFile(Paths[key], maxPixels);
                }

                usable[key] = true;
            }
            catch (ImageDecodeException e)
            {
                log.Add(Paths[key], e);
            }
        });
        return usable;
    }
}
