namespace OnnxTrainer.Recipes;

/// <summary>Parameters whose name matches the glob <see cref="Pattern"/> learn at <see cref="Scale"/> times the learning rate.</summary>
public sealed record LearningRateScaleRule(string Pattern, double Scale);
