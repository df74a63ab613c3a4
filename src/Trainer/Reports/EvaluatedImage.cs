namespace OnnxTrainer.Reports;

/// <summary>One classified image: its true class, the predicted one, and the probability given to each.</summary>
public sealed record EvaluatedImage(string Path, int Label, int Predicted, float LabelProbability, float PredictedProbability);
