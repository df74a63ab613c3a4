namespace OnnxTrainer.Reports;

/// <summary>What the top of the report says about the run that made the model: its recipe and backbone.</summary>
/// <param name="Name">The recipe's name.</param>
/// <param name="Strategy">The recipe's transfer-learning strategy.</param>
/// <param name="Backbone">The backbone file's name, or for from-scratch runs the architecture's name.</param>
/// <param name="BackboneParameters">Parameters of the backbone up to the cut, as exported.</param>
/// <param name="HeadParameters">Parameters of the new head.</param>
/// <param name="Cut">Where the backbone was cut: <c>head</c>, a cut-point index or a tensor name.</param>
/// <param name="Recipe">The recipe as the model records it (YAML).</param>
public sealed record RunDescription(string? Name, string? Strategy, string Backbone, long BackboneParameters, long HeadParameters, string Cut, string Recipe);
