using OnnxTrainer.Artifacts;
namespace OnnxTrainer.Recipes;

/// <summary>The pretrained ONNX backbone; <see cref="Path"/> is absolute, resolved against the recipe's folder.</summary>
public sealed record BackboneSpec(string Path, BackboneCut Cut);
