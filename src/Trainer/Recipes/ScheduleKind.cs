namespace OnnxTrainer.Recipes;

public enum ScheduleKind
{
    Constant,
    Step,
    Cosine,
}
