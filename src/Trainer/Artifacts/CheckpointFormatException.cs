namespace OnnxTrainer.Artifacts;

/// <summary>
/// A checkpoint or safetensors file that cannot be read, or does not fit the model it is loaded for; the
/// message names the file and what is wrong. An <see cref="IOException"/>, so commands report it as bad input.
/// </summary>
public sealed class CheckpointFormatException(string message, Exception? inner = null) : IOException(message, inner);
