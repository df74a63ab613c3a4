using OnnxTrainer.Architectures;
using OnnxTrainer.Artifacts;

namespace OnnxTrainer.Recipes;

/// <summary>
/// The backbone: a pretrained ONNX file (<see cref="Path"/>, absolute, resolved against the recipe's folder), or for
/// <c>from-scratch</c> an architecture the tool builds (<see cref="Architecture"/>, one of <c>ArchitectureFactory.Names</c>).
/// <see cref="Preprocess"/> is an optional ONNX graph (absolute path) that runs, frozen, in front of the file's graph.
/// </summary>
public sealed record BackboneSpec(
    string? Path, BackboneCut Cut, string? Architecture = null, ArchitectureOptions? ArchitectureOptions = null, string? Preprocess = null);
