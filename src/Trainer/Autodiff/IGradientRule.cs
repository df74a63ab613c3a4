using OnnxTrainer.Ir;

namespace OnnxTrainer.Autodiff;

/// <summary>
/// The gradient of one operator type: given the upstream gradients of the node's outputs, returns
/// one gradient per input, or null where the input needs none (see <see cref="GradientContext.NeedsGradient"/>).
/// </summary>
public interface IGradientRule
{
    Value?[] Build(GradientContext c);
}
