namespace OnnxTrainer.Inference.Preprocessing;

/// <summary>Why an image could not be decoded.</summary>
public enum DecodeFailure
{
    /// <summary>The file has no bytes.</summary>
    Empty,

    /// <summary>The bytes are not in a supported image format (JPEG, PNG, BMP, GIF, WebP).</summary>
    NotAnImage,

    /// <summary>The data ends before the image does.</summary>
    Truncated,

    /// <summary>The header declares more pixels than allowed (a decompression bomb, or simply too big).</summary>
    TooLarge,

    /// <summary>The format was recognized but the pixel data is invalid.</summary>
    Corrupt,

    /// <summary>The file is missing or cannot be read.</summary>
    Unreadable,
}
