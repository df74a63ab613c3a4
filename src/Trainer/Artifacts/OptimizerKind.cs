namespace OnnxTrainer.Artifacts;

/// <summary>The update rule that <see cref="OptimizerGraph"/> writes as an ONNX graph.</summary>
public enum OptimizerKind
{
    /// <summary>torch.optim.SGD: plain, with momentum, or Nesterov; weight decay as L2 added to the gradient.</summary>
    Sgd,
    /// <summary>torch.optim.AdamW (not AMSGrad): bias-corrected moments, decoupled weight decay.</summary>
    AdamW,
}
