namespace OnnxTrainer.Recipes;

/// <summary>How the backbone is cut: drop the detected classifier, or keep everything up to a named tensor or cut point.</summary>
public enum CutKind
{
    Head,
    Tensor,
    Index,
}
