using OnnxTrainer.Artifacts;
using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Shapes;
using OnnxTrainer.Onnx;
using OnnxTrainer.Tests.Fixtures;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Artifacts;

public class ConvBatchStackingTests
{
    private const long C = 3, M = 4;

    [Theory]
    [InlineData(7L, 7L, 3L, 3L, new long[] { 1, 1 }, new long[] { 1, 1, 1, 1 }, 1L, true)] // ResNet's 7x7 layers
    [InlineData(6L, 5L, 3L, 3L, new long[] { 1, 1 }, new long[] { 2, 2, 2, 2 }, 2L, false)] // dilation 2
    [InlineData(5L, 5L, 3L, 3L, new long[] { 1, 1 }, new long[] { 0, 1, 2, 1 }, 1L, true)] // height padded after only
    [InlineData(5L, 5L, 3L, 3L, new long[] { 1, 1 }, new long[] { 2, 1, 0, 1 }, 1L, false)] // height padded before only
    [InlineData(6L, 7L, 3L, 3L, new long[] { 1, 2 }, new long[] { 1, 1, 1, 1 }, 1L, true)] // strided along the width
    [InlineData(5L, 5L, 3L, 3L, new long[] { 1, 1 }, new long[] { 0, 0, 0, 0 }, 1L, false)] // no pads: rows cut off
    [InlineData(1L, 1L, 3L, 3L, new long[] { 1, 1 }, new long[] { 1, 1, 1, 1 }, 1L, true)] // one pixel
    [InlineData(4L, 6L, 3L, 1L, new long[] { 1, 1 }, new long[] { 1, 0, 1, 0 }, 1L, false)] // 3x1 kernel
    [InlineData(14L, 14L, 3L, 3L, new long[] { 1, 1 }, new long[] { 1, 1, 1, 1 }, 1L, true, 256L, 256L)] // 14x14, wide
    [InlineData(14L, 14L, 3L, 3L, new long[] { 2, 2 }, new long[] { 1, 1, 1, 1 }, 1L, false)] // ResNet's strided Conv onto 7x7
    [InlineData(7L, 6L, 3L, 3L, new long[] { 2, 1 }, new long[] { 1, 1, 1, 1 }, 1L, true)] // strided, odd height: gap rounded up
    [InlineData(11L, 5L, 3L, 3L, new long[] { 3, 1 }, new long[] { 0, 1, 0, 1 }, 1L, false)] // stride 3 without pads
    [InlineData(9L, 9L, 3L, 3L, new long[] { 2, 2 }, new long[] { 2, 2, 2, 2 }, 2L, true)] // strided and dilated
    public void Apply_SmallConv_SameOutputsAtTwoBatchSizes(long h, long w, long kh, long kw, long[] strides, long[] pads, long dilation, bool bias,
        long channels = C, long outChannels = M)
    {
        // Arrange: a Conv over a symbolic batch whose weight is a graph input, as in a training graph.
        var model = ConvModel("Conv", h, w, kh, kw, bias, [Attribute.Of("strides", strides), Attribute.Of("pads", pads),
            Attribute.Of("dilations", new[] { dilation, dilation })], channels: channels, outChannels: outChannels);

        // Act and assert
        AssertStackedWithSameOutputs(model, "Conv", [channels, h, w], [outChannels, channels, kh, kw], bias ? outChannels : 0);
    }

    [Theory]
    [InlineData(4L, 4L, new long[] { 2, 2 }, new long[] { 1, 1, 1, 1 }, new long[] { 1, 1 }, 1L)] // ResNet's strided dX: 4x4 -> 8x8
    [InlineData(7L, 7L, new long[] { 2, 2 }, new long[] { 1, 1, 1, 1 }, new long[] { 1, 1 }, 1L)] // 7x7 -> 14x14
    [InlineData(5L, 6L, new long[] { 1, 1 }, new long[] { 1, 1, 1, 1 }, new long[] { 0, 0 }, 1L)] // stride 1
    [InlineData(3L, 4L, new long[] { 2, 1 }, new long[] { 0, 1, 0, 1 }, new long[] { 0, 0 }, 1L)] // no height pads: 3 -> 7
    [InlineData(4L, 3L, new long[] { 3, 2 }, new long[] { 2, 0, 1, 0 }, new long[] { 2, 1 }, 2L)] // stride 3, dilated, uneven pads
    [InlineData(5L, 4L, new long[] { 1, 1 }, new long[] { 0, 1, 2, 1 }, new long[] { 0, 0 }, 1L)] // cropped below only: the gap keeps the scatter apart
    public void Apply_SmallConvTranspose_SameOutputsAtTwoBatchSizes(long h, long w, long[] strides, long[] pads, long[] outputPadding, long dilation)
    {
        var model = ConvModel("ConvTranspose", h, w, 3, 3, bias: true, [Attribute.Of("strides", strides), Attribute.Of("pads", pads),
            Attribute.Of("output_padding", outputPadding), Attribute.Of("dilations", new[] { dilation, dilation })]);

        AssertStackedWithSameOutputs(model, "ConvTranspose", [C, h, w], [C, M, 3, 3], M);
    }

    /// <summary>Runs the model at two batch sizes, stacks its one convolution, and runs it again: the same outputs.</summary>
    private static void AssertStackedWithSameOutputs(Model model, string op, long[] inputDims, long[] weightDims, long biasLength)
    {
        var before = RunAtBatchSizes(model, inputDims, weightDims, biasLength);

        int stacked = ConvBatchStacking.Apply(model.Graph, 17);

        Assert.Equal(1, stacked);
        var conv = Assert.Single(model.Graph.Nodes, n => n.OpType == op);
        Assert.Equal("Reshape", conv.Input(0)!.Producer?.OpType);
        var after = RunAtBatchSizes(model, inputDims, weightDims, biasLength);
        Assert.Equal(before.Count, after.Count);
        for (int r = 0; r < before.Count; r++)
        {
            Assert.Equal(before[r].Shape, after[r].Shape);
            for (int i = 0; i < before[r].Data.Length; i++)
                Assert.Equal(before[r].Data[i], after[r].Data[i], 1e-5 * (1 + Math.Abs(before[r].Data[i])));
        }
    }

    [Theory]
    [InlineData("constant weight")]
    [InlineData("grouped")]
    [InlineData("ConvTranspose over 8x8 inputs")]
    [InlineData("pointwise")]
    [InlineData("64 output positions")]
    [InlineData("14x14 over 128 channels")]
    [InlineData("auto_pad")]
    [InlineData("most rows cut off")]
    public void Apply_NotApplicable_GraphUntouched(string situation)
    {
        long size = situation switch { "64 output positions" or "ConvTranspose over 8x8 inputs" => 8, "most rows cut off" => 9, "14x14 over 128 channels" => 14, _ => 7 };
        long channels = situation == "14x14 over 128 channels" ? 128 : C;
        long k = situation switch { "pointwise" => 1, "most rows cut off" => 7, _ => 3 };
        List<Attribute> attributes = situation switch
        {
            "grouped" => [Attribute.Of("group", C), Attribute.Of("pads", new long[] { 1, 1, 1, 1 })],
            "ConvTranspose over 8x8 inputs" => [Attribute.Of("strides", new long[] { 2, 2 }), Attribute.Of("pads", new long[] { 1, 1, 1, 1 })],
            "auto_pad" => [Attribute.Of("auto_pad", "SAME_UPPER")],
            "pointwise" or "most rows cut off" => [],
            _ => [Attribute.Of("pads", new long[] { 1, 1, 1, 1 })],
        };
        string op = situation == "ConvTranspose over 8x8 inputs" ? "ConvTranspose" : "Conv";
        var model = ConvModel(op, size, size, k, k, bias: false, attributes, constantWeight: situation == "constant weight",
            weightChannels: situation == "grouped" ? 1 : null, channels: channels, outChannels: channels == C ? M : channels);
        var conv = Assert.Single(model.Graph.Nodes, n => n.OpType == op);

        Assert.Equal(0, ConvBatchStacking.Apply(model.Graph, 17));
        Assert.Same(conv, Assert.Single(model.Graph.Nodes));
    }

    [Fact]
    public void TrainingGraph_SmallResNet_StacksItsConvsBelow8x8()
    {
        // resnet_small at 64 px: layer3 runs at 4x4 and layer4 at 2x2, forward and dX, strided ones included; layer2's 8x8
        // stays per image. WholeModelGradientTests checks
        // this same training graph's gradients against PyTorch.
        var forward = ModelReader.Load(GeneratedFixtures.ModelPath("resnet_small"));
        var training = TrainingGraph.BuildTraining(forward, [.. Parameters.Of(forward.Graph).Select(p => p.Name)], new LossOptions());

        var stacked = training.Graph.Nodes.Where(n => n.OpType is "Conv" or "ConvTranspose" && n.Input(0)!.Producer?.OpType == "Reshape").ToList();
        Assert.Contains(stacked, n => n.Name.StartsWith("/layer4/", StringComparison.Ordinal) && !n.Name.Contains("_grad"));
        Assert.Contains(stacked, n => n.Name.StartsWith("/layer3/", StringComparison.Ordinal) && n.Name.Contains("_grad"));
        Assert.Contains(stacked, n => n.OpType == "ConvTranspose"); // the strided dX from 4x4 and 2x2
        Assert.DoesNotContain(stacked, n => n.Name.StartsWith("/layer2/", StringComparison.Ordinal));
    }

    /// <summary>One Conv or ConvTranspose over a symbolic batch; its weight is a graph input unless constant.</summary>
    private static Model ConvModel(string op, long h, long w, long kh, long kw, bool bias, IEnumerable<Attribute> attributes,
        bool constantWeight = false, long? weightChannels = null, long channels = C, long outChannels = M)
    {
        var model = new Model();
        model.Opsets[""] = 17;
        var graph = model.Graph;
        var x = graph.AddInput("x", new TensorType(DataType.Float, [Dim.Named("N"), Dim.Known(channels), Dim.Known(h), Dim.Known(w)]));
        long[] weightShape = op == "Conv" ? [outChannels, weightChannels ?? channels, kh, kw] : [channels, outChannels, kh, kw];
        var weight = constantWeight
            ? graph.AddInitializer("w", Tensor.FromFloats(weightShape, new float[Tensor.ElementCount(weightShape)]))
            : graph.AddInput("w", TensorType.Of(DataType.Float, weightShape));
        var b = bias ? graph.AddInput("b", TensorType.Of(DataType.Float, outChannels)) : null;
        var y = new GraphBuilder(graph, 17, "t").Op(op, [x, weight, b], [.. attributes]);
        graph.Outputs.Add(y);
        ShapeInference.Run(graph, 17);
        return model;
    }

    private static List<(double[] Data, long[] Shape)> RunAtBatchSizes(Model model, long[] inputDims, long[] weightDims, long biasLength)
    {
        using var runner = new OrtRunner(model);
        var random = new Random(5);
        double[] Random(long count) => [.. Enumerable.Range(0, (int)count).Select(_ => random.NextDouble() * 2 - 1)];
        var results = new List<(double[] Data, long[] Shape)>();
        foreach (long n in new long[] { 3, 1 })
        {
            long[] input = [n, .. inputDims];
            var feeds = new Dictionary<string, (DataType, long[], double[])>
            {
                ["x"] = (DataType.Float, input, Random(Tensor.ElementCount(input))),
                ["w"] = (DataType.Float, weightDims, Random(Tensor.ElementCount(weightDims))),
            };
            if (biasLength > 0) feeds["b"] = (DataType.Float, [biasLength], Random(biasLength));
            results.AddRange(runner.Run(feeds));
        }
        return results;
    }
}
