namespace OnnxTrainer.Inference.Preprocessing;

/// <summary>An image could not be decoded; <see cref="Failure"/> says why, the message says it for people.</summary>
public sealed class ImageDecodeException : Exception
{
    /// <summary>Creates the exception for <paramref name="failure"/>.</summary>
    public ImageDecodeException(DecodeFailure failure, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
    }

    /// <summary>The kind of failure.</summary>
    public DecodeFailure Failure { get; }
}
