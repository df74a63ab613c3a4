using OnnxTrainer.Autodiff.Rules;

namespace OnnxTrainer.Autodiff;

/// <summary>
/// Gradient rules by operator type, one line each. Operators whose outputs carry no gradient
/// (shapes, comparisons, constants) are registered on purpose as non-differentiable.
/// </summary>
public static class GradientRegistry
{
    private static readonly Dictionary<string, IGradientRule> Rules = new(StringComparer.Ordinal);
    private static readonly HashSet<string> NonDifferentiable = new(StringComparer.Ordinal);

    static GradientRegistry()
    {
        Register("Add", new AddGradient());
        Register("Sub", new SubGradient());
        Register("Mul", new MulGradient());
        Register("Div", new DivGradient());
        Register("MatMul", new MatMulGradient());
        Register("Gemm", new GemmGradient());
        Register("Relu", new ReluGradient());
        Register("LeakyRelu", new LeakyReluGradient());
        Register("Clip", new ClipGradient());
        Register("Sigmoid", new SigmoidGradient());
        Register("HardSigmoid", new HardSigmoidGradient());
        Register("HardSwish", new HardSwishGradient());
        Register("Tanh", new TanhGradient());
        Register("Erf", new ErfGradient());
        Register("Gelu", new GeluGradient());
        Register("Softmax", new SoftmaxGradient());
        Register("LogSoftmax", new LogSoftmaxGradient());
        Register("Pow", new PowGradient());
        Register("Neg", new NegGradient());
        Register("Sqrt", new SqrtGradient());
        Register("Exp", new ExpGradient());
        Register("Log", new LogGradient());
        Register("Reciprocal", new ReciprocalGradient());
        Register("Sum", new SumGradient());
        Register("ReduceSum", new ReduceGradient(mean: false));
        Register("ReduceMean", new ReduceGradient(mean: true));
        Register("MaxPool", new MaxPoolGradient());
        Register("AveragePool", new AveragePoolGradient());
        Register("GlobalAveragePool", new GlobalAveragePoolGradient());
        Register("GlobalMaxPool", new GlobalMaxPoolGradient());
        Register("Pad", new PadGradient());
        Register("BatchNormalization", new BatchNormalizationGradient());
        Register("LayerNormalization", new LayerNormalizationGradient());
        Register("LRN", new LrnGradient());
        Register("Identity", new IdentityGradient());
        Register("Reshape", new ReshapeLikeGradient());
        Register("Flatten", new ReshapeLikeGradient());
        Register("Squeeze", new ReshapeLikeGradient());
        Register("Unsqueeze", new ReshapeLikeGradient());
        Register("Expand", new ExpandGradient());
        Register("Transpose", new TransposeGradient());
        Register("Concat", new ConcatGradient());
        Register("Split", new SplitGradient());
        Register("Slice", new SliceGradient());
        Register("Gather", new GatherGradient());
        Register("Where", new WhereGradient());
        Register("Dropout", new DropoutGradient());
        Register("Cast", new CastGradient());
        Register("Conv", new ConvGradient());

        NotDifferentiable("Shape");
        NotDifferentiable("Size");
        NotDifferentiable("Constant");
        NotDifferentiable("ConstantOfShape");
        NotDifferentiable("Equal");
        NotDifferentiable("Greater");
        NotDifferentiable("GreaterOrEqual");
        NotDifferentiable("Less");
        NotDifferentiable("LessOrEqual");
        NotDifferentiable("Not");
        NotDifferentiable("And");
        NotDifferentiable("Or");
        NotDifferentiable("Range");
        NotDifferentiable("OneHot");
        NotDifferentiable("ArgMax");
        NotDifferentiable("ArgMin");
        NotDifferentiable("Floor");
        NotDifferentiable("Ceil");
        NotDifferentiable("Round");
        NotDifferentiable("Sign");
    }

    private static void Register(string opType, IGradientRule rule) => Rules.Add(opType, rule);

    private static void NotDifferentiable(string opType) => NonDifferentiable.Add(opType);

    public static bool TryGet(string opType, out IGradientRule rule) => Rules.TryGetValue(opType, out rule!);

    /// <summary>True for operators whose outputs never carry a gradient back to their inputs.</summary>
    public static bool IsNonDifferentiable(string opType) => NonDifferentiable.Contains(opType);

    public static IEnumerable<string> SupportedOps => Rules.Keys.Order(StringComparer.Ordinal);
}
