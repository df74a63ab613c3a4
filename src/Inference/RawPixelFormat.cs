namespace OnnxTrainer.Inference;

/// <summary>Byte order of an uncompressed 8-bit pixel buffer (a camera frame, a bitmap's memory).</summary>
public enum RawPixelFormat
{
    /// <summary>Red, green, blue: 3 bytes per pixel.</summary>
    Rgb24,

    /// <summary>Blue, green, red: 3 bytes per pixel (OpenCV, GDI).</summary>
    Bgr24,

    /// <summary>Red, green, blue, alpha: 4 bytes per pixel; alpha is ignored.</summary>
    Rgba32,

    /// <summary>Blue, green, red, alpha: 4 bytes per pixel; alpha is ignored.</summary>
    Bgra32,
}
