using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Surgery;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Ir;

public class GraphSurgeryTests
{
    /// <summary>stem conv -> relu -> residual block (conv, add, relu) -> global pool -> flatten -> linear.</summary>
    private static (Graph Graph, Dictionary<string, Value> Named) SmallResNet(bool matmulHead = false)
    {
        var graph = new Graph();
        var b = new GraphBuilder(graph, 17, "net");
        var x = graph.AddInput("input", new TensorType(DataType.Float, [Dim.Named("N"), 3, 8, 8]));
        Value Weight(string name, params long[] dims) => graph.AddInitializer(name, Tensor.FromFloats(dims, new float[Tensor.ElementCount(dims)]));
        var stem = b.Op("Conv", [x, Weight("stem.weight", 4, 3, 3, 3)], Attribute.Of("pads", new long[] { 1, 1, 1, 1 }));
        var stemRelu = b.Op("Relu", [stem]);
        var branch = b.Op("Conv", [stemRelu, Weight("block.weight", 4, 4, 3, 3)], Attribute.Of("pads", new long[] { 1, 1, 1, 1 }));
        var sum = b.Add(branch, stemRelu);
        var blockOut = b.Op("Relu", [sum]);
        var pooled = b.Op("GlobalAveragePool", [blockOut]);
        var flat = b.Op("Flatten", [pooled]);
        Value logits = matmulHead
            ? b.Add(b.MatMul(flat, Weight("fc.weight", 4, 10)), Weight("fc.bias", 10))
            : b.Op("Gemm", [flat, Weight("fc.weight", 10, 4), Weight("fc.bias", 10)], Attribute.Of("transB", 1L));
        graph.Outputs.Add(logits);
        foreach (var v in new[] { stem, stemRelu, branch, sum, blockOut, pooled })
            v.Type = new TensorType(DataType.Float, v == pooled ? [Dim.Named("N"), 4, 1, 1] : [Dim.Named("N"), 4, 8, 8]);
        flat.Type = new TensorType(DataType.Float, [Dim.Named("N"), 4]);
        logits.Type = new TensorType(DataType.Float, [Dim.Named("N"), 10]);
        return (graph, new() { ["stemRelu"] = stemRelu, ["branch"] = branch, ["blockOut"] = blockOut, ["flat"] = flat, ["logits"] = logits, ["stem"] = stem, ["pooled"] = pooled });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ClassifierHead_LinearAtEnd_FoundWithItsFeatures(bool matmulHead)
    {
        var (graph, named) = SmallResNet(matmulHead);
        var head = ClassifierHead.Find(graph);
        Assert.NotNull(head);
        Assert.Same(named["flat"], head.Features);
        Assert.Equal(10, head.Classes);
        Assert.Equal(matmulHead ? ["MatMul", "Add"] : ["Gemm"], head.Nodes.Select(n => n.OpType));
    }

    [Fact]
    public void CutPoints_ResidualBlock_InsideOfBlockExcluded()
    {
        var (graph, named) = SmallResNet();
        var points = CutPoint.Find(graph).Select(p => p.Value).ToList();
        Assert.Contains(named["stemRelu"], points);
        Assert.Contains(named["blockOut"], points);
        Assert.Contains(named["pooled"], points);
        // The block's branch runs beside the skip connection: cutting there would lose data.
        Assert.DoesNotContain(named["branch"], points);
        Assert.DoesNotContain(named["logits"], points);
    }

    [Fact]
    public void RemoveHead_DropsLinearAndItsWeights()
    {
        var (graph, named) = SmallResNet();
        var head = GraphCut.RemoveHead(graph);
        Assert.Same(named["flat"], head?.Features);
        Assert.Equal([named["flat"]], graph.Outputs);
        Assert.DoesNotContain(graph.Nodes, n => n.OpType == "Gemm");
        Assert.False(graph.Contains("fc.weight"));
    }

    [Fact]
    public void CutAtName_KeepsPrefixOnly()
    {
        var (graph, _) = SmallResNet();
        var stemName = graph.Nodes.First(n => n.OpType == "Relu").Output().Name;
        GraphCut.At(graph, stemName);
        Assert.Equal(["Conv", "Relu"], graph.TopologicalOrder().Select(n => n.OpType));
        Assert.False(graph.Contains("block.weight"));
    }

    [Fact]
    public void CutAtName_Unknown_ErrorListsCutPoints()
    {
        var (graph, _) = SmallResNet();
        var error = Assert.Throws<GraphException>(() => GraphCut.At(graph, "nope"));
        Assert.Contains("nope", error.Message);
        Assert.Contains("cut points", error.Message);
    }

    /// <summary>SqueezeNet's classifier on a 4-channel 8x8 map: Dropout -> Conv 1x1 (10 classes) -> [Relu] -> pooling -> flattening [-> Softmax].</summary>
    private static (Graph Graph, Value Features) ConvClassifier(string pool, string flatten, bool relu = true, bool softmax = false)
    {
        var graph = new Graph();
        var b = new GraphBuilder(graph, 17, "net");
        var x = graph.AddInput("input", new TensorType(DataType.Float, [Dim.Named("N"), 3, 8, 8]));
        Value Weight(string name, params long[] dims) => graph.AddInitializer(name, Tensor.FromFloats(dims, new float[Tensor.ElementCount(dims)]));
        var features = b.Op("Relu", [b.Op("Conv", [x, Weight("stem.weight", 4, 3, 3, 3)], Attribute.Of("pads", new long[] { 1, 1, 1, 1 }))]);
        var scores = b.Op("Conv", [b.Op("Dropout", [features]), Weight("classifier.weight", 10, 4, 1, 1), Weight("classifier.bias", 10)]);
        if (relu) scores = b.Op("Relu", [scores]);
        var pooled = pool == "AveragePool" ? b.Op(pool, [scores], Attribute.Of("kernel_shape", new long[] { 8, 8 })) : b.Op(pool, [scores]);
        var logits = flatten == "Squeeze" ? b.Squeeze(pooled, 2, 3) : b.Op("Flatten", [pooled]);
        if (softmax) logits = b.Op("Softmax", [logits]);
        graph.Outputs.Add(logits);
        OnnxTrainer.Ir.Shapes.ShapeInference.Run(graph, 17);
        return (graph, features);
    }

    [Theory]
    [InlineData("GlobalAveragePool", "Flatten", true, false)]
    [InlineData("AveragePool", "Squeeze", false, true)]
    public void RemoveHead_ConvolutionalClassifier_CutsAtTheFeaturesItReads(string pool, string flatten, bool relu, bool softmax)
    {
        var (graph, features) = ConvClassifier(pool, flatten, relu, softmax);

        var head = GraphCut.RemoveHead(graph);

        Assert.NotNull(head);
        Assert.Equal(10, head.Classes);
        Assert.Same(features, head.Features);
        Assert.Equal("Dropout", head.Nodes[0].OpType);
        Assert.Equal([features], graph.Outputs);
        Assert.False(graph.Contains("classifier.weight"));
        Assert.DoesNotContain(graph.Nodes, n => n.OpType is "Dropout" or "GlobalAveragePool" or "AveragePool");
    }

    [Fact]
    public void ClassifierHead_ConvolutionWithoutGlobalPooling_NotAClassifier()
    {
        var (graph, _) = ConvClassifier("AveragePool", "Flatten");
        var pool = graph.Nodes.Single(n => n.OpType == "AveragePool");
        pool.Attributes["kernel_shape"] = Attribute.Of("kernel_shape", new long[] { 2, 2 });
        foreach (var v in graph.Values.Where(v => v.Producer is not null)) v.Type = null;
        OnnxTrainer.Ir.Shapes.ShapeInference.Run(graph, 17);

        Assert.Null(ClassifierHead.Find(graph));
    }

    [Theory]
    [InlineData("pooled")] // [N, C, 1, 1], like CNTK's ResNet-18
    [InlineData("flat")] // [N, C]
    [InlineData("blockOut")] // a feature map [N, C, H, W]
    public void RemoveHead_GraphEndingInFeatures_KeptWhole(string end)
    {
        var (graph, named) = SmallResNet();
        GraphCut.At(graph, named[end]);
        int nodes = graph.Nodes.Count;

        var head = GraphCut.RemoveHead(graph);

        Assert.Null(head);
        Assert.Equal(nodes, graph.Nodes.Count);
        Assert.Equal([named[end]], graph.Outputs);
    }

    [Fact]
    public void RemoveHead_GraphEndingInNeitherClassifierNorFeatures_ErrorSaysWhatIsNeeded()
    {
        var (graph, named) = SmallResNet();
        var b = new GraphBuilder(graph, 17, "tail");
        var rank3 = b.Squeeze(named["pooled"], 3);
        rank3.Type = new TensorType(DataType.Float, [Dim.Named("N"), 4, 1]);
        graph.Outputs.Clear();
        graph.Outputs.Add(rank3);

        var error = Assert.Throws<GraphException>(() => GraphCut.RemoveHead(graph));

        Assert.Contains("neither a classifier", error.Message);
    }
}
