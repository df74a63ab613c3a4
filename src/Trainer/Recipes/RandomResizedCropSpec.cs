namespace OnnxTrainer.Recipes;

/// <summary>torchvision's RandomResizedCrop: a crop of a random area fraction and aspect ratio, resized to the input size.</summary>
public sealed record RandomResizedCropSpec(double MinScale, double MaxScale, double MinRatio, double MaxRatio);
