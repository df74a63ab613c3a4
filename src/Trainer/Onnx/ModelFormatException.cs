namespace OnnxTrainer.Onnx;

/// <summary>An ONNX file that cannot be read as a valid model; the message names the file and the tensor, node or value at fault.</summary>
public sealed class ModelFormatException(string message, Exception? inner = null) : Exception(message, inner);
