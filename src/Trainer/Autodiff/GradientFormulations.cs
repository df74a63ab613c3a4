namespace OnnxTrainer.Autodiff;

/// <summary>
/// Which formulation the gradient rules emit where they have a choice that was made by measurement on ONNX Runtime's
/// CPU provider (MLAS), and which may be wrong for another provider's kernels (cuDNN). Both choices compute the same
/// gradient; the plain one is the textbook form.
/// </summary>
/// <param name="ShiftedCopies">Conv weight gradients over small planes from shifted copies of X laid out on one grid
/// (<c>ConvGradient.ShiftedCopies</c>); plain: the correlation, unfold or per-tap forms.</param>
/// <param name="MaxPoolPhases">MaxPool's gradient from the input's stride phases (<c>MaxPoolPhases</c>); plain: the
/// forward's Indices and a ScatterElements.</param>
public sealed record GradientFormulations(bool ShiftedCopies = true, bool MaxPoolPhases = true)
{
    /// <summary>The formulations measured fastest on ONNX Runtime's CPU provider.</summary>
    public static GradientFormulations Cpu { get; } = new();

    /// <summary>The textbook formulations, for providers with kernels of their own (CUDA).</summary>
    public static GradientFormulations Plain { get; } = new(ShiftedCopies: false, MaxPoolPhases: false);
}
