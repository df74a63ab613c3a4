namespace OnnxTrainer.Training;

/// <summary>How <see cref="TrainingRun"/> runs a recipe: where it writes, whether it resumes, on which device.</summary>
public sealed record TrainingRunOptions(string RunDirectory, bool Resume = false, ExecutionOptions? Execution = null, bool ShowProgress = true)
{
    public ExecutionOptions ExecutionOrDefault => Execution ?? new ExecutionOptions();
}
