namespace OnnxTrainer.Inference;

/// <summary>One of the top-k answers for an image.</summary>
/// <param name="Label">The class name (from the model's metadata or <see cref="ClassifierOptions.Labels"/>).</param>
/// <param name="Index">The class's position in the model output.</param>
/// <param name="Probability">Softmax probability, 0..1.</param>
public readonly record struct Prediction(string Label, int Index, float Probability);
