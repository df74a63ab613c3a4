namespace OnnxTrainer.Inference.Preprocessing;

/// <summary>The pixel channels a backbone expects; written to model metadata as <c>RGB</c> or <c>L</c>.</summary>
public enum ChannelFormat
{
    /// <summary>Three channels, red, green, blue.</summary>
    Rgb,

    /// <summary>One luminance channel (ITU-R 601-2, as PIL's <c>convert("L")</c>).</summary>
    L,
}
