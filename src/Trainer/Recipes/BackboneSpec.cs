using OnnxTrainer.Architectures;
using OnnxTrainer.Artifacts;
namespace OnnxTrainer.Recipes;

/// <summary>
/// The backbone: a pretrained ONNX file (<see cref="Path"/>, absolute, resolved against the recipe's folder), or for
/// <c>from-scratch</c> an architecture the tool builds (<see cref="Architecture"/>, one of <c>ArchitectureFactory.Names</c>).
/// </summary>
public sealed record BackboneSpec(string? Path, BackboneCut Cut, string? Architecture = null, ArchitectureOptions? ArchitectureOptions = null);
