namespace OnnxTrainer.Training;

/// <summary>
/// A run refused before it starts for its memory: its estimated peak (<see cref="MemoryEstimate"/>) exceeds what this
/// machine has available, or <see cref="AvailableMemory.LimitVariable"/> holds no number of bytes.
/// </summary>
public sealed class MemoryBudgetException(string message) : Exception(message);
