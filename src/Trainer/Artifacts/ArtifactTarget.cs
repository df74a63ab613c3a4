using OnnxTrainer.Autodiff;

namespace OnnxTrainer.Artifacts;

/// <summary>
/// What the training and eval graphs are built for: the rewrites that were chosen by measurement on ONNX Runtime's
/// CPU provider are switchable, so that another execution provider gets graphs measured for it. Every choice passes
/// the same gradient checks.
/// </summary>
/// <param name="Gradients">The gradient rules' formulations.</param>
/// <param name="BatchStacking">Convolutions over small planes on images stacked into one (<see cref="ConvBatchStacking"/>).</param>
public sealed record ArtifactTarget(GradientFormulations Gradients, bool BatchStacking)
{
    /// <summary>ONNX Runtime's CPU provider: every rewrite that was measured faster there.</summary>
    public static ArtifactTarget Cpu { get; } = new(GradientFormulations.Cpu, BatchStacking: true);

    /// <summary>The plain formulations, for providers with kernels of their own (CUDA, until measured otherwise).</summary>
    public static ArtifactTarget Plain { get; } = new(GradientFormulations.Plain, BatchStacking: false);
}
