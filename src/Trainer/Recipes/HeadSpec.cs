using OnnxTrainer.Artifacts;

namespace OnnxTrainer.Recipes;

/// <summary>The new classifier: optional hidden layer widths, then one linear layer to the classes found in the data.</summary>
public sealed record HeadSpec(IReadOnlyList<int> Hidden, double Dropout, HeadPooling Pooling = HeadPooling.Average);
