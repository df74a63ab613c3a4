using OnnxTrainer.Inference;

namespace ClassifierService;

/// <summary>The answer of <c>POST /classify</c>: the top-k classes, best first.</summary>
public sealed record ClassifyResponse(IReadOnlyList<Prediction> Predictions);
