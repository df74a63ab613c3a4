namespace OnnxTrainer.Recipes;

public enum EarlyStoppingMetric
{
    ValLoss,
    ValAccuracy,
}
