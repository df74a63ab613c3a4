namespace OnnxTrainer.Artifacts;

/// <summary>
/// Hyper-parameters of the optimizer graph, named and defaulted as in torch.optim.SGD and torch.optim.AdamW
/// (dampening is always 0). The learning rate itself is a graph input so schedules need no rebuild;
/// the per-parameter lists are aligned with the parameter list given to <see cref="OptimizerGraph.Build"/>.
/// </summary>
public sealed record OptimizerOptions(OptimizerKind Kind)
{
    /// <summary>SGD momentum factor; 0 means plain SGD with no state.</summary>
    public double Momentum { get; init; }
    public bool Nesterov { get; init; }
    /// <summary>SGD: L2 penalty added to the gradient. AdamW: decoupled decay, p -= lr * wd * p.</summary>
    public double WeightDecay { get; init; }
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>Per-parameter learning-rate multiplier (discriminative learning rates); null means 1 for all.</summary>
    public IReadOnlyList<float>? LrScale { get; init; }
    /// <summary>Per-parameter weight-decay switch; null means decay every parameter. See <see cref="DecayByConvention"/>.</summary>
    public IReadOnlyList<bool>? DecayWeights { get; init; }

    public static OptimizerOptions Sgd(double momentum = 0, bool nesterov = false, double weightDecay = 0) =>
        new(OptimizerKind.Sgd) { Momentum = momentum, Nesterov = nesterov, WeightDecay = weightDecay };

    public static OptimizerOptions AdamW(double weightDecay = 0.01, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8) =>
        new(OptimizerKind.AdamW) { WeightDecay = weightDecay, Beta1 = beta1, Beta2 = beta2, Epsilon = epsilon };

    /// <summary>
    /// The usual weight-decay switches (timm, fastai): decay weight matrices and convolution kernels, not
    /// biases or normalization scales and shifts, which are exactly the parameters of rank 0 or 1.
    /// </summary>
    public static IReadOnlyList<bool> DecayByConvention(IReadOnlyList<(string Name, long[] Shape)> parameters) =>
        [.. parameters.Select(p => p.Shape.Length > 1)];

    /// <summary>The state tensors each parameter carries, as name suffixes after "&lt;param&gt;.".</summary>
    public IReadOnlyList<string> StateSuffixes => Kind switch
    {
        OptimizerKind.AdamW => ["exp_avg", "exp_avg_sq"],
        OptimizerKind.Sgd when Momentum != 0 => ["momentum"],
        _ => [],
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first impossible setting.</summary>
    public void Validate(int parameterCount)
    {
        if (!double.IsFinite(WeightDecay) || WeightDecay < 0) throw new ArgumentException($"weight decay must be >= 0 (got {WeightDecay})");
        if (LrScale is { } scales)
        {
            if (scales.Count != parameterCount) throw new ArgumentException($"{scales.Count} learning-rate scales for {parameterCount} parameters");
            int bad = scales.ToList().FindIndex(s => !float.IsFinite(s) || s < 0);
            if (bad >= 0) throw new ArgumentException($"learning-rate scale {bad} must be finite and >= 0 (got {scales[bad]})");
        }
        if (DecayWeights is { } decay && decay.Count != parameterCount)
            throw new ArgumentException($"{decay.Count} weight-decay switches for {parameterCount} parameters");
        switch (Kind)
        {
            case OptimizerKind.Sgd:
                if (!double.IsFinite(Momentum) || Momentum < 0) throw new ArgumentException($"momentum must be >= 0 (got {Momentum})");
                if (Nesterov && Momentum == 0) throw new ArgumentException("Nesterov momentum needs a momentum > 0");
                break;
            case OptimizerKind.AdamW:
                if (!(Beta1 is >= 0 and < 1)) throw new ArgumentException($"beta1 must be in [0, 1) (got {Beta1})");
                if (!(Beta2 is >= 0 and < 1)) throw new ArgumentException($"beta2 must be in [0, 1) (got {Beta2})");
                if (!double.IsFinite(Epsilon) || Epsilon < 0) throw new ArgumentException($"epsilon must be >= 0 (got {Epsilon})");
                break;
            default:
                throw new ArgumentException($"unknown optimizer kind {Kind}");
        }
    }
}
