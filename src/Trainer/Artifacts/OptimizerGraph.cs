using OnnxTrainer.Ir;

namespace OnnxTrainer.Artifacts;

/// <summary>
/// Writes one optimizer step as a standard-operator ONNX graph (<c>optimizer_model.onnx</c> of the artifact
/// contract), following torch.optim.SGD and torch.optim.AdamW formula for formula. Inputs:
/// <c>learning_rate</c> (float scalar), <c>step</c> (int64 scalar, 1-based count including this update),
/// then per parameter <c>&lt;p&gt;</c>, <c>&lt;p&gt;_grad</c> and its state; outputs <c>&lt;p&gt;.out</c> and
/// <c>&lt;state&gt;.out</c> in the same order.
/// </summary>
public static class OptimizerGraph
{
    public const long Opset = 17;

    /// <summary>Names of the state tensors of one parameter, in graph input order.</summary>
    public static IReadOnlyList<string> StateNames(string parameter, OptimizerOptions options) =>
        [.. options.StateSuffixes.Select(suffix => TrainingContract.State(parameter, suffix))];

    public static Model Build(IReadOnlyList<(string Name, long[] Shape)> parameters, OptimizerOptions options)
    {
        options.Validate(parameters.Count);
        if (parameters.Count == 0) throw new ArgumentException("an optimizer graph needs at least one trainable parameter");
        CheckNames(parameters, options);
        var model = new Model { IrVersion = 8, DocString = Describe(options) };
        model.Opsets[""] = Opset;
        var graph = model.Graph;
        graph.Name = "optimizer";

        var learningRate = graph.AddInput(TrainingContract.LearningRate, TensorType.Of(DataType.Float));
        var step = graph.AddInput(TrainingContract.Step, TensorType.Of(DataType.Int64));
        // Declare every input before any node so that the contract names are taken first.
        var slots = parameters.Select(p =>
        {
            var type = TensorType.Of(DataType.Float, p.Shape);
            return (Type: type, Parameter: graph.AddInput(p.Name, type), Gradient: graph.AddInput(TrainingContract.Gradient(p.Name), type),
                State: StateNames(p.Name, options).Select(s => graph.AddInput(s, type)).ToArray());
        }).ToList();

        var scalars = new StepScalars(new GraphBuilder(graph, Opset, "optimizer"), learningRate, step, options);
        for (int i = 0; i < slots.Count; i++)
        {
            var (type, parameter, gradient, state) = slots[i];
            var builder = new GraphBuilder(graph, Opset, parameter.Name);
            float lrScale = options.LrScale?[i] ?? 1f;
            bool decay = options.WeightDecay > 0 && (options.DecayWeights?[i] ?? true);
            var (updated, newState) = options.Kind == OptimizerKind.AdamW
                ? AdamW(builder, scalars, options, lrScale, decay, parameter, gradient, state[0], state[1])
                : Sgd(builder, scalars, options, lrScale, decay, parameter, gradient, state.SingleOrDefault());
            Publish(graph, updated, parameter, type);
            for (int s = 0; s < state.Length; s++) Publish(graph, newState[s], state[s], type);
        }
        return model;
    }

    /// <summary>
    /// torch.optim.SGD with dampening 0: d = g + wd*p; buf = momentum*buf + d (buf = d on step 1);
    /// p -= lr * (Nesterov ? d + momentum*buf : buf), or p -= lr*d without momentum.
    /// </summary>
    private static (Value, Value[]) Sgd(GraphBuilder b, StepScalars scalars, OptimizerOptions options, float lrScale, bool decay,
        Value parameter, Value gradient, Value? momentumBuffer)
    {
        var direction = decay ? b.Add(gradient, b.Mul(parameter, scalars.Float(options.WeightDecay))) : gradient;
        Value[] state = [];
        if (momentumBuffer is not null)
        {
            var momentum = scalars.Float(options.Momentum);
            // torch creates the buffer as a copy of the first gradient; Where (not a 0/1 blend) also ignores
            // whatever the loop initialized the buffer with, NaN included.
            var buffer = b.Op("Where", [scalars.IsFirstStep, direction, b.Add(b.Mul(momentumBuffer, momentum), direction)]);
            state = [buffer];
            direction = options.Nesterov ? b.Add(direction, b.Mul(buffer, momentum)) : buffer;
        }
        return (b.Sub(parameter, b.Mul(direction, scalars.LearningRate(lrScale))), state);
    }

    /// <summary>
    /// torch.optim.AdamW (amsgrad off): p *= 1 - lr*wd; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g;
    /// p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
    /// </summary>
    private static (Value, Value[]) AdamW(GraphBuilder b, StepScalars scalars, OptimizerOptions options, float lrScale, bool decay,
        Value parameter, Value gradient, Value expAvg, Value expAvgSq)
    {
        var m = b.Add(b.Mul(expAvg, scalars.Float(options.Beta1)), b.Mul(gradient, scalars.Float(1 - options.Beta1)));
        var v = b.Add(b.Mul(expAvgSq, scalars.Float(options.Beta2)), b.Mul(b.Mul(gradient, scalars.Float(1 - options.Beta2)), gradient));
        var denominator = b.Add(b.Div(b.Sqrt(v), scalars.SqrtBiasCorrection2), scalars.Float(options.Epsilon));
        var decayed = decay ? b.Mul(parameter, scalars.DecayFactor(lrScale)) : parameter;
        return (b.Sub(decayed, b.Mul(scalars.StepSize(lrScale), b.Div(m, denominator))), [m, v]);
    }

    /// <summary>Names the value computed for <paramref name="input"/> as its contract output.</summary>
    private static void Publish(Graph graph, Value value, Value input, TensorType type)
    {
        value.Type = type;
        graph.Rename(value, TrainingContract.Updated(input.Name));
        graph.Outputs.Add(value);
    }

    private static void CheckNames(IReadOnlyList<(string Name, long[] Shape)> parameters, OptimizerOptions options)
    {
        var used = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [TrainingContract.LearningRate] = "the learning-rate input",
            [TrainingContract.Step] = "the step input",
        };
        void Claim(string name, string role)
        {
            if (!used.TryAdd(name, role))
                throw new ArgumentException($"'{name}' would be both {used[name]} and {role} of the optimizer graph; rename the parameter");
        }
        foreach (var (name, shape) in parameters)
        {
            if (string.IsNullOrEmpty(name)) throw new ArgumentException("a parameter has an empty name");
            if (shape.Any(d => d < 0)) throw new ArgumentException($"parameter '{name}' has a negative dimension: [{string.Join(", ", shape)}]");
            Claim(name, $"parameter '{name}'");
            Claim(TrainingContract.Gradient(name), $"the gradient of '{name}'");
            Claim(TrainingContract.Updated(name), $"the updated '{name}'");
            foreach (var state in StateNames(name, options))
            {
                Claim(state, $"optimizer state of '{name}'");
                Claim(TrainingContract.Updated(state), $"updated optimizer state of '{name}'");
            }
        }
    }

    private static string Describe(OptimizerOptions o) => o.Kind == OptimizerKind.AdamW
        ? FormattableString.Invariant($"torch.optim.AdamW(betas=({o.Beta1}, {o.Beta2}), eps={o.Epsilon}, weight_decay={o.WeightDecay})")
        : FormattableString.Invariant($"torch.optim.SGD(momentum={o.Momentum}, nesterov={o.Nesterov}, weight_decay={o.WeightDecay})");

    /// <summary>
    /// Scalars shared by all parameters, each built once when first needed (per distinct learning-rate scale
    /// where it depends on one, per value for constants). Step and learning-rate arithmetic runs in float64, as PyTorch does it in
    /// Python floats, and is cast to float32 only where it meets the tensors.
    /// </summary>
    private sealed class StepScalars(GraphBuilder b, Value learningRate, Value step, OptimizerOptions options)
    {
        private readonly Dictionary<float, Value> _groupLearningRates = [];
        private readonly Dictionary<float, Value> _learningRates = [];
        private readonly Dictionary<float, Value> _stepSizes = [];
        private readonly Dictionary<float, Value> _decayFactors = [];
        private readonly Dictionary<double, Value> _constants = [];
        private Value? _learningRate64;
        private Value? _step64;
        private Value? _biasCorrection1;

        /// <summary>A float32 constant, one initializer per value however many parameters use it.</summary>
        public Value Float(double value)
        {
            if (!_constants.TryGetValue(value, out var constant)) _constants[value] = constant = b.Scalar(value);
            return constant;
        }

        public Value IsFirstStep => field ??= b.Op("Equal", [step, b.Constant(Tensor.Scalar(1L), "one")]);

        public Value SqrtBiasCorrection2 => field ??= ToFloat(b.Sqrt(BiasCorrection(options.Beta2)));

        public Value LearningRate(float scale) => scale == 1 ? learningRate : Cached(_learningRates, scale, () => ToFloat(GroupLearningRate(scale)));

        public Value StepSize(float scale) => Cached(_stepSizes, scale, () =>
            ToFloat(b.Div(GroupLearningRate(scale), _biasCorrection1 ??= BiasCorrection(options.Beta1))));

        public Value DecayFactor(float scale) => Cached(_decayFactors, scale, () =>
            ToFloat(b.Sub(Double(1), b.Mul(GroupLearningRate(scale), Double(options.WeightDecay)))));

        /// <summary>1 - beta^step.</summary>
        private Value BiasCorrection(double beta) =>
            b.Sub(Double(1), b.Op("Pow", [Double(beta), _step64 ??= b.Cast(step, DataType.Double)]));

        private Value GroupLearningRate(float scale) => Cached(_groupLearningRates, scale, () =>
        {
            _learningRate64 ??= b.Cast(learningRate, DataType.Double);
            return scale == 1 ? _learningRate64 : b.Mul(_learningRate64, Double(scale));
        });

        private Value Double(double value) => b.Scalar(value, DataType.Double);

        private Value ToFloat(Value value) => b.Cast(value, DataType.Float);

        private static Value Cached(Dictionary<float, Value> cache, float scale, Func<Value> create)
        {
            if (!cache.TryGetValue(scale, out var value)) cache[scale] = value = create();
            return value;
        }
    }
}
