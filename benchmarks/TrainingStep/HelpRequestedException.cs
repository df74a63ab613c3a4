namespace OnnxTrainer.Benchmarks.TrainingStep;

/// <summary>Thrown by the option parser for -h/--help so that Main prints the usage and exits with 0.</summary>
internal sealed class HelpRequestedException : Exception
{
    public HelpRequestedException() : base("help requested") { }
}
