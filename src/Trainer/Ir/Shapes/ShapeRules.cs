using System.Collections.Frozen;

namespace OnnxTrainer.Ir.Shapes;

/// <summary>The shape rule of every supported ai.onnx operator, one line each.</summary>
internal static class ShapeRules
{
    private static readonly FrozenDictionary<string, IShapeRule> Rules = Build();

    public static IReadOnlyCollection<string> Supported => Rules.Keys;

    public static IShapeRule Find(Node node)
    {
        if (node.Domain is "" or "ai.onnx" && Rules.TryGetValue(node.OpType, out var rule)) return rule;
        string op = node.Domain is "" or "ai.onnx" ? node.OpType : $"{node.Domain}.{node.OpType}";
        throw new GraphException($"no shape rule for op '{op}' at node '{node.Name}'; supported: {string.Join(", ", Rules.Keys.Order(StringComparer.Ordinal))}");
    }

    private static FrozenDictionary<string, IShapeRule> Build()
    {
        var rules = new Dictionary<string, IShapeRule>(StringComparer.Ordinal);
        void Register(string op, IShapeRule rule) => rules.Add(op, rule);

        // Same shape and type as input 0.
        Register("Relu", new UnaryRule());
        Register("LeakyRelu", new UnaryRule());
        Register("PRelu", new UnaryRule());
        Register("Elu", new UnaryRule());
        Register("Selu", new UnaryRule());
        Register("Clip", new UnaryRule());
        Register("Sigmoid", new UnaryRule());
        Register("HardSigmoid", new UnaryRule());
        Register("HardSwish", new UnaryRule());
        Register("Softplus", new UnaryRule());
        Register("LRN", new UnaryRule());
        Register("Tanh", new UnaryRule());
        Register("Erf", new UnaryRule());
        Register("Gelu", new UnaryRule());
        Register("Softmax", new UnaryRule());
        Register("LogSoftmax", new UnaryRule());
        Register("Sqrt", new UnaryRule());
        Register("Exp", new UnaryRule());
        Register("Log", new UnaryRule());
        Register("Neg", new UnaryRule(x => -x));
        Register("Abs", new UnaryRule(x => x < 0 ? -x : x));
        Register("Reciprocal", new UnaryRule());
        Register("Floor", new UnaryRule());
        Register("Ceil", new UnaryRule());
        Register("Round", new UnaryRule());
        Register("Sign", new UnaryRule());
        Register("Sin", new UnaryRule());
        Register("Cos", new UnaryRule());
        Register("Not", new UnaryRule());
        Register("Identity", new IdentityRule());
        Register("Cast", new CastRule());

        // Multidirectional broadcasting.
        Register("Add", new BroadcastRule(BroadcastRule.Add));
        Register("Sub", new BroadcastRule(BroadcastRule.Sub));
        Register("Mul", new BroadcastRule(BroadcastRule.Mul));
        Register("Div", new BroadcastRule(BroadcastRule.Div));
        Register("Pow", new BroadcastRule());
        Register("Mod", new BroadcastRule());
        Register("Min", new BroadcastRule(Math.Min));
        Register("Max", new BroadcastRule(Math.Max));
        Register("Sum", new BroadcastRule());
        Register("Mean", new BroadcastRule());
        Register("Equal", new BroadcastRule((a, b) => a == b ? 1 : 0, DataType.Bool));
        Register("Greater", new BroadcastRule((a, b) => a > b ? 1 : 0, DataType.Bool));
        Register("GreaterOrEqual", new BroadcastRule((a, b) => a >= b ? 1 : 0, DataType.Bool));
        Register("Less", new BroadcastRule((a, b) => a < b ? 1 : 0, DataType.Bool));
        Register("LessOrEqual", new BroadcastRule((a, b) => a <= b ? 1 : 0, DataType.Bool));
        Register("And", new BroadcastRule((a, b) => a & b, DataType.Bool));
        Register("Or", new BroadcastRule((a, b) => a | b, DataType.Bool));
        Register("Xor", new BroadcastRule((a, b) => a ^ b, DataType.Bool));
        Register("Where", new WhereRule());
        Register("Expand", new ExpandRule());

        // Convolution, pooling and normalization.
        Register("Conv", new ConvRule());
        Register("ConvTranspose", new ConvTransposeRule());
        Register("MaxPool", new PoolRule());
        Register("AveragePool", new PoolRule());
        Register("GlobalAveragePool", new GlobalPoolRule());
        Register("GlobalMaxPool", new GlobalPoolRule());
        Register("BatchNormalization", new BatchNormalizationRule());
        Register("LayerNormalization", new LayerNormalizationRule());
        Register("Dropout", new DropoutRule());

        // Linear algebra and reductions.
        Register("MatMul", new MatMulRule());
        Register("Gemm", new GemmRule());
        Register("ReduceMean", new ReduceRule());
        Register("ReduceSum", new ReduceRule());
        Register("ReduceMax", new ReduceRule());
        Register("ReduceMin", new ReduceRule());
        Register("ReduceProd", new ReduceRule());
        Register("ReduceL1", new ReduceRule());
        Register("ReduceL2", new ReduceRule());
        Register("ReduceSumSquare", new ReduceRule());
        Register("ReduceLogSumExp", new ReduceRule());

        // Layout.
        Register("Flatten", new FlattenRule());
        Register("Reshape", new ReshapeRule());
        Register("Transpose", new TransposeRule());
        Register("Squeeze", new SqueezeRule());
        Register("Unsqueeze", new UnsqueezeRule());
        Register("Concat", new ConcatRule());
        Register("Split", new SplitRule());
        Register("Slice", new SliceRule());
        Register("Gather", new GatherRule());
        Register("Pad", new PadRule());
        Register("Tile", new TileRule());
        Register("Resize", new ResizeRule());
        Register("SpaceToDepth", new BlockRearrangeRule(toDepth: true));
        Register("DepthToSpace", new BlockRearrangeRule(toDepth: false));
        Register("ScatterElements", new UnaryRule()); // the data input's shape and type

        // Shape computations and constants.
        Register("Shape", new ShapeOfRule());
        Register("Size", new SizeRule());
        Register("Constant", new ConstantRule());
        Register("ConstantOfShape", new ConstantOfShapeRule());
        Register("Range", new RangeRule());

        // Losses and label encodings used by training graphs.
        Register("SoftmaxCrossEntropyLoss", new LossRule());
        Register("NegativeLogLikelihoodLoss", new LossRule());
        Register("OneHot", new OneHotRule());
        return rules.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
