using OnnxTrainer.Artifacts;

namespace OnnxTrainer.Tests.Artifacts;

/// <summary>
/// torch.optim.SGD and torch.optim.AdamW written out in plain C#, in float32 with the scalar arithmetic in
/// float64 as PyTorch does it in Python floats: the oracle the optimizer graph is compared against.
/// State is keyed by the contract's names (<c>&lt;p&gt;.momentum</c>, <c>&lt;p&gt;.exp_avg</c>, ...).
/// </summary>
internal sealed class ReferenceOptimizer(OptimizerOptions options, IReadOnlyList<string> names)
{
    public Dictionary<string, float[]> State { get; } = [];

    /// <summary>Updates <paramref name="parameters"/> in place; <paramref name="step"/> is 1-based.</summary>
    public void Step(double learningRate, long step, IReadOnlyList<float[]> parameters, IReadOnlyList<float[]> gradients)
    {
        for (int i = 0; i < names.Count; i++)
        {
            double lr = learningRate * (options.LrScale?[i] ?? 1f);
            double weightDecay = (options.DecayWeights?[i] ?? true) ? options.WeightDecay : 0;
            if (options.Kind == OptimizerKind.Sgd) Sgd(names[i], lr, weightDecay, step, parameters[i], gradients[i]);
            else AdamW(names[i], lr, weightDecay, step, parameters[i], gradients[i]);
        }
    }

    private void Sgd(string name, double lr, double weightDecay, long step, float[] p, float[] g)
    {
        float momentum = (float)options.Momentum;
        float[]? buffer = options.Momentum == 0 ? null : State.TryGetValue(name + ".momentum", out var b) ? b : State[name + ".momentum"] = new float[p.Length];
        for (int j = 0; j < p.Length; j++)
        {
            float d = g[j] + (float)weightDecay * p[j];
            if (buffer is not null)
            {
                buffer[j] = step == 1 ? d : buffer[j] * momentum + d;
                d = options.Nesterov ? d + momentum * buffer[j] : buffer[j];
            }
            p[j] -= (float)lr * d;
        }
    }

    private void AdamW(string name, double lr, double weightDecay, long step, float[] p, float[] g)
    {
        var m = State.TryGetValue(name + ".exp_avg", out var a) ? a : State[name + ".exp_avg"] = new float[p.Length];
        var v = State.TryGetValue(name + ".exp_avg_sq", out var s) ? s : State[name + ".exp_avg_sq"] = new float[p.Length];
        float decay = (float)(1 - lr * weightDecay);
        float stepSize = (float)(lr / (1 - Math.Pow(options.Beta1, step)));
        float sqrtBiasCorrection2 = (float)Math.Sqrt(1 - Math.Pow(options.Beta2, step));
        for (int j = 0; j < p.Length; j++)
        {
            p[j] *= decay;
            m[j] = m[j] * (float)options.Beta1 + g[j] * (float)(1 - options.Beta1);
            v[j] = v[j] * (float)options.Beta2 + g[j] * (float)(1 - options.Beta2) * g[j];
            float denominator = MathF.Sqrt(v[j]) / sqrtBiasCorrection2 + (float)options.Epsilon;
            p[j] -= stepSize * (m[j] / denominator);
        }
    }
}
