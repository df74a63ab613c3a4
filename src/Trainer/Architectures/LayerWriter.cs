using OnnxTrainer.Inference;
using OnnxTrainer.Ir.Shapes;
using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Architectures;

/// <summary>
/// Emits the layers of a from-scratch classifier under torch's module names (<c>layer1.0.conv1.weight</c>),
/// initialized from one seeded generator the way torchvision initializes them, and BatchNormalization in
/// inference form, so the graph reads like a torchvision export and parameter counts agree.
/// </summary>
internal sealed class LayerWriter
{
    public const long Opset = 17;
    /// <summary>torch's BatchNorm2d defaults; ONNX's momentum is torch's complement (1 - 0.1).</summary>
    private const float BatchNormEpsilon = 1e-5f, OnnxBatchNormMomentum = 0.9f;

    private readonly Random _random;
    private Value? _relu6Min, _relu6Max;

    public LayerWriter(ArchitectureOptions options)
    {
        _random = new Random(options.Seed);
        Model.Opsets[""] = Opset;
        Input = Graph.AddInput(ClassifierContract.Input, new TensorType(DataType.Float,
            [Dim.Named(ClassifierContract.BatchDimension), options.InputChannels, options.InputSize, options.InputSize]));
    }

    public Model Model { get; } = new() { IrVersion = 8 };
    public Graph Graph => Model.Graph;
    public Value Input { get; }

    /// <summary>Convolution without bias, padded to keep the size at stride 1; weights kaiming-normal (fan_out, ReLU gain).</summary>
    public Value Conv(Value x, string module, long inChannels, long outChannels, long kernel, long stride = 1, long groups = 1)
    {
        long[] dims = [outChannels, inChannels / groups, kernel, kernel];
        var weight = Graph.AddInitializer($"{module}.weight", Normal(dims, Math.Sqrt(2.0 / (outChannels * kernel * kernel))));
        long pad = (kernel - 1) / 2;
        return Builder(module).Op("Conv", [x, weight],
            Attribute.Of("kernel_shape", [kernel, kernel]), Attribute.Of("strides", [stride, stride]),
            Attribute.Of("pads", [pad, pad, pad, pad]), Attribute.Of("group", groups));
    }

    /// <summary>BatchNormalization with torch's fresh state: weight 1, bias 0, running mean 0, running variance 1.</summary>
    public Value BatchNorm(Value x, string module, long channels)
    {
        Value Filled(string name, float value) => Graph.AddInitializer($"{module}.{name}", Tensor.FromFloats([channels], Enumerable.Repeat(value, (int)channels).ToArray()));
        var weight = Filled("weight", 1);
        var bias = Filled("bias", 0);
        var mean = Filled("running_mean", 0);
        var variance = Filled("running_var", 1);
        return Builder(module).Op("BatchNormalization", [x, weight, bias, mean, variance],
            Attribute.Of("epsilon", BatchNormEpsilon), Attribute.Of("momentum", OnnxBatchNormMomentum));
    }

    public Value Relu(Value x, string module) => Builder(module).Op("Relu", [x]);

    /// <summary>ReLU6 as Clip(0, 6); the two bounds are shared by every Clip of the graph.</summary>
    public Value Relu6(Value x, string module)
    {
        _relu6Min ??= Graph.AddInitializer("relu6.min", Tensor.Scalar(0f));
        _relu6Max ??= Graph.AddInitializer("relu6.max", Tensor.Scalar(6f));
        return Builder(module).Op("Clip", [x, _relu6Min, _relu6Max]);
    }

    public Value Add(Value a, Value b, string module) => Builder(module).Add(a, b);

    public Value MaxPool(Value x, string module, long kernel, long stride, long pad) =>
        Builder(module).Op("MaxPool", [x], Attribute.Of("kernel_shape", [kernel, kernel]), Attribute.Of("strides", [stride, stride]),
            Attribute.Of("pads", [pad, pad, pad, pad]));

    /// <summary>Global average pooling and flattening to [N, C], as torch's AdaptiveAvgPool2d(1) + flatten.</summary>
    public Value Pool(Value x, string module)
    {
        var b = Builder(module);
        return b.Op("Flatten", [b.Op("GlobalAveragePool", [x])], Attribute.Of("axis", 1L));
    }

    /// <summary>torch's nn.Linear default init: weight and bias uniform in +-1/sqrt(fan_in).</summary>
    public (Tensor Weight, Tensor Bias) DefaultLinearInit(long inFeatures, long outFeatures)
    {
        double bound = 1 / Math.Sqrt(inFeatures);
        return (Uniform([outFeatures, inFeatures], bound), Uniform([outFeatures], bound));
    }

    /// <summary>MobileNetV2's classifier init: weight normal(0, 0.01), bias 0.</summary>
    public (Tensor Weight, Tensor Bias) SmallNormalLinearInit(long inFeatures, long outFeatures) =>
        (Normal([outFeatures, inFeatures], 0.01), Tensor.FromFloats([outFeatures], new float[outFeatures]));

    /// <summary>The final nn.Linear (Gemm with the [out, in] weight, transB=1), producing the graph's only output <c>logits</c>.</summary>
    public void Classifier(Value features, string module, (Tensor Weight, Tensor Bias) init)
    {
        var weight = Graph.AddInitializer($"{module}.weight", init.Weight);
        var bias = Graph.AddInitializer($"{module}.bias", init.Bias);
        var logits = Graph.CreateValue(ClassifierContract.Logits);
        Graph.AddNodeWithOutputs("Gemm", [features, weight, bias], [logits], [Attribute.Of("transB", 1L)], $"{module}/Gemm");
        Graph.Outputs.Add(logits);
    }

    /// <summary>The finished model with every value typed (the symbolic batch dimension kept).</summary>
    public Model Finish(string description)
    {
        Model.DocString = description;
        ShapeInference.Run(Graph, Opset);
        return Model;
    }

    private GraphBuilder Builder(string module) => new(Graph, Opset, module);

    private Tensor Normal(long[] dims, double std)
    {
        var values = new float[Tensor.ElementCount(dims)];
        for (int i = 0; i < values.Length; i += 2)
        {
            // Box-Muller: two independent standard normals from two uniforms; 1 - U avoids log(0).
            double radius = Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble()));
            double angle = 2 * Math.PI * _random.NextDouble();
            values[i] = (float)(std * radius * Math.Cos(angle));
            if (i + 1 < values.Length) values[i + 1] = (float)(std * radius * Math.Sin(angle));
        }
        return Tensor.FromFloats(dims, values);
    }

    private Tensor Uniform(long[] dims, double bound)
    {
        var values = new float[Tensor.ElementCount(dims)];
        for (int i = 0; i < values.Length; i++) values[i] = (float)((_random.NextDouble() * 2 - 1) * bound);
        return Tensor.FromFloats(dims, values);
    }
}
