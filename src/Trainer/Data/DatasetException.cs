namespace OnnxTrainer.Data;

/// <summary>
/// A dataset cannot be used for training: missing or malformed source, empty dataset, a class
/// without usable images, validation classes unknown to training. Raised before training starts;
/// the message names the file (and line) and what was expected.
/// </summary>
public sealed class DatasetException : Exception
{
    /// <summary>Creates the exception with a message that names the file and what was expected.</summary>
    public DatasetException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
