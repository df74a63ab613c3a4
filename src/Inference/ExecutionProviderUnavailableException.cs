namespace OnnxTrainer.Inference;

/// <summary>The execution provider asked for cannot run on this machine; the message says what is missing and how to get it.</summary>
public sealed class ExecutionProviderUnavailableException(string message, Exception? inner = null) : NotSupportedException(message, inner);
