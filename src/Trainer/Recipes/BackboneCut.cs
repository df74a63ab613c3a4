namespace OnnxTrainer.Recipes;

/// <summary>Where the backbone ends: <c>head</c>, a tensor name, or a cut-point index as listed by <c>onnx-trainer inspect</c>.</summary>
public sealed record BackboneCut(CutKind Kind, string? TensorName = null, int? Index = null)
{
    public static BackboneCut Head { get; } = new(CutKind.Head);
}
