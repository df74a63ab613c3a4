using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Export;

/// <summary>What an exported classifier carries besides its graph: labels in output order, preprocessing, and the run's provenance.</summary>
/// <param name="Recipe">The recipe YAML the run was trained from.</param>
/// <param name="Metrics">The run's final metrics as a JSON document.</param>
public sealed record ClassifierExport(IReadOnlyList<string> Labels, PreprocessingSpec Preprocessing, string Recipe, string Metrics);
