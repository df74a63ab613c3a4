namespace OnnxTrainer.Recipes;

public enum OptimizerKind
{
    Sgd,
    AdamW,
}
