using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Data;

/// <summary>Image files on disk, decoded on demand.</summary>
internal sealed class FilePixelSource(IReadOnlyList<string> paths, long maxPixels) : IPixelSource
{
    /// <summary>Files whose JPEG data was checked once already: later epochs decode them without the check.</summary>
    private readonly bool[] _dataChecked = new bool[paths.Count];

    public IReadOnlyList<string> Paths { get; } = paths;

    public PixelImage Decode(int key, ChannelFormat channels)
    {
        var image = ImageDecoder.DecodeFile(Paths[key], channels, maxPixels, checkJpegData: !_dataChecked[key]);
        _dataChecked[key] = true; // a race only checks a file twice
        return image;
    }

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
