namespace OnnxTrainer.Recipes;

/// <summary>Each factor is drawn from [max(0, 1 - x), 1 + x], as torchvision's ColorJitter does; 0 leaves it alone.</summary>
public sealed record ColorJitterSpec(double Brightness, double Contrast, double Saturation);
