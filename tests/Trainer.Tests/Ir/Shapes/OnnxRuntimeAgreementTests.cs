using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Shapes;
using OnnxTrainer.Onnx;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;
using Tensor = OnnxTrainer.Ir.Tensor;

namespace OnnxTrainer.Tests.Ir.Shapes;

/// <summary>Our inferred shapes against the shapes ONNX Runtime actually produces.</summary>
public sealed class OnnxRuntimeAgreementTests
{
    private const long Opset = 17;
    private const int Batch = 2;

    /// <summary>conv-bn-relu-pool-flatten-gemm over a symbolic batch, with every intermediate exposed.</summary>
    private static ShapeTestGraph ConvNet()
    {
        var g = new ShapeTestGraph(Opset);
        var x = g.Input("x", "N", 3, 13, 13);
        var conv = g.Add("Conv", [x, g.Weight("w", 8, 3, 3, 3), g.Weight("b", 8)],
            Attribute.Of("strides", [2L, 2L]), Attribute.Of("pads", [1L, 1L, 1L, 1L]));
        var bn = g.Add("BatchNormalization", [conv.Output(), Ones(g, "scale", 8), g.Weight("bias", 8), g.Weight("mean", 8), Ones(g, "var", 8)]);
        var relu = g.Add("Relu", [bn.Output()]);
        // ceil_mode with padding: the last window would start in the end padding and is dropped.
        var pool = g.Add("MaxPool", [relu.Output()], Attribute.Of("kernel_shape", [2L, 2L]), Attribute.Of("strides", [2L, 2L]),
            Attribute.Of("pads", [1L, 1L, 1L, 1L]), Attribute.Of("ceil_mode", 1L));
        var avg = g.Add("AveragePool", [pool.Output()], Attribute.Of("kernel_shape", [3L, 3L]), Attribute.Of("auto_pad", "SAME_UPPER"));
        var gap = g.Add("GlobalAveragePool", [avg.Output()]);
        var flat = g.Add("Flatten", [gap.Output()]);
        g.Add("Gemm", [flat.Output(), g.Weight("fc", 10, 8), g.Weight("fc_b", 10)], Attribute.Of("transB", 1L));
        return g;
    }

    /// <summary>The exporter pattern x.view(x.size(0), x.size(1), -1) built from shape arithmetic.</summary>
    private static ShapeTestGraph ReshapeChain()
    {
        var g = new ShapeTestGraph(Opset);
        var x = g.Input("x", "N", 4, 3, 5);
        var shape = g.Add("Shape", [x]);
        var batch = g.Add("Gather", [shape.Output(), g.Graph.AddInitializer("zero", Tensor.Scalar(0L))]);
        var channels = g.Add("Gather", [shape.Output(), g.Graph.AddInitializer("one", Tensor.Scalar(1L))]);
        var b1 = g.Add("Unsqueeze", [batch.Output(), g.Ints("axes0", 0)]);
        var c1 = g.Add("Unsqueeze", [channels.Output(), g.Ints("axes1", 0)]);
        var target = g.Add("Concat", [b1.Output(), c1.Output(), g.Ints("rest", -1)], Attribute.Of("axis", 0L));
        var reshape = g.Add("Reshape", [x, target.Output()]);
        g.Add("Relu", [reshape.Output()]);
        return g;
    }

    public static TheoryData<string> Graphs() => ["convnet", "reshape-chain"];

    private static ShapeTestGraph Build(string name) => name == "convnet" ? ConvNet() : ReshapeChain();

    [Theory]
    [MemberData(nameof(Graphs))]
    public void ShapeInference_SmallGraph_MatchesOnnxRuntimeShapes(string name)
    {
        var g = Build(name);
        g.Run();
        var actual = RunOrt(g.Graph);

        foreach (var output in g.Graph.Outputs)
        {
            var inferred = output.Type!.Shape!.Select(d => d.Symbol == "N" ? Batch : d.Value ?? -1).ToArray();
            Assert.True(output.Type.Shape!.All(d => d.IsKnown || d.Symbol == "N"), $"{output.Name} has an unresolved shape {output.Type}");
            Assert.Equal(actual[output.Name].Dims, inferred);
        }
    }

    [Fact]
    public void ShapeFolding_ReshapeChain_FoldsConstantPartAndOrtResultIsUnchanged()
    {
        var g = ReshapeChain();
        g.Run();
        var before = RunOrt(g.Graph);
        var output = g.Graph.Outputs[^1];
        g.Graph.Outputs.RemoveRange(0, g.Graph.Outputs.Count - 1);
        g.Graph.RemoveDeadNodes();

        int folded = ShapeFolding.Run(g.Graph, Opset);

        // Gather(1) and its Unsqueeze fold; the batch size stays a runtime computation.
        Assert.Equal(2, folded);
        Assert.Equal(["Shape", "Gather", "Unsqueeze", "Concat", "Reshape", "Relu"], g.Graph.TopologicalOrder().Select(n => n.OpType));
        var concat = g.Graph.Nodes.Single(n => n.OpType == "Concat");
        Assert.Equal([4L], concat.Inputs[1]!.Initializer!.ToInt64s());
        var after = RunOrt(g.Graph);
        Assert.Equal(before[output.Name].Dims, after[output.Name].Dims);
        Assert.Equal(before[output.Name].Values, after[output.Name].Values);
    }

    [Fact]
    public void ShapeFolding_FixedBatchChain_RemovesWholeChainAndOrtResultIsUnchanged()
    {
        var g = new ShapeTestGraph(Opset);
        var x = g.Input("x", Batch, 4, 3, 5);
        var shape = g.Add("Shape", [x]);
        var dims = g.Add("Slice", [shape.Output(), g.Ints("start", 0), g.Ints("end", 2)]);
        var target = g.Add("Concat", [dims.Output(), g.Ints("rest", -1)], Attribute.Of("axis", 0L));
        var reshape = g.Add("Reshape", [x, target.Output()]);
        g.Graph.Outputs.Add(reshape.Output());
        var before = RunOrt(g.Graph);

        int folded = ShapeFolding.Run(g.Graph, Opset);

        Assert.Equal(3, folded);
        Assert.Equal(["Reshape"], g.Graph.Nodes.Select(n => n.OpType));
        Assert.Equal([2L, 4, -1], reshape.Inputs[1]!.Initializer!.ToInt64s());
        var after = RunOrt(g.Graph);
        Assert.Equal(before[reshape.Output().Name].Dims, after[reshape.Output().Name].Dims);
        Assert.Equal(before[reshape.Output().Name].Values, after[reshape.Output().Name].Values);
    }

    private static Value Ones(ShapeTestGraph g, string name, int size) =>
        g.Graph.AddInitializer(name, Tensor.FromFloats([size], Enumerable.Repeat(1f, size).ToArray()));

    private sealed record OrtOutput(long[] Dims, double[] Values);

    /// <summary>Runs the graph in ONNX Runtime on seeded random input with batch size <see cref="Batch"/>.</summary>
    private static Dictionary<string, OrtOutput> RunOrt(Graph graph)
    {
        var model = new Model { Graph = graph };
        model.Opsets[""] = Opset;
        using var session = new InferenceSession(ModelWriter.ToBytes(model));
        var random = new Random(7);
        var inputs = graph.Inputs.Select(input =>
        {
            var dims = input.Type!.Shape!.Select(d => (int)(d.Value ?? Batch)).ToArray();
            var tensor = new DenseTensor<float>(dims);
            for (int i = 0; i < tensor.Length; i++) tensor.SetValue(i, (float)random.NextDouble());
            return NamedOnnxValue.CreateFromTensor(input.Name, tensor);
        }).ToList();
        using var results = session.Run(inputs);
        return results.ToDictionary(r => r.Name, r => r.Value switch
        {
            Tensor<float> f => new OrtOutput([.. f.Dimensions.ToArray().Select(d => (long)d)], [.. f.Select(v => (double)v)]),
            Tensor<long> l => new OrtOutput([.. l.Dimensions.ToArray().Select(d => (long)d)], [.. l.Select(v => (double)v)]),
            _ => throw new InvalidOperationException($"unexpected output type of {r.Name}"),
        });
    }
}
