namespace OnnxTrainer.Inference.Preprocessing;

/// <summary>
/// The channels a backbone reads, in tensor order; written to model metadata as <c>RGB</c>, <c>BGR</c> or <c>L</c>.
/// Decoded images hold RGB or L pixels (<see cref="PixelImage"/>); BGR is an order applied when the tensor is written.
/// </summary>
public enum ChannelFormat
{
    /// <summary>Three channels, red, green, blue.</summary>
    Rgb,

    /// <summary>One luminance channel (ITU-R 601-2, as PIL's <c>convert("L")</c>).</summary>
    L,

    /// <summary>Three channels, blue, green, red (Caffe, CNTK and OpenCV models).</summary>
    Bgr,
}
