namespace OnnxTrainer.Ir.Upgrade;

/// <summary>
/// What the upgrader knows of each ai.onnx operator between opset 6 and 17, one line per operator: the versions at
/// which its form or meaning changed, each with the adapter that rewrites a node across that change. An operator
/// registered without adapters only gained types, attributes whose defaults keep the old meaning, or negative axes.
/// Operators not listed (those with subgraphs: If, Loop, Scan; sequences; the recurrent layers) are refused by name.
/// </summary>
internal static class OpsetAdapters
{
    private static readonly Dictionary<string, (long Version, OpsetAdapter Adapter)[]> Adapters = new(StringComparer.Ordinal);

    static OpsetAdapters()
    {
        Register("Add", At(7, LegacyBroadcast.Adapt));
        Register("Sub", At(7, LegacyBroadcast.Adapt));
        Register("Mul", At(7, LegacyBroadcast.Adapt));
        Register("Div", At(7, LegacyBroadcast.Adapt));
        Register("Pow", At(7, LegacyBroadcast.Adapt));
        Register("And", At(7, LegacyBroadcast.Adapt));
        Register("Or", At(7, LegacyBroadcast.Adapt));
        Register("Xor", At(7, LegacyBroadcast.Adapt));
        Register("Equal", At(7, LegacyBroadcast.Adapt));
        Register("Greater", At(7, LegacyBroadcast.Adapt));
        Register("Less", At(7, LegacyBroadcast.Adapt));
        Register("PRelu", At(7, LegacyBroadcast.PerChannelSlope));
        Register("Gemm", At(7, LegacyAttributes.DropGemmBroadcast));
        Register("BatchNormalization", At(7, LegacyAttributes.DropTestMode), At(9, BatchNormalizationAdapters.Spatial), At(14, BatchNormalizationAdapters.InferenceOutputs));
        Register("Dropout", At(7, LegacyAttributes.DropTestMode), At(10, DropoutAdapters.BoolMask), At(12, DropoutAdapters.RatioToInput));
        Register("Upsample", At(7, ResizeAdapters.ScalesPerAxis), At(9, ResizeAdapters.ScalesToInput), At(10, ResizeAdapters.UpsampleToResize));
        Register("Resize", At(11, ResizeAdapters.RoiAndCoordinates));
        Register("Slice", At(10, AttributesToInputs.Slice));
        Register("TopK", At(10, AttributesToInputs.TopK));
        Register("Clip", At(11, AttributesToInputs.Clip));
        Register("Pad", At(11, AttributesToInputs.Pad));
        Register("Scatter", At(11, LegacyAttributes.ScatterToScatterElements));
        Register("Softmax", At(13, SoftmaxAdapter.Adapt));
        Register("LogSoftmax", At(13, SoftmaxAdapter.Adapt));
        Register("Hardmax", At(13, SoftmaxAdapter.Adapt));
        Register("Squeeze", At(13, AttributesToInputs.Axes));
        Register("Unsqueeze", At(13, AttributesToInputs.Axes));
        Register("ReduceSum", At(13, AttributesToInputs.Axes));
        Register("Split", At(13, AttributesToInputs.Split));
        Register("RoiAlign", At(16, LegacyAttributes.RoiAlignOutputHalfPixel));

        Register("Abs");
        Register("Acos");
        Register("Acosh");
        Register("ArgMax"); // 12 added select_last_index (default 0, the old behaviour)
        Register("ArgMin"); // 12 added select_last_index (default 0, the old behaviour)
        Register("Asin");
        Register("Asinh");
        Register("Atan");
        Register("Atanh");
        Register("AveragePool"); // 7 added count_include_pad (default 0, the old behaviour), 10 ceil_mode (default 0)
        Register("Bernoulli");
        Register("BitShift");
        Register("BlackmanWindow");
        Register("Cast");
        Register("CastLike");
        Register("Ceil");
        Register("Celu");
        Register("Compress");
        Register("Concat"); // 11: negative axes
        Register("Constant");
        Register("ConstantOfShape");
        Register("Conv"); // 11 only clarified auto_pad
        Register("ConvInteger");
        Register("ConvTranspose");
        Register("Cos");
        Register("Cosh");
        Register("CumSum");
        Register("DFT");
        Register("DepthToSpace"); // 11 added mode (default DCR, the old behaviour)
        Register("DequantizeLinear");
        Register("Det");
        Register("DynamicQuantizeLinear");
        Register("Einsum");
        Register("Elu");
        Register("Erf");
        Register("Exp");
        Register("Expand");
        Register("EyeLike");
        Register("Flatten"); // 9, 11, 13: types and negative axes
        Register("Floor");
        Register("Gather"); // 11: negative indices
        Register("GatherElements");
        Register("GatherND");
        Register("GlobalAveragePool");
        Register("GlobalLpPool");
        Register("GlobalMaxPool");
        Register("GreaterOrEqual");
        Register("GridSample");
        Register("HammingWindow");
        Register("HannWindow");
        Register("HardSigmoid");
        Register("HardSwish");
        Register("Identity");
        Register("InstanceNormalization");
        Register("IsInf");
        Register("IsNaN");
        Register("LRN"); // 13 only widened types
        Register("LayerNormalization");
        Register("LeakyRelu");
        Register("LessOrEqual");
        Register("Log");
        Register("LpNormalization");
        Register("LpPool");
        Register("MatMul");
        Register("MatMulInteger");
        Register("Max"); // 8: multidirectional broadcasting, a superset of 6's equal shapes
        Register("MaxPool"); // 8 added storage_order (default row-major) and the optional Indices output, 10 ceil_mode and dilations (defaults: the old behaviour)
        Register("MaxRoiPool");
        Register("MaxUnpool");
        Register("Mean"); // 8: multidirectional broadcasting, a superset of 6's equal shapes
        Register("MeanVarianceNormalization");
        Register("MelWeightMatrix");
        Register("Min"); // 8: multidirectional broadcasting, a superset of 6's equal shapes
        Register("Mod");
        Register("Multinomial");
        Register("Neg");
        Register("NegativeLogLikelihoodLoss");
        Register("NonMaxSuppression");
        Register("NonZero");
        Register("Not");
        Register("OneHot");
        Register("QLinearConv");
        Register("QLinearMatMul");
        Register("QuantizeLinear");
        Register("RandomNormal");
        Register("RandomNormalLike");
        Register("RandomUniform");
        Register("RandomUniformLike");
        Register("Range");
        Register("Reciprocal");
        Register("ReduceL1");
        Register("ReduceL2");
        Register("ReduceLogSum");
        Register("ReduceLogSumExp");
        Register("ReduceMax");
        Register("ReduceMean");
        Register("ReduceMin");
        Register("ReduceProd");
        Register("ReduceSumSquare");
        Register("Relu");
        Register("Reshape"); // 14 added allowzero (default 0, the old behaviour)
        Register("ReverseSequence");
        Register("Round");
        Register("STFT");
        Register("ScatterElements");
        Register("ScatterND");
        Register("Selu");
        Register("Shape");
        Register("Shrink");
        Register("Sigmoid");
        Register("Sign");
        Register("Sin");
        Register("Sinh");
        Register("Size");
        Register("SoftmaxCrossEntropyLoss");
        Register("Softplus");
        Register("Softsign");
        Register("SpaceToDepth");
        Register("Sqrt");
        Register("StringNormalizer");
        Register("Sum"); // 8: multidirectional broadcasting, a superset of 6's equal shapes
        Register("Tan");
        Register("Tanh");
        Register("TfIdfVectorizer");
        Register("ThresholdedRelu");
        Register("Tile");
        Register("Transpose");
        Register("Trilu");
        Register("Unique");
        Register("Where");
    }

    private static (long, OpsetAdapter) At(long version, OpsetAdapter adapter) => (version, adapter);

    private static void Register(string opType, params (long Version, OpsetAdapter Adapter)[] changes) => Adapters.Add(opType, changes);

    public static bool Knows(string opType) => Adapters.ContainsKey(opType);

    /// <summary>The adapter that brings a node of <paramref name="opType"/> to <paramref name="version"/>; null when that version changed nothing for it.</summary>
    public static OpsetAdapter? Find(string opType, long version) =>
        Adapters.TryGetValue(opType, out var changes) ? changes.FirstOrDefault(c => c.Version == version).Adapter : null;
}
