using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Data;

/// <summary>How file-based sources (image folders, CSV manifests) check their images when opened.</summary>
public sealed record ScanOptions
{
    /// <summary>Images whose header declares more pixels are skipped as decompression bombs.</summary>
    public long MaxPixels { get; init; } = ImageDecoder.DefaultMaxPixels;

    /// <summary>
    /// Decode every image when opening (slower) instead of reading headers only, so truncated files are
    /// found, and classes left without usable images reported, before training rather than during it.
    /// </summary>
    public bool VerifyPixels { get; init; }
}
