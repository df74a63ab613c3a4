namespace OnnxTrainer.Reports;

/// <summary>How well one class is recognized. Precision is NaN for a class never predicted, recall for one never present.</summary>
public readonly record struct ClassMetrics(string Label, double Precision, double Recall, double F1, long Support);
